"""python-fido2 interop: authenticatorMakeCredential (+ a getAssertion on the new credential).

For ES256 and EdDSA, discoverable (rk) and not:
  * through fido2's Ctap2 (raw CTAP2): attestation verified by fido2's Attestation for its fmt (none, packed
    self, packed x5c chained to --ca-cert), then an assertion signature verified with the credential's
    public key (AttestedCredentialData.public_key.verify);
  * through fido2's Fido2Client (WebAuthn client) against fido2's Fido2Server: register_complete
    (attestation verified the same way) and authenticate_complete.
"""

from fido2.client import Fido2Client
from fido2.server import Fido2Server
from fido2.webauthn import PublicKeyCredentialParameters

from common import (
    ALG_NAMES,
    EDDSA,
    ES256,
    ORIGIN,
    ORIGIN_HOST,
    check_new_credential,
    expect,
    flags_detail,
    load_ca,
    random_bytes,
    sha256,
    start,
    unique_rp_id,
    verify_attestation,
)


def main():
    args, checks, device, ctap2 = start(__doc__)
    ca_der = load_ca(args.ca_cert)
    info_aaguid = ctap2.info.aaguid

    def via_ctap2(alg, rk):
        rp_id = unique_rp_id("mc")
        user_id = random_bytes(16)
        cdh = sha256(random_bytes(32))
        att = ctap2.make_credential(
            cdh,
            {"id": rp_id, "name": "vfido interop"},
            {"id": user_id, "name": "alice", "displayName": "Alice"},
            [{"type": "public-key", "alg": alg}],
            options={"rk": True} if rk else None,
        )
        cred = check_new_credential(att, rp_id, alg, info_aaguid)
        attestation = verify_attestation(att, cdh, ca_der)

        # The credential signs an assertion that its own public key verifies.
        cdh2 = sha256(random_bytes(32))
        assertion = ctap2.get_assertion(
            rp_id, cdh2, [{"type": "public-key", "id": cred.credential_id}]
        )
        expect(assertion.credential["id"] == cred.credential_id, "assertion names another credential")
        expect(assertion.auth_data.rp_id_hash == sha256(rp_id.encode()), "assertion rpIdHash is wrong")
        expect(assertion.auth_data.is_user_present(), "assertion UP flag not set")
        expect(not assertion.auth_data.is_attested(), "assertion has the AT flag set")
        assertion.verify(cdh2, cred.public_key)  # = public_key.verify(authData || clientDataHash, sig)
        expect(
            assertion.auth_data.counter > att.auth_data.counter or assertion.auth_data.counter == 0,
            "signCount did not increase: %d then %d" % (att.auth_data.counter, assertion.auth_data.counter),
        )
        return dict(
            attestation,
            alg=cred.public_key.ALGORITHM,
            rk=rk,
            aaguid=cred.aaguid.hex(),
            credentialIdLength=len(cred.credential_id),
            flags=flags_detail(att.auth_data),
            makeCredentialCounter=att.auth_data.counter,
            assertionCounter=assertion.auth_data.counter,
            assertionFlags=flags_detail(assertion.auth_data),
        )

    def via_client(alg, rk):
        results = {}
        server = Fido2Server(
            {"id": ORIGIN_HOST, "name": "vfido interop"},
            attestation="direct",
            verify_attestation=lambda att_obj, cdh: results.update(verify_attestation(att_obj, cdh, ca_der)),
        )
        # Fido2Server offers every algorithm it knows by default; ask for exactly the one under test.
        server.allowed_algorithms = [PublicKeyCredentialParameters("public-key", alg)]
        client = Fido2Client(device, ORIGIN)
        user = {"id": random_bytes(16), "name": "bob", "displayName": "Bob"}
        options, state = server.register_begin(user, resident_key=rk, user_verification="discouraged")
        created = client.make_credential(options["publicKey"])
        auth_data = server.register_complete(state, created.client_data, created.attestation_object)
        cred = auth_data.credential_data
        expect(cred.public_key.ALGORITHM == alg, "credential key alg %r, requested %r" % (cred.public_key.ALGORITHM, alg))
        expect(bool(results), "Fido2Server did not call the attestation verifier")

        request, state = server.authenticate_begin([cred], user_verification="discouraged")
        selection = client.get_assertion(request["publicKey"])
        response = selection.get_response(0)
        server.authenticate_complete(
            state,
            [cred],
            response.credential_id,
            response.client_data,
            response.authenticator_data,
            response.signature,
        )
        return dict(
            results,
            alg=alg,
            rk=rk,
            credentialIdLength=len(cred.credential_id),
            flags=flags_detail(auth_data),
            assertionFlags=flags_detail(response.authenticator_data),
        )

    for alg in (ES256, EDDSA):
        for rk in (False, True):
            suffix = "%s.%s" % (ALG_NAMES[alg], "rk" if rk else "nonrk")
            checks.run("ctap2_make_credential." + suffix, via_ctap2, alg, rk)
            checks.run("client_make_credential." + suffix, via_client, alg, rk)
    device.close()
    checks.finish()


if __name__ == "__main__":
    main()
