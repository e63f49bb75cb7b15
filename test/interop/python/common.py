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
import time
import traceback

from fido2.attestation import (
    Attestation,
    AttestationType,
    PackedAttestation,
)
from fido2.ctap import CtapError
from fido2.ctap2 import Ctap2
from fido2.ctap2.pin import ClientPin, PinProtocolV1, PinProtocolV2
from fido2.server import AttestationVerifier

from vfido_udp import open_device, power_cycle

ES256 = -7
EDDSA = -8
ALG_NAMES = {ES256: "ES256", EDDSA: "EdDSA"}
# The WebAuthn origin the Fido2Client-based checks use.
ORIGIN_HOST = "example.com"
ORIGIN = "https://" + ORIGIN_HOST
MC = ClientPin.PERMISSION.MAKE_CREDENTIAL
GA = ClientPin.PERMISSION.GET_ASSERTION


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


def start(description, add_arguments=None):
    """The opening of every script's main(): arguments, a Checks runner, the device and a Ctap2 on it.
    Returns (args, checks, device, ctap2)."""
    args = parse_args(description, add_arguments)
    checks = Checks()
    device = connect(args)
    return args, checks, device, Ctap2(device)


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


# ---- PIN / UV helpers (issue 3) ----------------------------------------------------------------------

# python-fido2 0.9.1 names 0x36 PIN_REQUIRED (CTAP 2.1: CTAP2_ERR_PUAT_REQUIRED) and misspells 0x3C UV_BLOCKD;
# reports use the CTAP 2.1 names without the CTAP2_ERR_ prefix.
_SPEC_NAMES = {0x36: "PUAT_REQUIRED", 0x3C: "UV_BLOCKED"}

# The device handles the power-cycle datagram asynchronously and does not answer it; wait this long before
# the next report (the same settle time reset.py uses).
POWER_CYCLE_SETTLE_SECONDS = 0.2


def status_name(code):
    """CTAP 2.1 name of a CTAP status code (CtapError.ERR or int), e.g. 'PIN_AUTH_BLOCKED'."""
    code = int(code)
    if code in _SPEC_NAMES:
        return _SPEC_NAMES[code]
    try:
        return CtapError.ERR(code).name
    except ValueError:
        return "UNKNOWN(0x%02X)" % code


def outcome(fn, *args, **kwargs):
    """Run fn; 'OK' if it returns, else the CTAP 2.1 name of the CtapError it raised (other errors propagate)."""
    try:
        fn(*args, **kwargs)
        return "OK"
    except CtapError as e:
        return status_name(e.code)


def expect_status(expected, fn, *args, **kwargs):
    """Run fn and require the outcome `expected` ('OK' or a CTAP 2.1 status name); returns it."""
    got = outcome(fn, *args, **kwargs)
    expect(got == expected, "expected %s, got %s" % (expected, got))
    return got


def power_cycle_device(args):
    """Send the UDP power-cycle datagram to the device under test and wait for it to take effect."""
    power_cycle(args.host, args.port)
    time.sleep(POWER_CYCLE_SETTLE_SECONDS)


def add_protocol_argument(parser):
    parser.add_argument("--protocol", type=int, choices=(1, 2), required=True, help="PIN/UV auth protocol")


def pin_protocol(version):
    """A python-fido2 PinProtocolV1 / PinProtocolV2 instance."""
    return {1: PinProtocolV1, 2: PinProtocolV2}[version]()


def uv_make_credential(ctap2, rp_id, protocol=None, token=None, rk=False, uv_option=False, user_id=None, alg=ES256):
    """makeCredential authorised by a pinUvAuthToken (pinUvAuthParam computed by python-fido2's protocol) or
    by the uv option (built-in UV); returns (attestation object, clientDataHash)."""
    cdh = sha256(random_bytes(32))
    options = {}
    if rk:
        options["rk"] = True
    if uv_option:
        options["uv"] = True
    return (
        ctap2.make_credential(
            cdh,
            {"id": rp_id, "name": "vfido interop"},
            {"id": user_id or random_bytes(16), "name": "pat", "displayName": "Pat"},
            [{"type": "public-key", "alg": alg}],
            options=options or None,
            pin_uv_param=protocol.authenticate(token, cdh) if token is not None else None,
            pin_uv_protocol=protocol.VERSION if token is not None else None,
        ),
        cdh,
    )


def uv_get_assertion(ctap2, rp_id, protocol=None, token=None, allow=None, uv_option=False):
    """getAssertion authorised like uv_make_credential; returns (assertion, clientDataHash)."""
    cdh = sha256(random_bytes(32))
    return (
        ctap2.get_assertion(
            rp_id,
            cdh,
            allow,
            options={"uv": True} if uv_option else None,
            pin_uv_param=protocol.authenticate(token, cdh) if token is not None else None,
            pin_uv_protocol=protocol.VERSION if token is not None else None,
        ),
        cdh,
    )


def check_verified_credential(att, rp_id, info_aaguid):
    """A new credential made with user verification: UP, UV and AT set, correct rpIdHash and AAGUID."""
    auth_data = att.auth_data
    expect(auth_data.rp_id_hash == sha256(rp_id.encode()), "rpIdHash is not SHA-256(rpId)")
    expect(auth_data.is_user_present(), "UP flag not set on makeCredential")
    expect(auth_data.is_user_verified(), "UV flag not set although the request carried user verification")
    expect(auth_data.is_attested(), "AT flag not set on makeCredential")
    cred = auth_data.credential_data
    expect(cred is not None, "no attested credential data")
    expect(cred.aaguid in (info_aaguid, bytes(16)), "unexpected AAGUID %s" % cred.aaguid.hex())
    return cred


def check_verified_assertion(assertion, cdh, rp_id, cred):
    """An assertion made with user verification by `cred`: UP and UV set, signature verified by python-fido2."""
    expect(assertion.auth_data.rp_id_hash == sha256(rp_id.encode()), "assertion rpIdHash is wrong")
    expect(assertion.auth_data.is_user_present(), "assertion UP flag not set")
    expect(assertion.auth_data.is_user_verified(), "assertion UV flag not set")
    expect(assertion.credential["id"] == cred.credential_id, "assertion names another credential")
    assertion.verify(cdh, cred.public_key)


def register_and_authenticate(server, client, user, pin=None):
    """Fido2Server registration then authentication, both with userVerification "required", through `client`
    (with `pin`, or without: python-fido2 then asks for built-in UV). Returns (registration authData, assertion
    response); register_complete / authenticate_complete raise if the device's answers do not verify."""
    options, reg_state = server.register_begin(user, user_verification="required")
    created = client.make_credential(options["publicKey"], pin=pin)
    auth_data = server.register_complete(reg_state, created.client_data, created.attestation_object)
    cred = auth_data.credential_data
    request, auth_state = server.authenticate_begin([cred], user_verification="required")
    response = client.get_assertion(request["publicKey"], pin=pin).get_response(0)
    server.authenticate_complete(
        auth_state, [cred], response.credential_id, response.client_data, response.authenticator_data, response.signature
    )
    return auth_data, response
