#!/usr/bin/env bash
# Install the system packages the interop suites need (Debian/Ubuntu): Yubico's python-fido2 and libfido2
# (with its headers and tools), a C compiler and pkg-config to build the libfido2 shim, and libusb.
#
#   bash scripts/setup-system.sh            install whatever is missing (apt-get update first, only if needed)
#   bash scripts/setup-system.sh --ensure   fast and quiet when everything is present (npm's pretest hook)
#
# Idempotent. Uses sudo when not root and sudo exists; otherwise prints the apt-get command and exits 1.
set -euo pipefail

PACKAGES=(python3-fido2 libfido2-dev fido2-tools gcc pkg-config libusb-1.0-0)
# The interop scripts run Debian's interpreter (a pyenv/venv python3 on PATH does not see Debian packages).
PYTHON=/usr/bin/python3

ensure=0
case "${1:-}" in
  '') ;;
  --ensure) ensure=1 ;;
  -h | --help)
    sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
  *)
    echo "setup-system.sh: unknown argument '$1' (expected --ensure or nothing)" >&2
    exit 2
    ;;
esac

say() { if [ "$ensure" -eq 0 ]; then echo "setup-system.sh: $*"; fi; }

# Packages dpkg does not list as installed ("install ok installed").
missing_packages() {
  local p status
  for p in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    if [ "$status" != "install ok installed" ]; then echo "$p"; fi
  done
}

python_fido2_ok() { [ -x "$PYTHON" ] && "$PYTHON" -c 'import fido2' >/dev/null 2>&1; }

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  # Not Debian-like: we cannot install, but the suites may still run if the tools are there.
  if python_fido2_ok && command -v pkg-config >/dev/null 2>&1 && pkg-config --exists libfido2 && command -v gcc >/dev/null 2>&1; then
    say "no apt/dpkg here, but python-fido2, libfido2 and gcc are present"
    exit 0
  fi
  echo "setup-system.sh: this script needs apt-get and dpkg-query (Debian/Ubuntu)." >&2
  echo "Install by hand: python-fido2 0.9.x for $PYTHON, libfido2 1.12 with headers and pkg-config file, fido2-tools, gcc, pkg-config, libusb-1.0." >&2
  exit 1
fi

mapfile -t missing < <(missing_packages)

if [ "${#missing[@]}" -eq 0 ] && python_fido2_ok; then
  say "all present: ${PACKAGES[*]}"
  exit 0
fi

if [ "${#missing[@]}" -eq 0 ]; then
  # Everything is installed per dpkg but the import fails: reinstalling the package is the fix.
  missing=(python3-fido2)
  echo "setup-system.sh: $PYTHON cannot import fido2; reinstalling python3-fido2" >&2
fi

echo "setup-system.sh: installing ${missing[*]}" >&2

if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1; then
  SUDO=(sudo)
else
  echo "setup-system.sh: not root and no sudo. Run as root:" >&2
  echo "  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi

# apt-get update only because something is missing (a fresh machine's package lists may be empty or stale).
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"

if ! python_fido2_ok; then
  echo "setup-system.sh: installed, but '$PYTHON -c \"import fido2\"' still fails" >&2
  exit 1
fi
still_missing=$(missing_packages)
if [ -n "$still_missing" ]; then
  echo "setup-system.sh: still missing after install: $still_missing" >&2
  exit 1
fi
say "done"
