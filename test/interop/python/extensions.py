"""python-fido2 interop: CTAP 2.1 extensions through python-fido2's client extension classes.

Phase 1, no PIN on the device (Fido2Client, userVerification 'discouraged'):
  * hmac-secret: makeCredential {"hmacCreateSecret": true} → client output hmacCreateSecret, authData
    {"hmac-secret": true}; getAssertion {"hmacGetSecret": {salt1[, salt2]}} with python-fido2's
    HmacSecretExtension on PIN/UV protocol 1 and on protocol 2 (python-fido2 does the key agreement and
    decrypts the output): the same salt gives the same output (across calls and across protocols), another
    salt another output, two salts give both outputs at once;
  * credBlob: makeCredential {"credBlob": bytes ≤ maxCredBlobLength} → authData credBlob true; getAssertion
    {"getCredBlob": true} → the same bytes; a credential without a blob → empty bytes; a blob longer than
    maxCredBlobLength (sent raw, python-fido2's client drops it) → credBlob false.
Phase 2, after setPIN:
  * hmac-secret with user verification (Fido2Client with pin=…): outputs differ from the no-UV outputs for
    the same salt (CredRandomWithUV ≠ CredRandomWithoutUV) and are stable across calls and protocols; the
    no-UV output is unchanged by setting a PIN (raw Ctap2 + HmacSecretExtension, no pinUvAuthParam);
  * credProtect (created by Fido2Client from credentialProtectionPolicy; authData reports the level):
    without UV and without allowList only level 1 is found; level 2 is found through its allowList entry;
    level 3 is not found without UV even when listed (NO_CREDENTIALS); with a pinUvAuthToken all three are
    found without allowList and level 3 through its allowList entry.
"""

import functools

from fido2.client import Fido2Client
from fido2.ctap import CtapError
from fido2.ctap2.extensions import (
    CredBlobExtension,
    CredProtectExtension,
    HmacSecretExtension,
)
from fido2.ctap2.pin import ClientPin, PinProtocolV1, PinProtocolV2

from common import (
    ES256,
    GA,
    expect,
    flags_detail,
    random_bytes,
    sha256,
    start,
    status_name,
    unique_rp_id,
)

PIN = "7294"
PROTOCOLS = {1: PinProtocolV1, 2: PinProtocolV2}
POLICY = CredProtectExtension.POLICY
LEVELS = {1: POLICY.OPTIONAL, 2: POLICY.OPTIONAL_WITH_LIST, 3: POLICY.REQUIRED}


def client_for(device, rp_id, hmac_protocol=None, protocol_for_pin=None):
    """A Fido2Client whose origin matches rp_id; its hmac-secret extension uses hmac_protocol (1 or 2)."""
    types = [CredBlobExtension, CredProtectExtension]
    if hmac_protocol is not None:
        types.append(functools.partial(HmacSecretExtension, pin_protocol=PROTOCOLS[hmac_protocol]()))
    else:
        types.append(HmacSecretExtension)
    client = Fido2Client(device, "https://" + rp_id, extension_types=types)
    if protocol_for_pin is not None:
        client.client_pin = ClientPin(client.ctap2, PROTOCOLS[protocol_for_pin]())
    return client


def creation_options(rp_id, extensions, rk=False, uv="discouraged"):
    return {
        "rp": {"id": rp_id, "name": "vfido extensions"},
        "user": {"id": random_bytes(16), "name": "eve", "displayName": "Eve"},
        "challenge": random_bytes(32),
        "pubKeyCredParams": [{"type": "public-key", "alg": ES256}],
        "authenticatorSelection": {"requireResidentKey": rk, "userVerification": uv},
        "extensions": extensions,
    }


def request_options(rp_id, cred_ids, extensions=None, uv="discouraged"):
    return {
        "challenge": random_bytes(32),
        "rpId": rp_id,
        "allowCredentials": [{"type": "public-key", "id": c} for c in cred_ids],
        "userVerification": uv,
        "extensions": extensions,
    }


def main():
    args, checks, device, ctap2 = start(__doc__)
    state = {}

    # ---- phase 1: no PIN -------------------------------------------------------------------------

    def info():
        i = ctap2.get_info()
        for name in ("hmac-secret", "credProtect", "credBlob"):
            expect(name in i.extensions, "getInfo extensions %r lack %s" % (i.extensions, name))
        expect(i.max_cred_blob_length is not None and i.max_cred_blob_length >= 32, "maxCredBlobLength %r" % i.max_cred_blob_length)
        expect(i.options.get("clientPin") is False, "a PIN is already set")
        state["max_cred_blob"] = i.max_cred_blob_length
        return {"extensions": i.extensions, "maxCredBlobLength": i.max_cred_blob_length}

    def hmac_create():
        rp_id = unique_rp_id("ext-hmac")
        created = client_for(device, rp_id).make_credential(creation_options(rp_id, {"hmacCreateSecret": True}))
        att = created.attestation_object
        expect(created.extension_results == {"hmacCreateSecret": True}, "client output %r" % (created.extension_results,))
        expect(att.auth_data.extensions == {"hmac-secret": True}, "authData extensions %r" % (att.auth_data.extensions,))
        state.update(hmac_rp=rp_id, hmac_cred=att.auth_data.credential_data.credential_id)
        state["salts"] = [random_bytes(32), random_bytes(32)]
        return {"clientOutput": created.extension_results, "authDataExtensions": att.auth_data.extensions, "flags": flags_detail(att.auth_data)}

    def hmac_get(protocol, salts, pin=None):
        """One Fido2Client assertion with hmacGetSecret; returns (outputs, auth_data)."""
        rp_id = state["hmac_rp"]
        client = client_for(device, rp_id, hmac_protocol=protocol, protocol_for_pin=protocol if pin else None)
        secret = {"salt1": salts[0]}
        if len(salts) > 1:
            secret["salt2"] = salts[1]
        response = client.get_assertion(
            request_options(rp_id, [state["hmac_cred"]], {"hmacGetSecret": secret}, uv="required" if pin else "discouraged"),
            pin=pin,
        ).get_response(0)
        out = response.extension_results["hmacGetSecret"]
        return [out["output1"]] + ([out["output2"]] if "output2" in out else []), response.authenticator_data

    def hmac_outputs(uv):
        s1, s2 = state["salts"]
        pin = PIN if uv else None
        detail = {}
        per_protocol = {}
        for p in (1, 2):
            (a1,), ad = hmac_get(p, [s1], pin)
            (a2,), _ = hmac_get(p, [s1], pin)
            (b1,), _ = hmac_get(p, [s2], pin)
            both, _ = hmac_get(p, [s1, s2], pin)
            expect(ad.is_user_verified() == uv, "UV flag %s" % ad.is_user_verified())
            expect(len(a1) == 32, "output1 is %d bytes" % len(a1))
            expect(a1 == a2, "protocol %d: the same salt gave different outputs" % p)
            expect(a1 != b1, "protocol %d: different salts gave the same output" % p)
            expect(both == [a1, b1], "protocol %d: two salts did not give output1 || output2 of the single-salt calls" % p)
            per_protocol[p] = a1
            detail["protocol%d" % p] = {
                "flags": flags_detail(ad),
                "sameSaltSameOutput": a1 == a2,
                "otherSaltOtherOutput": a1 != b1,
                "twoSalts": both == [a1, b1],
            }
        expect(per_protocol[1] == per_protocol[2], "protocols 1 and 2 gave different outputs for the same salt")
        detail["protocolsAgree"] = True
        state["uv" if uv else "nouv"] = per_protocol[2]
        return detail

    def cred_blob():
        rp_id = unique_rp_id("ext-blob")
        client = client_for(device, rp_id)
        blob = random_bytes(state["max_cred_blob"])
        created = client.make_credential(creation_options(rp_id, {"credBlob": blob}, rk=True))
        att = created.attestation_object
        expect(att.auth_data.extensions == {"credBlob": True}, "makeCredential authData extensions %r" % (att.auth_data.extensions,))
        cred_id = att.auth_data.credential_data.credential_id
        got = client.get_assertion(request_options(rp_id, [cred_id], {"getCredBlob": True})).get_response(0)
        expect(got.authenticator_data.extensions == {"credBlob": blob}, "getAssertion credBlob %r" % (got.authenticator_data.extensions,))
        # A credential made without a blob: getCredBlob gives empty bytes.
        plain = client.make_credential(creation_options(rp_id, None, rk=True)).attestation_object
        none = client.get_assertion(
            request_options(rp_id, [plain.auth_data.credential_data.credential_id], {"getCredBlob": True})
        ).get_response(0)
        expect(none.authenticator_data.extensions == {"credBlob": b""}, "credBlob of a blob-less credential %r" % (none.authenticator_data.extensions,))
        # Too long: python-fido2's client would drop it, so send it raw.
        too_long = ctap2.make_credential(
            sha256(random_bytes(32)),
            {"id": rp_id, "name": "vfido"},
            {"id": random_bytes(16), "name": "eve"},
            [{"type": "public-key", "alg": ES256}],
            extensions={"credBlob": random_bytes(state["max_cred_blob"] + 1)},
            options={"rk": True},
        )
        expect(too_long.auth_data.extensions == {"credBlob": False}, "an oversized credBlob gave %r" % (too_long.auth_data.extensions,))
        return {
            "blobLength": len(blob),
            "stored": att.auth_data.extensions["credBlob"],
            "returnedMatches": True,
            "withoutBlobLength": len(none.authenticator_data.extensions["credBlob"]),
            "tooLong": too_long.auth_data.extensions["credBlob"],
        }

    # ---- phase 2: PIN set ------------------------------------------------------------------------

    def set_pin():
        ClientPin(ctap2).set_pin(PIN)
        return {"clientPin": ctap2.get_info().options.get("clientPin")}

    def hmac_nouv_after_pin():
        """Raw Ctap2 without pinUvAuthParam: still the no-UV secret."""
        s1 = state["salts"][0]
        ext = HmacSecretExtension(ctap2, PinProtocolV2())
        ext_input = ext.process_get_input({"hmacGetSecret": {"salt1": s1}})
        a = ctap2.get_assertion(
            state["hmac_rp"],
            sha256(random_bytes(32)),
            [{"type": "public-key", "id": state["hmac_cred"]}],
            {"hmac-secret": ext_input},
        )
        out = ext.process_get_output(a.auth_data)["hmacGetSecret"]["output1"]
        expect(not a.auth_data.is_user_verified(), "UV flag set without a pinUvAuthParam")
        expect(out == state["nouv"], "the no-UV output changed after setPIN")
        return {"flags": flags_detail(a.auth_data), "sameAsBeforePin": True}

    def hmac_uv_differs():
        expect(state["uv"] != state["nouv"], "UV and no-UV outputs are equal for the same salt")
        return {"uvDiffersFromNoUv": True}

    def cred_protect():
        rp_id = unique_rp_id("ext-cp")
        creds = {}
        created_levels = {}
        for level, policy in LEVELS.items():
            client = client_for(device, rp_id, protocol_for_pin=2)
            created = client.make_credential(
                creation_options(
                    rp_id,
                    {"credentialProtectionPolicy": policy, "enforceCredentialProtectionPolicy": True},
                    rk=True,
                    uv="required",
                ),
                pin=PIN,
            )
            att = created.attestation_object
            created_levels[level] = (att.auth_data.extensions or {}).get("credProtect")
            expect(created_levels[level] == level, "level %d: authData credProtect %r" % (level, att.auth_data.extensions))
            creds[level] = att.auth_data.credential_data.credential_id

        def find(allow_levels, uv):
            """The levels getAssertion finds (all assertions), or the CTAP status name."""
            protocol = PinProtocolV2()
            cdh = sha256(random_bytes(32))
            param = None
            if uv:
                token = ClientPin(ctap2, protocol).get_pin_token(PIN, GA, rp_id)
                param = protocol.authenticate(token, cdh)
            allow = [{"type": "public-key", "id": creds[l]} for l in allow_levels] or None
            try:
                assertions = ctap2.get_assertions(
                    rp_id, cdh, allow, pin_uv_param=param, pin_uv_protocol=protocol.VERSION if uv else None
                )
            except CtapError as e:
                return status_name(e.code)
            by_id = {v: k for k, v in creds.items()}
            for a in assertions:
                expect(a.auth_data.is_user_verified() == uv, "UV flag %s" % a.auth_data.is_user_verified())
            ids = [a.credential["id"] if a.credential else allow[0]["id"] for a in assertions]
            return sorted(by_id.get(i, 0) for i in ids)

        return {
            "created": created_levels,
            "noUvDiscoverable": find([], False),
            "noUvAllowLevel2": find([2], False),
            "noUvAllowLevel3": find([3], False),
            "uvDiscoverable": find([], True),
            "uvAllowLevel3": find([3], True),
        }

    checks.run("ext.info", info)
    if checks.run("ext.hmac_create", hmac_create) is not None:
        checks.run("ext.hmac_no_uv", hmac_outputs, False)
    checks.run("ext.cred_blob", cred_blob)
    if checks.run("ext.set_pin", set_pin) is not None:
        if "hmac_cred" in state:
            checks.run("ext.hmac_uv", hmac_outputs, True)
            if "nouv" in state:
                checks.run("ext.hmac_no_uv_after_pin", hmac_nouv_after_pin)
                if "uv" in state:
                    checks.run("ext.hmac_uv_differs", hmac_uv_differs)
        checks.run("ext.cred_protect", cred_protect)
    device.close()
    checks.finish()


if __name__ == "__main__":
    main()
