"""python-fido2 interop: authenticatorCredentialManagement through python-fido2's CredentialManagement class,
with the PIN/UV auth protocol given by --protocol (python-fido2 computes every pinUvAuthParam).

Setup: a PIN, then three discoverable credentials (two for RP A — one with credProtect 2 — and one for RP B)
and one non-discoverable credential (not counted).
  * get_metadata: existingResidentCredentialsCount 3 and maxPossibleRemainingResidentCredentialsCount;
  * enumerate_rps: both RPs (id, name, rpIDHash = SHA-256(id), totalRPs); one more getNextRP → NOT_ALLOWED;
  * enumerate_creds(A): both users, credential IDs and public keys as made, credProtect, totalCredentials;
    an RP without credentials → NO_CREDENTIALS (python-fido2 returns []);
  * update_user_info: new name / displayName seen by enumeration and by getAssertion after UV; another
    user.id → INVALID_PARAMETER;
  * delete_cred: metadata and enumeration shrink, getAssertion with its ID → NO_CREDENTIALS, deleting again
    → NO_CREDENTIALS; deleting RP B's only credential drops RP B from enumerate_rps;
  * authorization: no pinUvAuthParam → PUAT_REQUIRED, a token without cm → PIN_AUTH_INVALID, a cm token
    bound to RP A: enumerateCredentials(A) OK, (B) / getCredsMetadata / enumerateRPs → PIN_AUTH_INVALID;
  * the preview command 0x41 (FIDO_2_1_PRE), when getInfo lists credentialMgmtPreview, answers like 0x0A.
"""

from fido2.ctap import CtapError
from fido2.ctap2.base import args as cbor_args
from fido2.ctap2.credman import CredentialManagement
from fido2.ctap2.pin import ClientPin

from common import (
    ES256,
    GA,
    MC,
    add_protocol_argument,
    expect,
    expect_status,
    outcome,
    pin_protocol,
    random_bytes,
    sha256,
    start,
    status_name,
    unique_rp_id,
)

PIN = "1357"
CM = ClientPin.PERMISSION.CREDENTIAL_MGMT
R = CredentialManagement.RESULT
CMD_PREVIEW = 0x41


class _PreviewCtap(object):
    """A Ctap2 stand-in whose credential_mgmt goes to the preview command 0x41."""

    def __init__(self, ctap2):
        self.ctap2 = ctap2
        self.info = ctap2.info

    def credential_mgmt(self, sub_cmd, sub_cmd_params=None, pin_uv_protocol=None, pin_uv_param=None):
        return self.ctap2.send_cbor(CMD_PREVIEW, cbor_args(sub_cmd, sub_cmd_params, pin_uv_protocol, pin_uv_param))


def main():
    args, checks, device, ctap2 = start(__doc__, add_protocol_argument)
    protocol = pin_protocol(args.protocol)
    state = {}

    def token(permissions, rp_id=None):
        return ClientPin(ctap2, protocol).get_pin_token(PIN, permissions, rp_id)

    def cm(rp_id=None, permissions=CM, ctap=None):
        return CredentialManagement(ctap or ctap2, protocol, token(permissions, rp_id))

    def make(rp_id, rp_name, user, rk=True, cred_protect=None):
        cdh = sha256(random_bytes(32))
        t = token(MC, rp_id)
        att = ctap2.make_credential(
            cdh,
            {"id": rp_id, "name": rp_name},
            user,
            [{"type": "public-key", "alg": ES256}],
            extensions={"credProtect": cred_protect} if cred_protect else None,
            options={"rk": True} if rk else None,
            pin_uv_param=protocol.authenticate(t, cdh),
            pin_uv_protocol=protocol.VERSION,
        )
        return att.auth_data.credential_data

    def setup():
        i = ctap2.get_info()
        expect(i.options.get("credMgmt") is True, "credMgmt option %r" % i.options.get("credMgmt"))
        ClientPin(ctap2, protocol).set_pin(PIN)
        rp_a, rp_b = unique_rp_id("cm-a"), unique_rp_id("cm-b")
        users = {
            "a1": {"id": random_bytes(16), "name": "ann", "displayName": "Ann"},
            "a2": {"id": random_bytes(16), "name": "bob", "displayName": "Bob"},
            "b1": {"id": random_bytes(16), "name": "cat", "displayName": "Cat"},
        }
        creds = {
            "a1": make(rp_a, "RP Alpha", users["a1"]),
            "a2": make(rp_a, "RP Alpha", users["a2"], cred_protect=2),
            "b1": make(rp_b, "RP Beta", users["b1"]),
        }
        make(rp_a, "RP Alpha", {"id": random_bytes(16), "name": "nonrk"}, rk=False)
        state.update(rp_a=rp_a, rp_b=rp_b, users=users, creds=creds)
        return {"credMgmt": True, "credentialMgmtPreview": i.options.get("credentialMgmtPreview"), "versions": i.versions}

    def metadata():
        m = cm().get_metadata()
        return {"existing": m[R.EXISTING_CRED_COUNT], "remaining": m[R.MAX_REMAINING_COUNT]}

    def enumerate_rps():
        c = cm()
        rps = c.enumerate_rps()
        got = sorted((r[R.RP]["id"], r[R.RP].get("name")) for r in rps)
        want = sorted([(state["rp_a"], "RP Alpha"), (state["rp_b"], "RP Beta")])
        expect(got == want, "RPs %r, expected %r" % (got, want))
        for r in rps:
            expect(r[R.RP_ID_HASH] == sha256(r[R.RP]["id"].encode()), "rpIDHash is not SHA-256(rp.id)")
        after_end = expect_status("NOT_ALLOWED", c.enumerate_rps_next)
        return {"count": len(rps), "totalRPs": rps[0][R.TOTAL_RPS], "names": [n for _, n in got], "nextAfterLast": after_end}

    def enumerate_creds():
        rows = cm().enumerate_creds(sha256(state["rp_a"].encode()))
        expect(len(rows) == 2, "%d credentials for RP A" % len(rows))
        by_user = {r[R.USER]["id"]: r for r in rows}
        detail = {"count": len(rows), "totalCredentials": rows[0][R.TOTAL_CREDENTIALS], "credProtect": {}}
        for key in ("a1", "a2"):
            user, cred = state["users"][key], state["creds"][key]
            row = by_user.get(user["id"])
            expect(row is not None, "user %s not enumerated" % key)
            expect(row[R.CREDENTIAL_ID]["id"] == cred.credential_id, "%s: credential ID differs" % key)
            expect(row[R.CREDENTIAL_ID].get("type") == "public-key", "%s: descriptor type %r" % (key, row[R.CREDENTIAL_ID].get("type")))
            expect(dict(row[R.PUBLIC_KEY]) == dict(cred.public_key), "%s: public key differs from makeCredential's" % key)
            expect(row[R.USER].get("name") == user["name"], "%s: user name %r" % (key, row[R.USER].get("name")))
            detail["credProtect"][key] = row.get(R.CRED_PROTECT)
        detail["unknownRp"] = cm().enumerate_creds(sha256(b"nobody.example.com"))
        return detail

    def update_user():
        a1 = state["users"]["a1"]
        cred_id = {"type": "public-key", "id": state["creds"]["a1"].credential_id}
        cm().update_user_info(cred_id, {"id": a1["id"], "name": "ann.new", "displayName": "Ann New"})
        rows = cm().enumerate_creds(sha256(state["rp_a"].encode()))
        user = next(r[R.USER] for r in rows if r[R.USER]["id"] == a1["id"])
        cdh = sha256(random_bytes(32))
        t = token(GA, state["rp_a"])
        a = ctap2.get_assertion(
            state["rp_a"],
            cdh,
            [cred_id],
            pin_uv_param=protocol.authenticate(t, cdh),
            pin_uv_protocol=protocol.VERSION,
        )
        wrong_id = expect_status(
            "INVALID_PARAMETER", cm().update_user_info, cred_id, {"id": random_bytes(16), "name": "mallory"}
        )
        return {"enumerated": user, "assertionUser": a.user, "otherUserId": wrong_id}

    def delete():
        a2 = {"type": "public-key", "id": state["creds"]["a2"].credential_id}
        cm().delete_cred(a2)
        m = cm().get_metadata()
        left = cm().enumerate_creds(sha256(state["rp_a"].encode()))
        try:
            ctap2.get_assertion(state["rp_a"], sha256(random_bytes(32)), [a2])
            assertion = "OK"
        except CtapError as e:
            assertion = status_name(e.code)
        again = expect_status("NO_CREDENTIALS", cm().delete_cred, a2)
        cm().delete_cred({"type": "public-key", "id": state["creds"]["b1"].credential_id})
        rps = [r[R.RP]["id"] for r in cm().enumerate_rps()]
        expect(rps == [state["rp_a"]], "RPs after deleting RP B's only credential: %r" % rps)
        return {
            "existingAfter": m[R.EXISTING_CRED_COUNT],
            "remainingAfter": m[R.MAX_REMAINING_COUNT],
            "leftForRpA": len(left),
            "assertionWithDeleted": assertion,
            "deleteAgain": again,
            "rpsAfterDeletingB": len(rps),
        }

    def authorization():
        raw = outcome(ctap2.credential_mgmt, CredentialManagement.CMD.GET_CREDS_METADATA)
        no_cm = expect_status("PIN_AUTH_INVALID", cm(permissions=MC | GA, rp_id=state["rp_a"]).get_metadata)
        bound = cm(rp_id=state["rp_a"])
        own = len(bound.enumerate_creds(sha256(state["rp_a"].encode())))
        return {
            "withoutPinUvAuthParam": raw,
            "tokenWithoutCm": no_cm,
            "boundOwnRp": own,
            "boundOtherRp": outcome(bound.enumerate_creds_begin, sha256(state["rp_b"].encode())),
            "boundMetadata": outcome(bound.get_metadata),
            "boundEnumerateRps": outcome(bound.enumerate_rps_begin),
        }

    def preview():
        if not ctap2.info.options.get("credentialMgmtPreview"):
            return {"served": False}
        expect("FIDO_2_1_PRE" in ctap2.info.versions, "credentialMgmtPreview without FIDO_2_1_PRE in versions")
        p = cm(ctap=_PreviewCtap(ctap2))
        m = p.get_metadata()
        rps = p.enumerate_rps()
        return {"served": True, "existing": m[R.EXISTING_CRED_COUNT], "rps": len(rps)}

    if checks.run("cm.setup", setup) is not None:
        checks.run("cm.metadata", metadata)
        checks.run("cm.enumerate_rps", enumerate_rps)
        checks.run("cm.enumerate_creds", enumerate_creds)
        checks.run("cm.update_user", update_user)
        checks.run("cm.delete", delete)
        checks.run("cm.authorization", authorization)
        checks.run("cm.preview", preview)
    device.close()
    checks.finish()


if __name__ == "__main__":
    main()
