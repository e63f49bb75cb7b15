"""python-fido2 interop: authenticatorConfig (0x0D) through python-fido2's Config class, with the PIN/UV auth
protocol given by --protocol (python-fido2 computes pinUvAuthParam over 32×0xFF || 0x0D || subCommand ||
subCommandParams).

  * getInfo: authnrCfg, setMinPINLength, alwaysUv false, ep false (enterprise-attestation capable);
  * before any PIN: set_min_pin_length(6) needs no token; then a 4-character setPIN → PIN_POLICY_VIOLATION,
    a 6-character one works;
  * with a PIN: no token → PUAT_REQUIRED, a token without acfg → PIN_AUTH_INVALID;
  * enableEnterpriseAttestation (python-fido2 0.9.1 has the command code but no method: Config._call):
    before it, makeCredential with enterpriseAttestation → INVALID_PARAMETER; after it getInfo ep = true and
    enterpriseAttestation 2 gives epAtt = true with an attestation statement python-fido2 verifies;
  * toggle_always_uv: alwaysUv true and makeCredUvNotRqd false in getInfo; getAssertion and non-discoverable
    makeCredential without UV → PUAT_REQUIRED, with a token they work; U2F REGISTER → SW 0x6986 and no U2F_V2
    in versions (CTAP1 cannot verify the user); toggling again restores all of it;
  * set_min_pin_length(8): minPINLength 8, forcePINChange true (the PIN is shorter): a token → PIN_POLICY_VIOLATION,
    changePIN to 7 characters → PIN_POLICY_VIOLATION, to 8 → OK and forcePINChange false; lowering to 4 →
    PIN_POLICY_VIOLATION; force_change_pin=True sets forcePINChange without changing the length;
  * minPinLengthRPIDs + the minPinLength extension (python-fido2's MinPinLengthExtension input): the listed
    RP gets minPinLength in authData, another RP gets nothing.
"""

from fido2.ctap1 import APDU, ApduError, Ctap1
from fido2.ctap2 import AttestationObject, Ctap2
from fido2.ctap2.config import Config
from fido2.ctap2.extensions import MinPinLengthExtension
from fido2.ctap2.pin import ClientPin

from common import (
    ES256,
    GA,
    MC,
    add_protocol_argument,
    expect,
    expect_status,
    load_ca,
    outcome,
    pin_protocol,
    random_bytes,
    sha256,
    start,
    unique_rp_id,
    uv_get_assertion,
    uv_make_credential,
    verify_attestation,
)

FIRST_PIN = "135790"  # 6 characters
LONG_PIN = "13579024"  # 8
NEXT_PIN = "24680135"  # 8
ACFG = ClientPin.PERMISSION.AUTHENTICATOR_CFG
ENTERPRISE_ATTESTATION_KEY = 0x0A


def main():
    args, checks, device, ctap2 = start(__doc__, add_protocol_argument)
    protocol = pin_protocol(args.protocol)
    ca_der = load_ca(args.ca_cert)
    state = {"pin": FIRST_PIN}

    def client_pin():
        return ClientPin(ctap2, protocol)

    def config(permissions=ACFG):
        return Config(ctap2, protocol, client_pin().get_pin_token(state["pin"], permissions))

    def options():
        i = ctap2.get_info()
        return i, {k: i.options.get(k) for k in ("authnrCfg", "setMinPINLength", "alwaysUv", "makeCredUvNotRqd", "ep")}

    def info():
        i, opts = options()
        expect(opts["authnrCfg"] is True and opts["setMinPINLength"] is True, "options %r" % opts)
        return {"options": opts, "minPinLength": i.min_pin_length, "maxRpidsForSetMinPinLength": i.max_rpids_for_min_pin}

    def min_length_before_pin():
        Config(ctap2).set_min_pin_length(6)  # no PIN yet: no pinUvAuthParam needed
        i = ctap2.get_info()
        short = expect_status("PIN_POLICY_VIOLATION", client_pin().set_pin, "1234")
        client_pin().set_pin(FIRST_PIN)
        return {"minPinLength": i.min_pin_length, "fourCharacterPin": short, "sixCharacterPin": "OK"}

    def authorization():
        return {
            "withoutToken": outcome(Config(ctap2).toggle_always_uv),
            "tokenWithoutAcfg": outcome(config(MC | GA).toggle_always_uv),
        }

    def make_with_ep(rp_id, ep):
        cdh = sha256(random_bytes(32))
        token = client_pin().get_pin_token(state["pin"], MC, rp_id)
        request = {
            1: cdh,
            2: {"id": rp_id, "name": "vfido ep"},
            3: {"id": random_bytes(16), "name": "ed"},
            4: [{"type": "public-key", "alg": ES256}],
            8: protocol.authenticate(token, cdh),
            9: protocol.VERSION,
            ENTERPRISE_ATTESTATION_KEY: ep,
        }
        return ctap2.send_cbor(Ctap2.CMD.MAKE_CREDENTIAL, request, parse=AttestationObject), cdh

    def enterprise_attestation():
        rp_id = unique_rp_id("cfg-ep")
        before = outcome(make_with_ep, rp_id, 2)
        config()._call(Config.CMD.ENABLE_ENTERPRISE_ATT)
        _, opts = options()
        att, cdh = make_with_ep(rp_id, 2)
        verified = verify_attestation(att, cdh, ca_der)
        again = outcome(config()._call, Config.CMD.ENABLE_ENTERPRISE_ATT)
        return {"beforeEnable": before, "ep": opts["ep"], "epAtt": att.ep_att, "attestation": verified, "enableAgain": again}

    def u2f_register_status(rp_id):
        """The status word of one U2F REGISTER (CTAP1 over CTAPHID_MSG), without polling for presence."""
        try:
            Ctap1(device).register(sha256(random_bytes(32)), sha256(rp_id.encode()))
            return APDU.OK
        except ApduError as e:
            return e.code

    def always_uv():
        rp_id = unique_rp_id("cfg-auv")
        att, _ = uv_make_credential(ctap2, rp_id)  # non-discoverable, no UV: allowed (makeCredUvNotRqd)
        cred = att.auth_data.credential_data
        allow = [{"type": "public-key", "id": cred.credential_id}]
        config().toggle_always_uv()
        info_on, on = options()
        mc = outcome(uv_make_credential, ctap2, rp_id)
        ga = outcome(uv_get_assertion, ctap2, rp_id, allow=allow)
        a, cdh = uv_get_assertion(ctap2, rp_id, protocol, client_pin().get_pin_token(state["pin"], GA, rp_id), allow=allow)
        a.verify(cdh, cred.public_key)
        expect(a.auth_data.is_user_verified(), "assertion with a token lacks UV")
        u2f_on = u2f_register_status(rp_id)
        config().toggle_always_uv()
        info_off, off = options()
        ga_off = outcome(uv_get_assertion, ctap2, rp_id, allow=allow)
        u2f_off = u2f_register_status(rp_id)
        return {
            "on": {"alwaysUv": on["alwaysUv"], "makeCredUvNotRqd": on["makeCredUvNotRqd"]},
            "makeCredentialWithoutUv": mc,
            "getAssertionWithoutUv": ga,
            "getAssertionWithToken": "OK",
            "off": {"alwaysUv": off["alwaysUv"], "makeCredUvNotRqd": off["makeCredUvNotRqd"]},
            "getAssertionWithoutUvAfter": ga_off,
            "u2fRegisterWhileOn": u2f_on,
            "u2fRegisterAfter": u2f_off,
            "u2fVersionWhileOn": "U2F_V2" in info_on.versions,
            "u2fVersionAfter": "U2F_V2" in info_off.versions,
        }

    def min_pin_length():
        config().set_min_pin_length(8)
        i = ctap2.get_info()
        token = outcome(client_pin().get_pin_token, state["pin"], MC)
        seven = outcome(client_pin().change_pin, state["pin"], "1234567")
        client_pin().change_pin(state["pin"], LONG_PIN)
        state["pin"] = LONG_PIN
        after = ctap2.get_info()
        lower = outcome(config().set_min_pin_length, 4)
        return {
            "minPinLength": i.min_pin_length,
            "forcePinChange": i.force_pin_change,
            "tokenBeforeChange": token,
            "changeToSeven": seven,
            "changeToEight": "OK",
            "forcePinChangeAfter": after.force_pin_change,
            "tokenAfterChange": outcome(client_pin().get_pin_token, state["pin"], MC),
            "lowerTo4": lower,
        }

    def force_change():
        config().set_min_pin_length(force_change_pin=True)
        i = ctap2.get_info()
        token = outcome(client_pin().get_pin_token, state["pin"], MC)
        client_pin().change_pin(state["pin"], NEXT_PIN)
        state["pin"] = NEXT_PIN
        return {
            "forcePinChange": i.force_pin_change,
            "minPinLength": i.min_pin_length,
            "tokenBeforeChange": token,
            "forcePinChangeAfter": ctap2.get_info().force_pin_change,
        }

    def min_pin_length_rpids():
        listed, other = unique_rp_id("cfg-mpl"), unique_rp_id("cfg-other")
        config().set_min_pin_length(rp_ids=[listed])
        ext = MinPinLengthExtension(ctap2)
        ext_input = ext.process_create_input({"minPinLength": True})
        expect(ext_input is True, "python-fido2 sends no minPinLength input: getInfo extensions %r" % ctap2.info.extensions)
        out = {}
        for name, rp_id in (("listed", listed), ("other", other)):
            cdh = sha256(random_bytes(32))
            token = client_pin().get_pin_token(state["pin"], MC, rp_id)
            att = ctap2.make_credential(
                cdh,
                {"id": rp_id, "name": "vfido mpl"},
                {"id": random_bytes(16), "name": "mo"},
                [{"type": "public-key", "alg": ES256}],
                extensions={"minPinLength": ext_input},
                pin_uv_param=protocol.authenticate(token, cdh),
                pin_uv_protocol=protocol.VERSION,
            )
            out[name] = att.auth_data.extensions
        return out

    checks.run("cfg.info", info)
    if checks.run("cfg.min_length_before_pin", min_length_before_pin) is not None:
        checks.run("cfg.authorization", authorization)
        checks.run("cfg.enterprise_attestation", enterprise_attestation)
        checks.run("cfg.always_uv", always_uv)
        if checks.run("cfg.min_pin_length", min_pin_length) is not None:
            checks.run("cfg.force_change", force_change)
            checks.run("cfg.min_pin_length_rpids", min_pin_length_rpids)
    device.close()
    checks.finish()


if __name__ == "__main__":
    main()
