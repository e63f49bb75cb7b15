"""python-fido2 as the WebAuthn client of an RP (Fido2Client + Fido2Server) in the wrong-PIN scenarios
(test/scenarios). One phase per run; the test power-cycles or inspects the device between phases through
vfido's public API, and the phases share the RP's stored credential through the --state file.

--phase register         set the PIN (python-fido2's ClientPin), register a credential with
                         userVerification 'required' and pin=--pin, save it in --state
--phase authenticate     --times N authentications with pin=--pin; each outcome is "OK" (Fido2Server
                         verified the assertion, UV flag included) or "<ClientError>(<CTAP cause>)", the
                         WebAuthn-level error python-fido2 raises; then getPINRetries (if not blocked)
--phase reset            authenticatorReset (within the reset window: the test power-cycles first); the old
                         credential is gone (DEVICE_INELIGIBLE), clientPin is unset, and a new PIN and a new
                         registration work
"""

import json

from fido2.client import ClientError, Fido2Client
from fido2.ctap import CtapError
from fido2.ctap2 import AttestedCredentialData, Ctap2
from fido2.ctap2.pin import ClientPin
from fido2.server import Fido2Server
from fido2.webauthn import PublicKeyCredentialParameters

from common import ES256, ORIGIN, ORIGIN_HOST, Checks, connect, expect, flags_detail, parse_args, random_bytes, status_name


def add_arguments(parser):
    parser.add_argument("--phase", choices=("register", "authenticate", "reset"), required=True)
    parser.add_argument("--state", required=True, help="JSON file holding the RP's registered credential")
    parser.add_argument("--pin", help="the PIN the user types")
    parser.add_argument("--new-pin", help="reset phase: the PIN set after the reset")
    parser.add_argument("--times", type=int, default=1)


def server():
    s = Fido2Server({"id": ORIGIN_HOST, "name": "vfido scenario"}, attestation="none")
    s.allowed_algorithms = [PublicKeyCredentialParameters("public-key", ES256)]
    return s


def client_error(e):
    cause = getattr(e.cause, "code", None)
    return "%s(%s)" % (e.code.name, status_name(cause) if cause is not None else e.cause)


def register(device, pin, user_verification="required"):
    s = server()
    client = Fido2Client(device, ORIGIN)
    options, state = s.register_begin({"id": random_bytes(16), "name": "riley"}, user_verification=user_verification)
    created = client.make_credential(options["publicKey"], pin=pin)
    auth_data = s.register_complete(state, created.client_data, created.attestation_object)
    return auth_data


def authenticate(device, cred, pin):
    """One WebAuthn authentication the RP verifies; "OK" or the client error."""
    s = server()
    request, state = s.authenticate_begin([cred], user_verification="required")
    try:
        response = Fido2Client(device, ORIGIN).get_assertion(request["publicKey"], pin=pin).get_response(0)
    except ClientError as e:
        return client_error(e)
    s.authenticate_complete(
        state, [cred], response.credential_id, response.client_data, response.authenticator_data, response.signature
    )
    expect(response.authenticator_data.is_user_verified(), "assertion without the UV flag")
    return "OK"


def pin_retries(ctap2):
    try:
        retries, power_cycle_state = ClientPin(ctap2).get_pin_retries()
        return {"pinRetries": retries, "powerCycleState": power_cycle_state}
    except CtapError as e:
        return {"error": status_name(e.code)}


def main():
    args = parse_args(__doc__, add_arguments)
    checks = Checks()
    device = connect(args)

    def phase_register():
        ClientPin(Ctap2(device)).set_pin(args.pin)
        auth_data = register(device, args.pin)
        with open(args.state, "w") as f:
            json.dump({"credential": bytes(auth_data.credential_data).hex()}, f)
        return {"flags": flags_detail(auth_data)}

    def load_credential():
        with open(args.state) as f:
            return AttestedCredentialData(bytes.fromhex(json.load(f)["credential"]))

    def phase_authenticate():
        cred = load_credential()
        outcomes = [authenticate(device, cred, args.pin) for _ in range(args.times)]
        return dict(pin_retries(Ctap2(device)), outcomes=outcomes)

    def phase_reset():
        ctap2 = Ctap2(device)
        ctap2.reset()
        client_pin = ctap2.get_info().options.get("clientPin")
        # The RP's credential is gone: without a PIN on the device python-fido2 sends no token and the key
        # has nothing for the allowList.
        s = server()
        request, _ = s.authenticate_begin([load_credential()], user_verification="discouraged")
        try:
            Fido2Client(device, ORIGIN).get_assertion(request["publicKey"])
            old = "OK"
        except ClientError as e:
            old = client_error(e)
        ClientPin(ctap2).set_pin(args.new_pin)
        auth_data = register(device, args.new_pin)
        return dict(pin_retries(ctap2), clientPinAfterReset=client_pin, oldCredential=old, newRegistration=flags_detail(auth_data))

    checks.run("scenario." + args.phase, {"register": phase_register, "authenticate": phase_authenticate, "reset": phase_reset}[args.phase])
    device.close()
    checks.finish()


if __name__ == "__main__":
    main()
