"""python-fido2 interop: credentials injected through the WebDriver "Add Credential" shape, with the
credential IDs the WebDriver client chose.

  * non-discoverable (isResidentCredential false): getAssertion with that ID in the allowList answers with
    it, names no user, and the signature verifies with the injected key's public key (CoseKey.verify through
    AssertionResponse.verify); the counter continues from the injected signCount; the ID in an excludeList
    → CREDENTIAL_EXCLUDED; over CTAP1 the same ID is a U2F key handle whose SignatureData verifies;
  * discoverable (isResidentCredential true): a getAssertion without allowList returns it under its chosen ID
    with its user handle, and not the non-discoverable one (numberOfCredentials absent);
  * its largeBlob: the large-blob array read through python-fido2's LargeBlobs.read_blob_array (which checks
    the trailing truncated SHA-256) holds an entry that opens under the largeBlobKey getAssertion returns
    (AES-256-GCM, AAD "blob" || uint64LE(origSize)) and inflates to the injected blob. The entry is DEFLATE
    [RFC 1951] as CTAP 2.1 §6.10.3 says (and libfido2 >= 1.11 writes); python-fido2 0.9.1's own get_blob
    expects zlib framing [RFC 1950] and would not read it, so the script decrypts with cryptography's AESGCM.
Public keys are passed as SubjectPublicKeyInfo DER (hex); IDs, user handle and blob as hex.
"""

import struct
import time
import zlib

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_der_public_key
from fido2.cose import ES256
from fido2.ctap import CtapError
from fido2.ctap1 import APDU, ApduError, Ctap1
from fido2.ctap2.blob import LargeBlobs

from common import expect, expect_ctap_error, random_bytes, sha256, start

POLL_DELAY_SECONDS = 0.05
POLL_ATTEMPTS = 100


def add_arguments(parser):
    parser.add_argument("--rp-id", required=True)
    parser.add_argument("--server-id", required=True, help="hex ID of the non-discoverable credential")
    parser.add_argument("--server-key", required=True, help="hex SPKI DER of its public key")
    parser.add_argument("--server-sign-count", type=int, required=True)
    parser.add_argument("--resident-id", required=True, help="hex ID of the discoverable credential")
    parser.add_argument("--resident-key", required=True, help="hex SPKI DER of its public key")
    parser.add_argument("--user-handle", required=True, help="hex user handle of the discoverable credential")
    parser.add_argument("--large-blob", required=True, help="hex large blob of the discoverable credential")


def main():
    args, checks, device, ctap2 = start(__doc__, add_arguments)
    rp_id = args.rp_id
    server_id = bytes.fromhex(args.server_id)
    resident_id = bytes.fromhex(args.resident_id)
    server_pub = load_der_public_key(bytes.fromhex(args.server_key))
    server_key = ES256.from_cryptography_key(server_pub)
    resident_key = ES256.from_cryptography_key(load_der_public_key(bytes.fromhex(args.resident_key)))

    def allow_list():
        counters = []
        for _ in range(2):
            cdh = sha256(random_bytes(32))
            a = ctap2.get_assertion(rp_id, cdh, [{"type": "public-key", "id": server_id}])
            expect(a.credential["id"] == server_id, "assertion names %s, not the injected ID" % a.credential["id"].hex())
            expect(a.user is None, "a non-discoverable credential's assertion names a user: %r" % (a.user,))
            expect(a.auth_data.rp_id_hash == sha256(rp_id.encode()), "rpIdHash is wrong")
            a.verify(cdh, server_key)
            counters.append(a.auth_data.counter)
        expect(counters == [args.server_sign_count + 1, args.server_sign_count + 2], "counters %r" % counters)
        # Another RP does not know the ID.
        other = expect_ctap_error(
            CtapError.ERR.NO_CREDENTIALS, ctap2.get_assertion, "other-" + rp_id, sha256(b"x"), [{"type": "public-key", "id": server_id}]
        )
        return {"counters": counters, "otherRp": other}

    def discoverable():
        cdh = sha256(random_bytes(32))
        a = ctap2.get_assertion(rp_id, cdh)
        expect(a.credential["id"] == resident_id, "discoverable assertion names %s" % a.credential["id"].hex())
        expect(a.user["id"] == bytes.fromhex(args.user_handle), "user handle %s" % a.user["id"].hex())
        expect(a.number_of_credentials is None, "numberOfCredentials %r: the non-discoverable one was listed" % a.number_of_credentials)
        a.verify(cdh, resident_key)
        return {"counter": a.auth_data.counter}

    def exclude_list():
        name = expect_ctap_error(
            CtapError.ERR.CREDENTIAL_EXCLUDED,
            ctap2.make_credential,
            sha256(random_bytes(32)),
            {"id": rp_id, "name": "vfido"},
            {"id": random_bytes(8), "name": "x"},
            [{"type": "public-key", "alg": -7}],
            exclude_list=[{"type": "public-key", "id": server_id}],
        )
        return {"error": name}

    def large_blob():
        a = ctap2.get_assertion(rp_id, sha256(random_bytes(32)), [{"type": "public-key", "id": resident_id}], extensions={"largeBlobKey": True})
        expect(a.large_blob_key is not None and len(a.large_blob_key) == 32, "no largeBlobKey in the response")
        entries = LargeBlobs(ctap2).read_blob_array()
        blob = None
        for entry in entries:
            try:
                ad = b"blob" + struct.pack("<Q", entry[3])
                compressed = AESGCM(a.large_blob_key).decrypt(entry[2], entry[1], ad)
            except (InvalidTag, KeyError, TypeError, ValueError):
                continue
            blob = zlib.decompress(compressed, -15)  # raw DEFLATE (RFC 1951)
            expect(len(blob) == entry[3], "origSize %d, inflated %d bytes" % (entry[3], len(blob)))
            break
        expect(blob == bytes.fromhex(args.large_blob), "large blob %r" % (blob,))
        return {"length": len(blob), "entries": len(entries)}

    def u2f_key_handle():
        ctap1 = Ctap1(device)
        app = sha256(rp_id.encode())
        challenge = sha256(random_bytes(32))
        point = server_pub.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        for _ in range(POLL_ATTEMPTS):
            try:
                sig = ctap1.authenticate(challenge, app, server_id)
                break
            except ApduError as e:
                if e.code != APDU.USE_NOT_SATISFIED:
                    raise
                time.sleep(POLL_DELAY_SECONDS)
        else:
            raise AssertionError("no user presence after %d polls" % POLL_ATTEMPTS)
        sig.verify(app, challenge, point)
        return {"counter": sig.counter, "userPresence": sig.user_presence}

    checks.run("non_discoverable.allow_list", allow_list)
    checks.run("discoverable.no_allow_list", discoverable)
    checks.run("non_discoverable.exclude_list", exclude_list)
    checks.run("discoverable.large_blob", large_blob)
    checks.run("non_discoverable.u2f_key_handle", u2f_key_handle)
    checks.finish()


if __name__ == "__main__":
    main()
