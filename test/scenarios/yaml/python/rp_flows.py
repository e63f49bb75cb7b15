"""python-fido2 as the browser and the relying party of the YAML scenarios (test/scenarios/yaml).

The device was started from a scenario file; this script only does what a platform and an RP do, and reports
what they saw. One action per run, one JSON check line ("scenario.<action>"); the check passes whenever the
flow ran to its end, and its detail says how it ended (the test asserts that):

--action register       Fido2Client.make_credential (python-fido2 falls back to CTAP1 on a U2F-only key),
                        then Fido2Server.register_complete (+ the attestation statement verified by
                        python-fido2's Attestation class when it is not "none")
--action authenticate   Fido2Client.get_assertion for a credential the RP holds (--credential-id, --public-key:
                        what the control API returned when the scenario injected it), or for the one just
                        registered (--register-first), or a passkey login without allowCredentials
                        (--discoverable), then Fido2Server.authenticate_complete
--action uv-token       a CTAP 2.1 platform (as Chromium's auth token requester): built-in UV token requests
                        (getPinUvAuthTokenUsingUvWithPermissions) until one succeeds; on UV_BLOCKED the PIN
                        (--pin) instead; the token then makes a credential and a fresh one an assertion, both
                        verified by Fido2Server with userVerification "required"

Outcomes: "OK", or "<ClientError code>(<CTAP 2.1 status of its cause>)", or "<ClientError code>" when the
client refused by itself (no CTAP status).
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "interop", "python"))

from fido2 import cbor  # noqa: E402
from fido2.attestation import Attestation  # noqa: E402
from fido2.client import ClientData, ClientError, Fido2Client  # noqa: E402
from fido2.ctap import CtapError  # noqa: E402
from fido2.ctap2 import AttestedCredentialData, Ctap2  # noqa: E402
from fido2.ctap2.pin import ClientPin  # noqa: E402
from fido2.server import Fido2Server  # noqa: E402
from fido2.utils import websafe_decode, websafe_encode  # noqa: E402
from fido2.webauthn import PublicKeyCredentialParameters  # noqa: E402

from common import ES256, Checks, connect, expect, flags_detail, parse_args, random_bytes, status_name  # noqa: E402

MC = ClientPin.PERMISSION.MAKE_CREDENTIAL
GA = ClientPin.PERMISSION.GET_ASSERTION


def add_arguments(parser):
    parser.add_argument("--action", choices=("register", "authenticate", "uv-token"), required=True)
    parser.add_argument("--rp-id", default="example.com")
    parser.add_argument("--resident-key", action="store_true", help="requireResidentKey (a passkey)")
    parser.add_argument("--uv", choices=("required", "preferred", "discouraged"), default="discouraged")
    parser.add_argument("--attestation", choices=("none", "direct"), default="none")
    parser.add_argument("--credential-id", help="base64url credential ID the RP holds")
    parser.add_argument("--public-key", help="base64url COSE public key the RP holds for it")
    parser.add_argument("--register-first", action="store_true", help="register a credential, then authenticate with it")
    parser.add_argument("--discoverable", action="store_true", help="no allowCredentials (passkey login)")
    parser.add_argument("--pin", help="the PIN the user types when built-in UV is blocked")
    parser.add_argument("--max-attempts", type=int, default=10)


def outcome_of(e):
    """A ClientError as "CODE(STATUS)" (or "CODE" without a CTAP cause)."""
    cause = getattr(e.cause, "code", None)
    if isinstance(e.cause, CtapError) and cause is not None:
        return "%s(%s)" % (e.code.name, status_name(cause))
    return e.code.name


def verdict(fn):
    """Run an RP verification step: "OK" or the reason it rejected the response."""
    try:
        fn()
        return "OK"
    except Exception as e:  # noqa: BLE001 - the RP's verdict is the result
        return "%s: %s" % (type(e).__name__, e)


def main():
    args = parse_args(__doc__, add_arguments)
    origin = "https://" + args.rp_id
    checks = Checks()
    device = connect(args)
    server = Fido2Server({"id": args.rp_id, "name": "vfido scenario RP"}, attestation=args.attestation)
    server.allowed_algorithms = [PublicKeyCredentialParameters("public-key", ES256)]

    def verify_statement(att_obj, client_data):
        # Fido2Server ignores attestation unless given a verifier: check the statement's signature ourselves.
        if att_obj.fmt != "none":
            Attestation.for_type(att_obj.fmt)().verify(att_obj.att_statement, att_obj.auth_data, client_data.hash)

    def register():
        client = Fido2Client(device, origin)
        user = {"id": random_bytes(16), "name": "pat@" + args.rp_id, "displayName": "Pat"}
        options, state = server.register_begin(user, user_verification=args.uv, resident_key=args.resident_key)
        try:
            created = client.make_credential(options["publicKey"])
        except ClientError as e:
            return {"outcome": outcome_of(e), "ctap": "CTAP2" if hasattr(client, "ctap2") else "CTAP1"}
        att = created.attestation_object

        def complete():
            server.register_complete(state, created.client_data, att)
            verify_statement(att, created.client_data)

        cred = att.auth_data.credential_data
        return {
            "outcome": "OK",
            "ctap": "CTAP2" if hasattr(client, "ctap2") else "CTAP1",
            "fmt": att.fmt,
            "flags": flags_detail(att.auth_data),
            "rp": verdict(complete),
            "credentialId": websafe_encode(cred.credential_id),
            "publicKey": websafe_encode(cbor.encode(cred.public_key)),
        }

    def authenticate():
        if args.register_first:
            reg = register()
            expect(reg["outcome"] == "OK" and reg["rp"] == "OK", "registration failed: %r" % (reg,))
            cred_id, public_key = reg["credentialId"], reg["publicKey"]
        else:
            expect(args.credential_id and args.public_key, "--credential-id and --public-key are required")
            cred_id, public_key = args.credential_id, args.public_key
        known = AttestedCredentialData.create(bytes(16), websafe_decode(cred_id), cbor.decode(websafe_decode(public_key)))
        client = Fido2Client(device, origin)
        request, state = server.authenticate_begin(None if args.discoverable else [known], user_verification=args.uv)
        try:
            selection = client.get_assertion(request["publicKey"])
        except ClientError as e:
            return {"outcome": outcome_of(e), "ctap": "CTAP2" if hasattr(client, "ctap2") else "CTAP1"}
        response = selection.get_response(0)
        rp = verdict(
            lambda: server.authenticate_complete(
                state, [known], response.credential_id, response.client_data, response.authenticator_data, response.signature
            )
        )
        return {
            "outcome": "OK",
            "ctap": "CTAP2" if hasattr(client, "ctap2") else "CTAP1",
            "credentialId": websafe_encode(response.credential_id),
            "sameCredential": response.credential_id == websafe_decode(cred_id),
            "flags": flags_detail(response.authenticator_data),
            "signCount": response.authenticator_data.counter,
            "rp": rp,
        }

    def uv_token():
        ctap2 = Ctap2(device)
        cp = ClientPin(ctap2)
        attempts, token, method = [], None, None
        for _ in range(args.max_attempts):
            try:
                token = cp.get_uv_token(MC | GA, args.rp_id)
                outcome, method = "OK", "uv"
            except CtapError as e:
                outcome = status_name(e.code)
            attempts.append({"outcome": outcome, "uvRetries": cp.get_uv_retries()[0]})
            if outcome in ("OK", "UV_BLOCKED"):
                break
        if token is None and attempts[-1]["outcome"] == "UV_BLOCKED" and args.pin:
            token, method = cp.get_pin_token(args.pin, MC | GA, args.rp_id), "pin"
        if token is None:
            return {"attempts": attempts, "outcome": attempts[-1]["outcome"]}

        user = {"id": random_bytes(16), "name": "pat@" + args.rp_id, "displayName": "Pat"}
        options, state = server.register_begin(user, user_verification="required")
        cd = ClientData.build(
            type="webauthn.create", origin=origin, challenge=websafe_encode(options["publicKey"].challenge), clientExtensions={}
        )
        att = ctap2.make_credential(
            cd.hash,
            {"id": args.rp_id, "name": "vfido scenario RP"},
            user,
            [{"type": "public-key", "alg": ES256}],
            pin_uv_param=cp.protocol.authenticate(token, cd.hash),
            pin_uv_protocol=cp.protocol.VERSION,
        )
        registered = verdict(lambda: server.register_complete(state, cd, att))
        cred = att.auth_data.credential_data

        # A fresh token for the assertion, by the method that worked (a platform asks again per operation).
        token = cp.get_uv_token(GA, args.rp_id) if method == "uv" else cp.get_pin_token(args.pin, GA, args.rp_id)
        request, state = server.authenticate_begin([cred], user_verification="required")
        cd = ClientData.build(
            type="webauthn.get", origin=origin, challenge=websafe_encode(request["publicKey"].challenge), clientExtensions={}
        )
        assertion = ctap2.get_assertion(
            args.rp_id,
            cd.hash,
            [{"type": "public-key", "id": cred.credential_id}],
            pin_uv_param=cp.protocol.authenticate(token, cd.hash),
            pin_uv_protocol=cp.protocol.VERSION,
        )
        authenticated = verdict(
            lambda: server.authenticate_complete(
                state, [cred], assertion.credential["id"], cd, assertion.auth_data, assertion.signature
            )
        )
        return {
            "attempts": attempts,
            "outcome": "OK",
            "method": method,
            "register": {"rp": registered, "flags": flags_detail(att.auth_data)},
            "authenticate": {"rp": authenticated, "flags": flags_detail(assertion.auth_data)},
            "uvRetriesAfter": cp.get_uv_retries()[0],
        }

    action = {"register": register, "authenticate": authenticate, "uv-token": uv_token}[args.action]
    checks.run("scenario." + args.action, action)
    device.close()
    checks.finish()


if __name__ == "__main__":
    main()
