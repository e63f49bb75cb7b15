"""python-fido2 interop: authenticatorClientPIN with the PIN/UV auth protocol given by --protocol (1 or 2).

python-fido2's ClientPin(ctap, PinProtocolV1() / PinProtocolV2()) does the key agreement, encrypts the PIN
and computes every pinUvAuthParam; the device must agree with it byte for byte.
  * setPIN (a second setPIN is refused), getPINRetries, changePIN (to a non-ASCII PIN);
  * getPinUvAuthTokenUsingPinWithPermissions (mc / ga, bound to an RP ID) and the superseded getPinToken;
  * makeCredential / getAssertion with pinUvAuthParam: UV flag set, the assertion verifies; one token
    authorises one operation, for its own RP and permissions only; without a token a discoverable
    credential needs UV (PUAT_REQUIRED) while a non-discoverable one does not (makeCredUvNotRqd);
  * one wrong PIN: PIN_INVALID, pinRetries - 1, restored by the right PIN;
  * Fido2Client(..., pin=...) with userVerification 'required' against Fido2Server, which rejects a
    response without the UV flag.
"""

from fido2.client import Fido2Client
from fido2.ctap2.pin import ClientPin
from fido2.server import Fido2Server
from fido2.webauthn import PublicKeyCredentialParameters

from common import (
    ES256,
    GA,
    MC,
    ORIGIN,
    ORIGIN_HOST,
    add_protocol_argument,
    check_verified_assertion,
    check_verified_credential,
    expect,
    expect_status,
    flags_detail,
    pin_protocol,
    random_bytes,
    register_and_authenticate,
    start,
    unique_rp_id,
    uv_get_assertion,
    uv_make_credential,
)

PIN = "4831"
WRONG_PIN = "0000"
# Four code points, eight UTF-8 bytes: the length rule counts code points, the hash covers the bytes.
NEW_PIN = "p\u00efn\U0001F511"


def main():
    args, checks, device, ctap2 = start(__doc__, add_protocol_argument)
    protocol = pin_protocol(args.protocol)
    aaguid = ctap2.info.aaguid
    state = {}

    def info():
        i = ctap2.get_info()
        expect(i.options.get("clientPin") is False, "clientPin option %r, expected false (no PIN yet)" % i.options.get("clientPin"))
        expect(i.options.get("pinUvAuthToken") is True, "pinUvAuthToken option is not true")
        expect(args.protocol in i.pin_uv_protocols, "protocol %d not in pinUvAuthProtocols" % args.protocol)
        state["client_pin"] = ClientPin(ctap2, protocol)
        return {
            "clientPin": i.options.get("clientPin"),
            "pinUvAuthToken": i.options.get("pinUvAuthToken"),
            "pinUvAuthProtocols": i.pin_uv_protocols,
            "minPinLength": i.min_pin_length,
            "protocolUsed": state["client_pin"].protocol.VERSION,
        }

    def set_pin():
        cp = state["client_pin"]
        before = expect_status("PIN_NOT_SET", cp.get_pin_token, PIN, MC, unique_rp_id("pin"))
        cp.set_pin(PIN)
        i = ctap2.get_info()
        expect(i.options.get("clientPin") is True, "clientPin option not true after setPIN")
        retries, power_cycle_state = cp.get_pin_retries()
        again = expect_status("PIN_AUTH_INVALID", cp.set_pin, WRONG_PIN)
        return {
            "tokenBeforeSetPin": before,
            "clientPinAfter": True,
            "pinRetries": retries,
            "powerCycleState": power_cycle_state,
            "setPinAgain": again,
        }

    def token():
        cp = state["client_pin"]
        t = cp.get_pin_token(PIN, MC | GA, unique_rp_id("pin-token"))
        return {"tokenLength": len(t)}

    def make_and_assert():
        cp = state["client_pin"]
        rp_id = unique_rp_id("pin-mc")
        t = cp.get_pin_token(PIN, MC, rp_id)
        att, _ = uv_make_credential(ctap2, rp_id, protocol, t, rk=True)
        cred = check_verified_credential(att, rp_id, aaguid)
        t = cp.get_pin_token(PIN, GA, rp_id)
        a, cdh = uv_get_assertion(ctap2, rp_id, protocol, t)  # discoverable: no allowList
        check_verified_assertion(a, cdh, rp_id, cred)
        expect(a.user is not None and a.user.get("name") == "pat", "user name not returned after UV: %r" % (a.user,))
        return {"flags": flags_detail(att.auth_data), "assertionFlags": flags_detail(a.auth_data), "user": a.user}

    def token_single_use():
        cp = state["client_pin"]
        rp_id = unique_rp_id("pin-once")
        t = cp.get_pin_token(PIN, MC | GA, rp_id)
        att, _ = uv_make_credential(ctap2, rp_id, protocol, t)
        check_verified_credential(att, rp_id, aaguid)
        second = expect_status("PIN_AUTH_INVALID", uv_make_credential, ctap2, rp_id, protocol, t)
        return {"first": "OK", "second": second}

    def token_scope():
        cp = state["client_pin"]
        rp_a, rp_b = unique_rp_id("pin-a"), unique_rp_id("pin-b")
        other_rp = expect_status("PIN_AUTH_INVALID", uv_make_credential, ctap2, rp_b, protocol, cp.get_pin_token(PIN, MC, rp_a))
        no_mc = expect_status("PIN_AUTH_INVALID", uv_make_credential, ctap2, rp_a, protocol, cp.get_pin_token(PIN, GA, rp_a))
        # A pinUvAuthParam over another clientDataHash does not authorise this request.
        param_for_other_hash = protocol.authenticate(cp.get_pin_token(PIN, MC, rp_a), b"\x00" * 32)
        wrong_mac = expect_status(
            "PIN_AUTH_INVALID",
            ctap2.make_credential,
            b"\x11" * 32,
            {"id": rp_a},
            {"id": random_bytes(16), "name": "pat"},
            [{"type": "public-key", "alg": ES256}],
            pin_uv_param=param_for_other_hash,
            pin_uv_protocol=protocol.VERSION,
        )
        return {"otherRp": other_rp, "withoutMcPermission": no_mc, "macOverOtherHash": wrong_mac}

    def uv_requirement():
        rp_id = unique_rp_id("pin-norq")
        rk = expect_status("PUAT_REQUIRED", uv_make_credential, ctap2, rp_id, rk=True)
        att, _ = uv_make_credential(ctap2, rp_id)
        expect(not att.auth_data.is_user_verified(), "UV flag set without user verification")
        cred = att.auth_data.credential_data
        a, cdh = uv_get_assertion(ctap2, rp_id, allow=[{"type": "public-key", "id": cred.credential_id}])
        expect(not a.auth_data.is_user_verified(), "assertion UV flag set without user verification")
        a.verify(cdh, cred.public_key)
        return {"rkWithoutUv": rk, "nonRkFlags": flags_detail(att.auth_data), "assertionFlags": flags_detail(a.auth_data)}

    def legacy_token():
        cp = ClientPin(ctap2, protocol)
        # python-fido2 uses the superseded getPinToken (0x05) when the device lacks pinUvAuthToken; force it.
        cp._supports_permissions = False
        t = cp.get_pin_token(PIN)
        rp_id = unique_rp_id("pin-legacy")
        att, _ = uv_make_credential(ctap2, rp_id, protocol, t)
        check_verified_credential(att, rp_id, aaguid)
        return {"tokenLength": len(t), "flags": flags_detail(att.auth_data)}

    def wrong_pin_once():
        cp = state["client_pin"]
        first = expect_status("PIN_INVALID", cp.get_pin_token, WRONG_PIN, MC, unique_rp_id("pin-wrong"))
        after_wrong = cp.get_pin_retries()
        cp.get_pin_token(PIN, MC, unique_rp_id("pin-right"))
        after_right = cp.get_pin_retries()
        return {
            "wrong": first,
            "pinRetriesAfterWrong": after_wrong[0],
            "powerCycleStateAfterWrong": after_wrong[1],
            "pinRetriesAfterRight": after_right[0],
        }

    def via_client():
        server = Fido2Server({"id": ORIGIN_HOST, "name": "vfido interop"}, attestation="none")
        server.allowed_algorithms = [PublicKeyCredentialParameters("public-key", ES256)]
        client = Fido2Client(device, ORIGIN)
        # Fido2Client picks the newest protocol itself; use the one under test.
        client.client_pin = ClientPin(client.ctap2, pin_protocol(args.protocol))
        user = {"id": random_bytes(16), "name": "quinn", "displayName": "Quinn"}
        auth_data, response = register_and_authenticate(server, client, user, PIN)
        return {
            "protocol": client.client_pin.protocol.VERSION,
            "flags": flags_detail(auth_data),
            "assertionFlags": flags_detail(response.authenticator_data),
        }

    def change_pin():
        cp = state["client_pin"]
        wrong_old = expect_status("PIN_INVALID", cp.change_pin, WRONG_PIN, NEW_PIN)
        cp.change_pin(PIN, NEW_PIN)
        old = expect_status("PIN_INVALID", cp.get_pin_token, PIN, MC, unique_rp_id("pin-old"))
        rp_id = unique_rp_id("pin-new")
        t = cp.get_pin_token(NEW_PIN, MC, rp_id)
        att, _ = uv_make_credential(ctap2, rp_id, protocol, t)
        check_verified_credential(att, rp_id, aaguid)
        return {"wrongOldPin": wrong_old, "oldPinAfterChange": old, "newPin": "OK", "pinRetries": cp.get_pin_retries()[0]}

    if checks.run("pin.info", info) is not None and checks.run("pin.set_pin", set_pin) is not None:
        checks.run("pin.token", token)
        checks.run("pin.make_credential_get_assertion", make_and_assert)
        checks.run("pin.token_single_use", token_single_use)
        checks.run("pin.token_scope", token_scope)
        checks.run("pin.uv_requirement", uv_requirement)
        checks.run("pin.legacy_token", legacy_token)
        checks.run("pin.wrong_pin_once", wrong_pin_once)
        checks.run("pin.client", via_client)
        checks.run("pin.change_pin", change_pin)
    device.close()
    checks.finish()


if __name__ == "__main__":
    main()
