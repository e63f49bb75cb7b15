"""python-fido2 interop: CTAP1 / U2F over CTAPHID_MSG through python-fido2's Ctap1 class.

  * CTAPHID INIT capabilities: CBOR iff --expect-cbor, NMSG clear (the device answers MSG);
  * VERSION → "U2F_V2";
  * REGISTER: RegistrationData (0x05 || P-256 key || key handle || certificate || signature), the
    attestation signature checked by python-fido2's FidoU2FAttestation (as AttestationObject.from_ctap1,
    the fido-u2f attestation a WebAuthn client builds) and, with --ca-cert, chained to the device CA;
  * AUTHENTICATE enforce-up (P1 0x03): SignatureData verified against the registered key, counter rising;
    check-only (P1 0x07) → SW 0x6985 for a handle of this application, 0x6A80 for another application or a
    bogus handle;
  * with --expect-cbor: the U2F key handle works in CTAP2 getAssertion (allowList) for the rpId whose
    SHA-256 is the U2F application parameter, on the same signature counter; another rpId → NO_CREDENTIALS;
  * without: CTAPHID_CBOR is answered with CTAPHID ERROR INVALID_CMD, python-fido2's Ctap2 refuses the
    device, and Fido2Client falls back to CTAP1 (register + authenticate) verified by Fido2Server;
  * unknown INS → 0x6D00, CLA ≠ 0 → 0x6E00.
"""

import time

from fido2.attestation import FidoU2FAttestation
from fido2.client import Fido2Client
from fido2.cose import ES256
from fido2.ctap import CtapError
from fido2.ctap1 import APDU, ApduError, Ctap1
from fido2.ctap2 import AttestationObject, Ctap2
from fido2.hid import CAPABILITY, CTAPHID
from fido2.server import AttestationVerifier, Fido2Server
from fido2.webauthn import PublicKeyCredentialParameters

from common import Checks, connect, expect, load_ca, parse_args, random_bytes, sha256, status_name, unique_rp_id

# U2F user presence is not blocking: the device may answer 0x6985 until the "touch" comes; poll like a client.
POLL_DELAY_SECONDS = 0.05
POLL_ATTEMPTS = 100
SW_INS_NOT_SUPPORTED = 0x6D00
SW_CLA_NOT_SUPPORTED = 0x6E00


def add_arguments(parser):
    parser.add_argument("--expect-cbor", action="store_true", help="the device also speaks CTAP2 (CBOR capability)")


def poll(fn, *args):
    """Call fn until it stops failing with SW_CONDITIONS_NOT_SATISFIED; returns (result, polls)."""
    for attempt in range(POLL_ATTEMPTS):
        try:
            return fn(*args), attempt
        except ApduError as e:
            if e.code != APDU.USE_NOT_SATISFIED:
                raise
            time.sleep(POLL_DELAY_SECONDS)
    raise AssertionError("no user presence after %d polls" % POLL_ATTEMPTS)


def apdu_status(fn, *args, **kwargs):
    """The status word fn's APDU got (0x9000 if it succeeded)."""
    try:
        fn(*args, **kwargs)
        return APDU.OK
    except ApduError as e:
        return e.code


class _U2fCaVerifier(AttestationVerifier):
    def __init__(self, ca_der):
        super().__init__([FidoU2FAttestation()])
        self._ca_der = ca_der

    def ca_lookup(self, attestation_result, auth_data):
        return [self._ca_der]


def main():
    args = parse_args(__doc__, add_arguments)
    checks = Checks()
    device = connect(args)
    ctap1 = Ctap1(device)
    ca_der = load_ca(args.ca_cert)
    state = {}

    def capabilities():
        caps = device.capabilities
        expect(bool(caps & CAPABILITY.CBOR) == args.expect_cbor, "CBOR capability %s" % bool(caps & CAPABILITY.CBOR))
        expect(not caps & CAPABILITY.NMSG, "NMSG is set although the device must answer CTAPHID_MSG")
        return {"cbor": bool(caps & CAPABILITY.CBOR), "nmsg": bool(caps & CAPABILITY.NMSG), "raw": caps}

    def version():
        return {"version": ctap1.get_version()}

    def register():
        rp_id = unique_rp_id("u2f")
        app, cdh = sha256(rp_id.encode()), sha256(random_bytes(32))
        reg, polls = poll(ctap1.register, cdh, app)
        reg.verify(app, cdh)  # python-fido2's own check of the attestation signature
        att = AttestationObject.from_ctap1(app, reg)
        result = FidoU2FAttestation().verify(att.att_statement, att.auth_data, cdh)
        chained = False
        if ca_der is not None:
            _U2fCaVerifier(ca_der).verify_attestation(att, cdh)
            chained = True
        expect(reg.public_key[:1] == b"\x04" and len(reg.public_key) == 65, "user public key is not an uncompressed P-256 point")
        state.update(rp_id=rp_id, app=app, reg=reg)
        return {
            "polls": polls,
            "publicKeyLength": len(reg.public_key),
            "keyHandleLength": len(reg.key_handle),
            "certificateLength": len(reg.certificate),
            "attestationType": result.attestation_type.name,
            "chainedToCa": chained,
        }

    def authenticate():
        reg, app = state["reg"], state["app"]
        counters = []
        for _ in range(2):
            cdh = sha256(random_bytes(32))
            sig, _polls = poll(ctap1.authenticate, cdh, app, reg.key_handle)
            sig.verify(app, cdh, reg.public_key)
            expect(sig.user_presence & 0x01, "user presence byte 0x%02x" % sig.user_presence)
            counters.append(sig.counter)
        expect(counters[1] > counters[0], "counter did not rise: %r" % counters)
        state["counter"] = counters[-1]
        return {"userPresence": sig.user_presence, "counters": counters}

    def check_only():
        reg, app = state["reg"], state["app"]
        cdh = sha256(random_bytes(32))
        own = apdu_status(ctap1.authenticate, cdh, app, reg.key_handle, check_only=True)
        other_app = apdu_status(ctap1.authenticate, cdh, sha256(b"other.example.com"), reg.key_handle, check_only=True)
        bogus = apdu_status(ctap1.authenticate, cdh, app, random_bytes(len(reg.key_handle)), check_only=True)
        sign_other_app = apdu_status(ctap1.authenticate, cdh, sha256(b"other.example.com"), reg.key_handle)
        return {"ownHandle": own, "otherApplication": other_app, "bogusHandle": bogus, "signOtherApplication": sign_other_app}

    def bad_apdus():
        return {
            "unknownIns": apdu_status(ctap1.send_apdu, ins=0x55),
            "claNotZero": apdu_status(ctap1.send_apdu, cla=0x80, ins=Ctap1.INS.VERSION),
        }

    def ctap2_get_assertion():
        reg, rp_id = state["reg"], state["rp_id"]
        ctap2 = Ctap2(device)
        expect("U2F_V2" in ctap2.info.versions, "getInfo versions %r lack U2F_V2" % ctap2.info.versions)
        cdh = sha256(random_bytes(32))
        allow = [{"type": "public-key", "id": reg.key_handle}]
        a = ctap2.get_assertion(rp_id, cdh, allow)
        a.verify(cdh, ES256.from_ctap1(reg.public_key))
        expect(a.credential["id"] == reg.key_handle, "assertion names another credential")
        expect(a.auth_data.rp_id_hash == state["app"], "rpIdHash is not the U2F application parameter")
        expect(a.auth_data.counter > state["counter"], "CTAP2 counter %d not above the U2F counter %d" % (a.auth_data.counter, state["counter"]))
        try:
            ctap2.get_assertion(unique_rp_id("u2f-other"), cdh, allow)
            other = "OK"
        except CtapError as e:
            other = status_name(e.code)
        return {
            "versions": ctap2.info.versions,
            "flags": {"up": a.auth_data.is_user_present(), "uv": a.auth_data.is_user_verified()},
            "counter": a.auth_data.counter,
            "u2fCounter": state["counter"],
            "otherRpId": other,
        }

    def no_cbor():
        try:
            device.call(CTAPHID.CBOR, b"\x04")
            raw = "OK"
        except CtapError as e:
            raw = "CTAPHID_ERR_%s" % e.code.name
        try:
            Ctap2(device)
            ctap2 = "accepted"
        except ValueError as e:
            ctap2 = str(e)
        return {"cborCommand": raw, "ctap2": ctap2}

    def client_fallback():
        rp_id = unique_rp_id("u2f-client")
        origin = "https://" + rp_id
        server = Fido2Server({"id": rp_id, "name": "vfido u2f"}, attestation="direct", verify_attestation=_U2fCaVerifier(ca_der) if ca_der else None)
        server.allowed_algorithms = [PublicKeyCredentialParameters("public-key", -7)]
        client = Fido2Client(device, origin)
        client.ctap1_poll_delay = POLL_DELAY_SECONDS
        expect(client.info.versions == ["U2F_V2"], "Fido2Client did not fall back to CTAP1: %r" % client.info.versions)
        options, reg_state = server.register_begin({"id": random_bytes(16), "name": "uma"}, user_verification="discouraged")
        created = client.make_credential(options["publicKey"])
        auth_data = server.register_complete(reg_state, created.client_data, created.attestation_object)
        request, auth_state = server.authenticate_begin([auth_data.credential_data], user_verification="discouraged")
        response = client.get_assertion(request["publicKey"]).get_response(0)
        server.authenticate_complete(
            auth_state,
            [auth_data.credential_data],
            response.credential_id,
            response.client_data,
            response.authenticator_data,
            response.signature,
        )
        return {"fmt": created.attestation_object.fmt, "assertionCounter": response.authenticator_data.counter}

    checks.run("u2f.capabilities", capabilities)
    checks.run("u2f.version", version)
    if checks.run("u2f.register", register) is not None:
        checks.run("u2f.authenticate", authenticate)
        checks.run("u2f.check_only", check_only)
        if args.expect_cbor:
            checks.run("u2f.ctap2_get_assertion", ctap2_get_assertion)
    checks.run("u2f.bad_apdus", bad_apdus)
    if not args.expect_cbor:
        checks.run("u2f.no_cbor", no_cbor)
        checks.run("u2f.client_fallback", client_fallback)
    device.close()
    checks.finish()


if __name__ == "__main__":
    main()
