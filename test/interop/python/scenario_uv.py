"""python-fido2 in the built-in UV scenarios (test/scenarios): what a platform sees when the sensor does not
recognise the user. The device's sensor is scripted by the test when it starts the device.

--mode retry    the platform asks for a pinUvAuthToken with built-in UV (getPinUvAuthTokenUsingUvWithPermissions)
                until it gets one, reading getUVRetries after each attempt; the token then authorises a
                makeCredential and a getAssertion (UV flag, signature verified)
--mode blocked  a PIN is set; UV token requests until UV_BLOCKED, one more (still UV_BLOCKED); the WebAuthn
                client without a PIN (python-fido2 sends uv=true) is refused; with the PIN (the fallback) an RP
                registers and authenticates with UV; getUVRetries afterwards
Each attempt's outcome is "OK" or the CTAP 2.1 status name.
"""

from fido2.client import ClientError, Fido2Client
from fido2.ctap import CtapError
from fido2.ctap2.pin import ClientPin
from fido2.server import Fido2Server
from fido2.webauthn import PublicKeyCredentialParameters

from common import (
    ES256,
    GA,
    MC,
    ORIGIN,
    ORIGIN_HOST,
    check_verified_assertion,
    check_verified_credential,
    expect,
    flags_detail,
    random_bytes,
    register_and_authenticate,
    start,
    status_name,
    unique_rp_id,
    uv_get_assertion,
    uv_make_credential,
)

PIN = "8642"


def add_arguments(parser):
    parser.add_argument("--mode", choices=("retry", "blocked"), required=True)
    parser.add_argument("--max-attempts", type=int, default=10)


def main():
    args, checks, device, ctap2 = start(__doc__, add_arguments)
    cp = ClientPin(ctap2)  # the protocol python-fido2 prefers (2)
    rp_id = unique_rp_id("scenario-uv")

    def request_uv_token(until):
        """UV token requests until one's outcome is in `until`; [{outcome, uvRetries}], last token."""
        attempts, token = [], None
        for _ in range(args.max_attempts):
            try:
                token = cp.get_uv_token(MC | GA, rp_id)
                outcome = "OK"
            except CtapError as e:
                outcome = status_name(e.code)
            attempts.append({"outcome": outcome, "uvRetries": cp.get_uv_retries()[0]})
            if outcome in until:
                break
        return attempts, token

    def retry():
        before = cp.get_uv_retries()[0]
        attempts, token = request_uv_token(("OK",))
        expect(attempts[-1]["outcome"] == "OK", "no UV token after %d attempts" % len(attempts))
        att, _ = uv_make_credential(ctap2, rp_id, cp.protocol, token)
        cred = check_verified_credential(att, rp_id, ctap2.info.aaguid)
        a, cdh = uv_get_assertion(ctap2, rp_id, cp.protocol, cp.get_uv_token(GA, rp_id), allow=[{"type": "public-key", "id": cred.credential_id}])
        check_verified_assertion(a, cdh, rp_id, cred)
        return {"uvRetriesBefore": before, "attempts": attempts, "flags": flags_detail(att.auth_data), "assertionFlags": flags_detail(a.auth_data)}

    def blocked():
        cp.set_pin(PIN)
        before = cp.get_uv_retries()[0]
        attempts, _ = request_uv_token(("OK", "UV_BLOCKED"))
        try:
            cp.get_uv_token(MC | GA, rp_id)
            again = "OK"
        except CtapError as e:
            again = status_name(e.code)
        uv_option = ctap2.get_info().options.get("uv")

        s = Fido2Server({"id": ORIGIN_HOST, "name": "vfido scenario"}, attestation="none")
        s.allowed_algorithms = [PublicKeyCredentialParameters("public-key", ES256)]
        user = {"id": random_bytes(16), "name": "morgan"}
        try:
            options, _ = s.register_begin(user, user_verification="required")
            Fido2Client(device, ORIGIN).make_credential(options["publicKey"])
            without_pin = "OK"
        except ClientError as e:
            cause = getattr(e.cause, "code", None)
            without_pin = "%s(%s)" % (e.code.name, status_name(cause) if cause is not None else e.cause)

        client = Fido2Client(device, ORIGIN)
        auth_data, response = register_and_authenticate(s, client, user, PIN)
        return {
            "uvRetriesBefore": before,
            "attempts": attempts,
            "again": again,
            "uvOptionWhileBlocked": uv_option,
            "clientWithoutPin": without_pin,
            "pinFallback": {"flags": flags_detail(auth_data), "assertionFlags": flags_detail(response.authenticator_data)},
            "uvRetriesAfterPin": cp.get_uv_retries()[0],
        }

    checks.run("scenario.uv_" + args.mode, {"retry": retry, "blocked": blocked}[args.mode])
    device.close()
    checks.finish()


if __name__ == "__main__":
    main()
