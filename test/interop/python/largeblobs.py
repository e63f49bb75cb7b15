"""python-fido2 interop: largeBlobKey and authenticatorLargeBlobs (0x0C) through python-fido2's LargeBlobs class,
with the PIN/UV auth protocol given by --protocol.

  * getInfo: largeBlobs option, maxSerializedLargeBlobArray ≥ 1024, largeBlobKey extension;
  * makeCredential (rk) {"largeBlobKey": true} → a 32-byte key in response member 0x05, a different key per
    credential; getAssertion {"largeBlobKey": true} → the same key in member 0x07;
  * the initial array reads back empty (python-fido2 checks the trailing LEFT(SHA-256, 16));
  * writing needs a pinUvAuthToken once a PIN is set (PUAT_REQUIRED) with the lbw permission
    (PIN_AUTH_INVALID without it);
  * put_blob / get_blob / delete_blob for two credentials: python-fido2 compresses and AES-GCM-encrypts
    each entry under the credential's largeBlobKey, so reading back proves the device stored the array
    byte for byte; deleting one entry leaves the other;
  * a whole-array write whose trailing hash is wrong → INTEGRITY_FAILURE, the stored array unchanged.
python-fido2 0.9.1 sends `length` with every fragment (CTAP 2.1 §6.10.2 allows it only at offset 0), so it
could not write an array longer than one fragment; vfido's fragment (maxMsgSize − 64) exceeds
maxSerializedLargeBlobArray, so it never has to. Multi-fragment writes are covered by libfido2.
"""

import struct

from fido2 import cbor
from fido2.ctap import CtapError
from fido2.ctap2.blob import LargeBlobs
from fido2.ctap2.pin import ClientPin

from common import (
    ES256,
    GA,
    MC,
    add_protocol_argument,
    expect,
    expect_status,
    pin_protocol,
    random_bytes,
    sha256,
    start,
    status_name,
    unique_rp_id,
)

PIN = "2580"
LBW = ClientPin.PERMISSION.LARGE_BLOB_WRITE


def main():
    args, checks, device, ctap2 = start(__doc__, add_protocol_argument)
    protocol = pin_protocol(args.protocol)
    state = {}

    def client_pin():
        return ClientPin(ctap2, protocol)

    def info():
        i = ctap2.get_info()
        expect(i.options.get("largeBlobs") is True, "largeBlobs option %r" % i.options.get("largeBlobs"))
        expect("largeBlobKey" in i.extensions, "getInfo extensions %r lack largeBlobKey" % i.extensions)
        expect(i.max_large_blob is not None and i.max_large_blob >= 1024, "maxSerializedLargeBlobArray %r" % i.max_large_blob)
        client_pin().set_pin(PIN)
        return {"largeBlobs": True, "maxSerializedLargeBlobArray": i.max_large_blob, "maxMsgSize": i.max_msg_size}

    def make_with_key(rp_id):
        cdh = sha256(random_bytes(32))
        token = client_pin().get_pin_token(PIN, MC, rp_id)
        att = ctap2.make_credential(
            cdh,
            {"id": rp_id, "name": "vfido blobs"},
            {"id": random_bytes(16), "name": "lee"},
            [{"type": "public-key", "alg": ES256}],
            extensions={"largeBlobKey": True},
            options={"rk": True},
            pin_uv_param=protocol.authenticate(token, cdh),
            pin_uv_protocol=protocol.VERSION,
        )
        return att

    def keys():
        rp_id = unique_rp_id("lb")
        a1, a2 = make_with_key(rp_id), make_with_key(rp_id)
        k1, k2 = a1.large_blob_key, a2.large_blob_key
        expect(k1 is not None and len(k1) == 32, "largeBlobKey (0x05) %r" % (k1,))
        expect(k2 is not None and k1 != k2, "two credentials got the same largeBlobKey")
        # largeBlobKey is not an authData extension output.
        expect(not (a1.auth_data.extensions or {}).get("largeBlobKey"), "largeBlobKey leaked into authData extensions")
        cred_id = a1.auth_data.credential_data.credential_id
        a = ctap2.get_assertion(rp_id, sha256(random_bytes(32)), [{"type": "public-key", "id": cred_id}], {"largeBlobKey": True})
        expect(a.large_blob_key == k1, "getAssertion largeBlobKey (0x07) differs from makeCredential's")
        state.update(k1=k1, k2=k2)
        return {"keyLength": len(k1), "distinct": True, "assertionKeyMatches": True}

    def initial():
        lb = LargeBlobs(ctap2)
        raw = ctap2.large_blobs(0, get=lb.max_fragment_length)[1]
        arr = lb.read_blob_array()
        expect(arr == [], "initial array %r" % (arr,))
        return {"array": arr, "raw": raw}

    def authorization():
        without = expect_status("PUAT_REQUIRED", LargeBlobs(ctap2).write_blob_array, [])
        ga_token = client_pin().get_pin_token(PIN, GA, unique_rp_id("lb-ga"))
        no_lbw = expect_status("PIN_AUTH_INVALID", LargeBlobs(ctap2, protocol, ga_token).write_blob_array, [])
        return {"withoutToken": without, "withoutLbwPermission": no_lbw}

    def put_get_delete():
        k1, k2 = state["k1"], state["k2"]
        lb = LargeBlobs(ctap2, protocol, client_pin().get_pin_token(PIN, LBW))
        d1, d2 = b"first blob " + random_bytes(40), b"second blob " * 20
        lb.put_blob(k1, d1)
        expect(lb.get_blob(k1) == d1, "blob 1 did not read back")
        lb.put_blob(k2, d2)
        got1, got2 = lb.get_blob(k1), lb.get_blob(k2)
        expect(got1 == d1 and got2 == d2, "blobs did not read back after the second write")
        entries_both = len(lb.read_blob_array())
        lb.delete_blob(k1)
        after1, after2 = lb.get_blob(k1), lb.get_blob(k2)
        expect(after1 is None, "blob 1 still readable after delete_blob")
        expect(after2 == d2, "blob 2 lost when blob 1 was deleted")
        entries_after = lb.read_blob_array()
        expect(len(entries_after) == 1, "%d entries after delete" % len(entries_after))
        state["lb"] = lb
        state["array"] = entries_after
        return {"entriesWithBoth": entries_both, "entriesAfterDelete": len(entries_after), "blob2Intact": True}

    def integrity():
        lb = state["lb"]
        data = cbor.encode([{1: random_bytes(40), 2: random_bytes(12), 3: 30}])
        data += b"\x00" * 16  # not LEFT(SHA-256(data), 16)
        token = client_pin().get_pin_token(PIN, LBW)
        msg = b"\xff" * 32 + b"\x0c\x00" + struct.pack("<I", 0) + sha256(data)
        try:
            ctap2.large_blobs(0, set=data, length=len(data), pin_uv_protocol=protocol.VERSION, pin_uv_param=protocol.authenticate(token, msg))
            outcome = "OK"
        except CtapError as e:
            outcome = status_name(e.code)
        unchanged = lb.read_blob_array() == state["array"]
        expect(outcome == "INTEGRITY_FAILURE", "a wrong trailing hash gave %s" % outcome)
        expect(unchanged, "the stored array changed after INTEGRITY_FAILURE")
        return {"wrongHash": outcome, "arrayUnchanged": unchanged}

    if checks.run("lb.info", info) is not None:
        ok = checks.run("lb.keys", keys) is not None
        checks.run("lb.initial", initial)
        checks.run("lb.authorization", authorization)
        if ok and checks.run("lb.put_get_delete", put_get_delete) is not None:
            checks.run("lb.integrity", integrity)
    device.close()
    checks.finish()


if __name__ == "__main__":
    main()
