"""Shared plumbing for the python-fido2 interop scripts.

Each script runs named checks and prints one JSON object per check on stdout:
    {"check": "<name>", "ok": true|false, "detail": ...}
and exits 1 if any check failed. A check is a function that raises on failure and returns its detail.
Verification always goes through python-fido2's own code (Info, AttestationObject, Attestation classes,
CoseKey.verify, Fido2Server), never through hand-written crypto.
"""

import argparse
import base64
import enum
import hashlib
import json
import os
import sys
import traceback

from fido2.attestation import (
    Attestation,
    AttestationType,
    PackedAttestation,
)
from fido2.ctap import CtapError
from fido2.server import AttestationVerifier

from vfido_udp import open_device

ES256 = -7
EDDSA = -8
ALG_NAMES = {ES256: "ES256", EDDSA: "EdDSA"}


def parse_args(description, add_arguments=None):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True, help="UDP port of the vfido device")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for each report")
    parser.add_argument(
        "--ca-cert",
        help="the device's attestation CA certificate (DER or PEM file), to verify packed x5c chains",
    )
    if add_arguments:
        add_arguments(parser)
    return parser.parse_args()


def load_ca(path):
    """DER bytes of the CA certificate at `path` (DER or PEM), or None."""
    if not path:
        return None
    with open(path, "rb") as f:
        data = f.read()
    if b"-----BEGIN CERTIFICATE-----" in data:
        body = data.split(b"-----BEGIN CERTIFICATE-----")[1].split(b"-----END CERTIFICATE-----")[0]
        return base64.b64decode(b"".join(body.split()))
    return data


def connect(args):
    return open_device(args.host, args.port, args.timeout)


def sha256(data):
    return hashlib.sha256(data).digest()


def random_bytes(n):
    return os.urandom(n)


def unique_rp_id(prefix):
    """An RP ID no other check uses, so checks sharing one device never see each other's credentials."""
    return "%s-%s.example.com" % (prefix, os.urandom(4).hex())


def to_json(value):
    """Make python-fido2 values JSON-friendly: bytes -> hex, enums -> names, mappings/sequences recursively."""
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    if isinstance(value, dict):
        return {str(to_json(k)): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def expect(condition, message):
    if not condition:
        raise AssertionError(message)


def expect_ctap_error(code, fn, *args, **kwargs):
    """Run fn and require it to fail with CtapError `code`; returns the error's name."""
    try:
        fn(*args, **kwargs)
    except CtapError as e:
        expect(e.code == code, "expected CTAP error %s, got %s" % (code.name, e.code))
        return e.code.name
    raise AssertionError("expected CTAP error %s, but the command succeeded" % code.name)


class Checks:
    """Runs checks, prints one JSON line per check, remembers failures."""

    def __init__(self):
        self.failures = 0

    def run(self, name, fn, *args, **kwargs):
        try:
            detail = fn(*args, **kwargs)
            ok = True
        except CtapError as e:
            ok = False
            detail = {"error": "CtapError", "code": to_json(e.code), "message": str(e)}
        except Exception as e:  # noqa: BLE001 - every failure becomes a reported check
            ok = False
            detail = {
                "error": type(e).__name__,
                "message": str(e) or repr(e),
                "where": traceback.format_exc().strip().splitlines()[-3:],
            }
        if not ok:
            self.failures += 1
        print(json.dumps({"check": name, "ok": ok, "detail": to_json(detail)}), flush=True)
        return detail if ok else None

    def finish(self):
        sys.exit(1 if self.failures else 0)


def flags_detail(auth_data):
    return {
        "up": auth_data.is_user_present(),
        "uv": auth_data.is_user_verified(),
        "at": auth_data.is_attested(),
        "ed": auth_data.has_extension_data(),
        "raw": auth_data.flags,
    }


class _CaVerifier(AttestationVerifier):
    """python-fido2's trust-path verification, rooted at the device's test CA."""

    def __init__(self, ca_der):
        super().__init__([PackedAttestation()])
        self._ca_der = ca_der

    def ca_lookup(self, attestation_result, auth_data):
        return [self._ca_der]


def verify_attestation(att_obj, client_data_hash, ca_der):
    """Verify an attestation object with python-fido2's Attestation for its fmt; x5c chains up to ca_der.

    Returns {"fmt", "attestationType", "x5cLength"}; raises on any failure.
    """
    verifier = Attestation.for_type(att_obj.fmt)()
    result = verifier.verify(att_obj.att_statement, att_obj.auth_data, client_data_hash)
    kind = result.attestation_type
    if kind is AttestationType.BASIC:
        expect(ca_der is not None, "packed x5c attestation, but no --ca-cert was given to check its chain")
        _CaVerifier(ca_der).verify_attestation(att_obj, client_data_hash)
    else:
        expect(
            kind in (AttestationType.NONE, AttestationType.SELF),
            "unexpected attestation type %r" % (kind,),
        )
    return {
        "fmt": att_obj.fmt,
        "attestationType": kind.name,
        "x5cLength": len(result.trust_path),
    }


def check_new_credential(att_obj, rp_id, alg, info_aaguid):
    """Structural checks on makeCredential output that every attestation format shares."""
    auth_data = att_obj.auth_data
    expect(auth_data.rp_id_hash == sha256(rp_id.encode()), "rpIdHash is not SHA-256(rpId)")
    expect(auth_data.is_user_present(), "UP flag not set on makeCredential")
    expect(auth_data.is_attested(), "AT flag not set on makeCredential")
    expect(not auth_data.is_user_verified(), "UV flag set although no UV was requested")
    cred = auth_data.credential_data
    expect(cred is not None, "no attested credential data")
    expect(cred.public_key.ALGORITHM == alg, "credential key alg %r, requested %r" % (cred.public_key.ALGORITHM, alg))
    # Self attestation may carry a zero AAGUID (WebAuthn §8.2 allows it; Chromium expects it); otherwise the
    # AAGUID in authData is the one getInfo reports.
    expect(
        cred.aaguid in (info_aaguid, bytes(16)),
        "authData AAGUID %s is neither getInfo's %s nor zero" % (cred.aaguid.hex(), info_aaguid.hex()),
    )
    expect(0 < len(cred.credential_id) <= 1023, "credential ID length %d" % len(cred.credential_id))
    return cred
