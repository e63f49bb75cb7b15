"""python-fido2 interop: authenticatorReset and the power-up reset window.

--mode window (default): make a resident and a non-resident credential, power-cycle the device (the UDP
    power-cycle datagram), then authenticatorReset must succeed; afterwards neither credential is found.
--mode late: power-cycle, wait --wait-ms (longer than the device's reset window), then authenticatorReset
    must fail with CTAP2_ERR_NOT_ALLOWED and the credentials must still be there.
Only CTAPHID_INIT and getInfo are sent between the power cycle and the reset (other commands may close the
window on some authenticators).
"""

import time

from fido2.ctap import CtapError
from fido2.ctap2 import Ctap2

from common import (
    ES256,
    Checks,
    check_new_credential,
    connect,
    expect,
    expect_ctap_error,
    parse_args,
    random_bytes,
    sha256,
    unique_rp_id,
)
from vfido_udp import power_cycle

# The device handles the power-cycle datagram asynchronously and does not answer it; give it this long
# before the first report of the new power-up.
SETTLE_SECONDS = 0.2


def add_arguments(parser):
    parser.add_argument("--mode", choices=("window", "late"), default="window")
    parser.add_argument("--wait-ms", type=int, default=0, help="late mode: how long to wait after the power cycle")


def main():
    args = parse_args(__doc__, add_arguments)
    checks = Checks()
    state = {}

    def setup():
        device = connect(args)
        ctap2 = Ctap2(device)
        rp_id = unique_rp_id("reset")
        made = {}
        for rk in (True, False):
            att = ctap2.make_credential(
                sha256(random_bytes(32)),
                {"id": rp_id, "name": "vfido interop"},
                {"id": random_bytes(16), "name": "frank"},
                [{"type": "public-key", "alg": ES256}],
                options={"rk": True} if rk else None,
            )
            made["rk" if rk else "nonrk"] = check_new_credential(att, rp_id, ES256, ctap2.info.aaguid)
        device.close()
        state.update(rp_id=rp_id, creds=made)
        return {"rpId": rp_id}

    def find(ctap2):
        """Which of the setup credentials the device still knows."""
        rp_id, creds = state["rp_id"], state["creds"]
        found = {}
        try:
            a = ctap2.get_assertion(rp_id, sha256(b"discoverable"))
            found["rk"] = a.credential["id"] == creds["rk"].credential_id
        except CtapError as e:
            expect(e.code == CtapError.ERR.NO_CREDENTIALS, "discoverable lookup failed with %s" % e.code)
            found["rk"] = False
        try:
            listed = [{"type": "public-key", "id": creds["nonrk"].credential_id}]
            ctap2.get_assertion(rp_id, sha256(b"allow list"), listed)
            found["nonrk"] = True
        except CtapError as e:
            expect(e.code == CtapError.ERR.NO_CREDENTIALS, "allowList lookup failed with %s" % e.code)
            found["nonrk"] = False
        return found

    def reset_in_window():
        power_cycle(args.host, args.port)
        time.sleep(SETTLE_SECONDS)
        device = connect(args)
        try:
            ctap2 = Ctap2(device)  # getInfo only
            ctap2.reset()
            found = find(ctap2)
            expect(found == {"rk": False, "nonrk": False}, "credentials survived the reset: %r" % found)
            return {"reset": "ok", "foundAfterReset": found}
        finally:
            device.close()

    def reset_late():
        power_cycle(args.host, args.port)
        time.sleep(SETTLE_SECONDS + args.wait_ms / 1000.0)
        device = connect(args)
        try:
            ctap2 = Ctap2(device)
            name = expect_ctap_error(CtapError.ERR.NOT_ALLOWED, ctap2.reset)
            found = find(ctap2)
            expect(found == {"rk": True, "nonrk": True}, "credentials lost after a refused reset: %r" % found)
            return {"error": name, "waitedMs": args.wait_ms, "foundAfterRefusal": found}
        finally:
            device.close()

    if checks.run("reset.setup", setup) is not None:
        if args.mode == "window":
            checks.run("reset.after_power_cycle", reset_in_window)
        else:
            checks.run("reset.after_window", reset_late)
    checks.finish()


if __name__ == "__main__":
    main()
