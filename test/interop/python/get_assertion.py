"""python-fido2 interop: authenticatorGetAssertion and authenticatorGetNextAssertion.

  * allowList: the named credential answers, numberOfCredentials is absent, the signature verifies and the
    signature counter moves forward; an allowList of unknown IDs gives CTAP2_ERR_NO_CREDENTIALS;
  * discoverable: 3 resident credentials for one RP, getAssertion without allowList returns the newest with
    numberOfCredentials = 3, getNextAssertion returns the others newest first, then CTAP2_ERR_NOT_ALLOWED.
"""

from fido2.ctap import CtapError


from common import (
    EDDSA,
    ES256,
    check_new_credential,
    expect,
    expect_ctap_error,
    flags_detail,
    random_bytes,
    sha256,
    start,
    unique_rp_id,
)

DISCOVERABLE_COUNT = 3


def main():
    args, checks, device, ctap2 = start(__doc__)
    info = ctap2.info

    def make(rp_id, alg=ES256, rk=False, user_id=None):
        att = ctap2.make_credential(
            sha256(random_bytes(32)),
            {"id": rp_id, "name": "vfido interop"},
            {"id": user_id or random_bytes(16), "name": "carol", "displayName": "Carol"},
            [{"type": "public-key", "alg": alg}],
            options={"rk": True} if rk else None,
        )
        return check_new_credential(att, rp_id, alg, info.aaguid)

    def allow_list():
        rp_id = unique_rp_id("ga")
        other = make(rp_id, EDDSA)  # a second credential for the same RP, listed first
        cred = make(rp_id)
        counters = []
        for _ in range(2):
            cdh = sha256(random_bytes(32))
            a = ctap2.get_assertion(rp_id, cdh, [{"type": "public-key", "id": cred.credential_id}])
            expect(a.credential["id"] == cred.credential_id, "assertion names another credential")
            expect(a.number_of_credentials is None, "numberOfCredentials present with an allowList")
            expect(a.auth_data.rp_id_hash == sha256(rp_id.encode()), "rpIdHash is wrong")
            expect(a.auth_data.is_user_present(), "UP flag not set")
            expect(not a.auth_data.is_attested(), "AT flag set on an assertion")
            a.verify(cdh, cred.public_key)
            counters.append(a.auth_data.counter)
        expect(counters[1] > counters[0] or counters == [0, 0], "signCount did not increase: %r" % counters)

        # With both credentials listed the device picks one of them; its signature must verify.
        cdh = sha256(random_bytes(32))
        both = [{"type": "public-key", "id": c.credential_id} for c in (other, cred)]
        a = ctap2.get_assertion(rp_id, cdh, both)
        picked = {other.credential_id: other, cred.credential_id: cred}.get(a.credential["id"])
        expect(picked is not None, "assertion names a credential that was not in the allowList")
        a.verify(cdh, picked.public_key)
        return {"counters": counters, "flags": flags_detail(a.auth_data)}

    def unknown_credential():
        rp_id = unique_rp_id("ga-unknown")
        make(rp_id)
        bogus = [{"type": "public-key", "id": random_bytes(64)}]
        name = expect_ctap_error(CtapError.ERR.NO_CREDENTIALS, ctap2.get_assertion, rp_id, sha256(b"x"), bogus)
        return {"error": name}

    def wrong_rp():
        # A non-resident credential is bound to its RP: listing it for another RP finds nothing.
        cred = make(unique_rp_id("ga-bound"))
        other_rp = unique_rp_id("ga-other")
        listed = [{"type": "public-key", "id": cred.credential_id}]
        name = expect_ctap_error(CtapError.ERR.NO_CREDENTIALS, ctap2.get_assertion, other_rp, sha256(b"x"), listed)
        return {"error": name}

    def discoverable():
        rp_id = unique_rp_id("disc")
        creds = []
        for i in range(DISCOVERABLE_COUNT):
            user_id = bytes([i + 1]) * 16
            alg = ES256 if i % 2 == 0 else EDDSA
            creds.append((user_id, make(rp_id, alg=alg, rk=True, user_id=user_id)))
        newest_first = list(reversed(creds))

        cdh = sha256(random_bytes(32))
        first = ctap2.get_assertion(rp_id, cdh)
        expect(
            first.number_of_credentials == DISCOVERABLE_COUNT,
            "numberOfCredentials %r, expected %d" % (first.number_of_credentials, DISCOVERABLE_COUNT),
        )
        responses = [first] + [ctap2.get_next_assertion() for _ in range(DISCOVERABLE_COUNT - 1)]
        order = []
        for response, (user_id, cred) in zip(responses, newest_first):
            expect(response.user is not None and "id" in response.user, "no user entity in the response")
            order.append(response.user["id"].hex())
            expect(
                response.user["id"] == user_id,
                "expected user %s (newest first), got %s" % (user_id.hex(), response.user["id"].hex()),
            )
            # CTAP 2.1 §6.2.2: no user-identifying fields without UV.
            extra = sorted(k for k in response.user if k != "id")
            expect(not extra, "user entity has %r although UV was not performed" % (extra,))
            expect(response.credential["id"] == cred.credential_id, "credential does not match the user")
            response.verify(cdh, cred.public_key)
        for response in responses[1:]:
            expect(response.number_of_credentials is None, "numberOfCredentials in a getNextAssertion response")
        exhausted = expect_ctap_error(CtapError.ERR.NOT_ALLOWED, ctap2.get_next_assertion)
        return {
            "numberOfCredentials": first.number_of_credentials,
            "userOrder": order,
            "afterLast": exhausted,
        }

    def next_without_state():
        ctap2.get_info()  # any other command clears getNextAssertion state
        return {"error": expect_ctap_error(CtapError.ERR.NOT_ALLOWED, ctap2.get_next_assertion)}

    checks.run("get_assertion.allow_list", allow_list)
    checks.run("get_assertion.unknown_credential", unknown_credential)
    checks.run("get_assertion.credential_bound_to_rp", wrong_rp)
    checks.run("get_assertion.discoverable", discoverable)
    checks.run("get_next_assertion.without_state", next_without_state)
    device.close()
    checks.finish()


if __name__ == "__main__":
    main()
