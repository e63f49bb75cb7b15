"""python-fido2 interop: makeCredential excludeList.

A credential of this authenticator for the RP in excludeList gives CTAP2_ERR_CREDENTIAL_EXCLUDED (raw Ctap2),
which fido2's Fido2Client reports as ClientError DEVICE_INELIGIBLE; unknown IDs in excludeList do not block.
"""

from fido2.client import ClientError, Fido2Client
from fido2.ctap import CtapError


from common import (
    ES256,
    check_new_credential,
    expect,
    expect_ctap_error,
    random_bytes,
    sha256,
    start,
    unique_rp_id,
)


def main():
    args, checks, device, ctap2 = start(__doc__)
    aaguid = ctap2.info.aaguid
    params = [{"type": "public-key", "alg": ES256}]

    def make(rp_id, rk=False, exclude=None):
        att = ctap2.make_credential(
            sha256(random_bytes(32)),
            {"id": rp_id, "name": "vfido interop"},
            {"id": random_bytes(16), "name": "dave", "displayName": "Dave"},
            params,
            exclude_list=exclude,
            options={"rk": True} if rk else None,
        )
        return check_new_credential(att, rp_id, ES256, aaguid)

    def excluded(rk):
        rp_id = unique_rp_id("excl")
        cred = make(rp_id, rk=rk)
        listed = [
            {"type": "public-key", "id": random_bytes(48)},
            {"type": "public-key", "id": cred.credential_id},
        ]
        name = expect_ctap_error(CtapError.ERR.CREDENTIAL_EXCLUDED, make, rp_id, rk, listed)
        return {"error": name, "rk": rk}

    def unknown_ids_do_not_block():
        rp_id = unique_rp_id("excl-unknown")
        make(rp_id, exclude=[{"type": "public-key", "id": random_bytes(48)}])
        return {"created": True}

    def other_rp_does_not_block():
        cred = make(unique_rp_id("excl-a"))
        make(unique_rp_id("excl-b"), exclude=[{"type": "public-key", "id": cred.credential_id}])
        return {"created": True}

    def via_client():
        client = Fido2Client(device, "https://example.com")
        rp = {"id": "example.com", "name": "vfido interop"}
        options = {
            "rp": rp,
            "user": {"id": random_bytes(16), "name": "erin"},
            "challenge": random_bytes(32),
            "pubKeyCredParams": params,
        }
        created = client.make_credential(options)
        cred_id = created.attestation_object.auth_data.credential_data.credential_id
        options = dict(options, challenge=random_bytes(32), excludeCredentials=[{"type": "public-key", "id": cred_id}])
        try:
            client.make_credential(options)
        except ClientError as e:
            expect(e.code == ClientError.ERR.DEVICE_INELIGIBLE, "ClientError %s, expected DEVICE_INELIGIBLE" % e.code.name)
            cause = getattr(e.cause, "code", None)
            expect(cause == CtapError.ERR.CREDENTIAL_EXCLUDED, "ClientError caused by %r" % (e.cause,))
            return {"clientError": e.code.name, "cause": cause.name}
        raise AssertionError("makeCredential with an excluded credential succeeded")

    checks.run("exclude_list.nonrk", excluded, False)
    checks.run("exclude_list.rk", excluded, True)
    checks.run("exclude_list.unknown_ids", unknown_ids_do_not_block)
    checks.run("exclude_list.other_rp", other_rp_does_not_block)
    checks.run("exclude_list.client", via_client)
    device.close()
    checks.finish()


if __name__ == "__main__":
    main()
