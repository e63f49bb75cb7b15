"""python-fido2 (0.9.x) against a vfido device with faults armed through the control API.

One scenario per run (--scenario); the TypeScript test arms the faults first, this script only acts as the
client and reports what python-fido2 itself sees: its CtapError codes, its signature verification, the
counters it reads, its own read timeout. Output: JSON lines, as test/interop/python/common.py prints them.

  status        getAssertion is answered with the status the fault chose (then, one-shot, a normal one)
  bad-signature python-fido2's verify() rejects the damaged signature (then accepts the next one)
  counter       the counters python-fido2 reads go 1, 2, then back to 1 (regression visible)
  drop          the response to getPINRetries never comes (socket timeout), the next call is answered
  pin-blocked   getPINRetries reports 0 and a PIN token is refused with PIN_BLOCKED
"""

import os
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "interop", "python"))

from cryptography.exceptions import InvalidSignature  # noqa: E402
from fido2.ctap import CtapError  # noqa: E402
from fido2.ctap2 import Ctap2  # noqa: E402
from fido2.ctap2.pin import ClientPin  # noqa: E402

from common import Checks, connect, expect, expect_ctap_error, parse_args, random_bytes, sha256  # noqa: E402

RP_ID = "faults.example.com"


def main():
    args = parse_args(__doc__, lambda p: p.add_argument("--scenario", required=True))
    checks = Checks()
    device = connect(args)
    ctap2 = Ctap2(device)

    def make():
        att = ctap2.make_credential(
            sha256(random_bytes(32)),
            {"id": RP_ID, "name": "faults"},
            {"id": random_bytes(16), "name": "dave", "displayName": "Dave"},
            [{"type": "public-key", "alg": -7}],
        )
        return att.auth_data.credential_data

    def assertion(cred):
        cdh = sha256(random_bytes(32))
        a = ctap2.get_assertion(RP_ID, cdh, [{"type": "public-key", "id": cred.credential_id}])
        return a, cdh

    def status():
        cred = make()
        name = expect_ctap_error(CtapError.ERR.NO_CREDENTIALS, ctap2.get_assertion, RP_ID, sha256(b"x"),
                                 [{"type": "public-key", "id": cred.credential_id}])
        a, cdh = assertion(cred)
        a.verify(cdh, cred.public_key)
        return {"first": name, "then": "ok"}

    def bad_signature():
        cred = make()
        a, cdh = assertion(cred)
        try:
            a.verify(cdh, cred.public_key)
            rejected = False
        except InvalidSignature:
            rejected = True
        expect(rejected, "python-fido2 accepted the damaged signature")
        b, cdh2 = assertion(cred)
        b.verify(cdh2, cred.public_key)
        return {"rejected": rejected}

    def counter():
        cred = make()
        counters = []
        for _ in range(3):
            a, cdh = assertion(cred)
            a.verify(cdh, cred.public_key)  # the lying device signed its lie
            counters.append(a.auth_data.counter)
        expect(counters[2] <= counters[1], "no regression visible: %r" % counters)
        return {"counters": counters}

    def drop():
        pin = ClientPin(ctap2)
        try:
            pin.get_pin_retries()
            timed_out = False
        except (socket.timeout, TimeoutError):
            timed_out = True
        expect(timed_out, "the dropped response arrived anyway")
        retries = pin.get_pin_retries()[0]
        return {"timedOut": timed_out, "retriesAfterwards": retries}

    def pin_blocked():
        pin = ClientPin(ctap2)
        retries = pin.get_pin_retries()[0]
        expect(retries == 0, "pinRetries is %d" % retries)
        name = expect_ctap_error(
            CtapError.ERR.PIN_BLOCKED, pin.get_pin_token, "1234", ClientPin.PERMISSION.GET_ASSERTION, RP_ID
        )
        return {"retries": retries, "token": name}

    scenarios = {"status": status, "bad-signature": bad_signature, "counter": counter, "drop": drop, "pin-blocked": pin_blocked}
    checks.run(args.scenario, scenarios[args.scenario])
    checks.finish()


if __name__ == "__main__":
    main()
