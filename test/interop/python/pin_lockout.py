"""python-fido2 interop: PIN retry limits (CTAP 2.1 §6.5.2.2 pinRetries, §6.5.5.7 consecutive mismatches).

Power cycles are the UDP power-cycle datagram (vfido_udp.power_cycle); the CTAPHID channel survives them.
--mode soft: 3 consecutive wrong PINs -> PIN_INVALID, PIN_INVALID, PIN_AUTH_BLOCKED; then even the right PIN
    gets PIN_AUTH_BLOCKED without costing a retry, and getPINRetries reports powerCycleState; after a power
    cycle the right PIN works and pinRetries is back at the maximum.
--mode blocked: 8 wrong PINs in total (3, power cycle, 3, power cycle, 2) -> pinRetries 0 and PIN_BLOCKED,
    which survives a power cycle (the right PIN, changePIN, makeCredential with the old token all fail);
    only authenticatorReset (right after a power cycle) clears it: no PIN, full retries, a new PIN works.
Each attempt asks for a fresh key agreement (python-fido2 does that for every PIN operation).
"""


from fido2.ctap2.pin import ClientPin

from common import (
    MC,
    add_protocol_argument,
    check_verified_credential,
    expect,
    expect_status,
    outcome,
    pin_protocol,
    power_cycle_device,
    start,
    unique_rp_id,
    uv_make_credential,
)

PIN = "2718"
WRONG_PIN = "9999"
NEW_PIN = "31415"


def add_arguments(parser):
    add_protocol_argument(parser)
    parser.add_argument("--mode", choices=("soft", "blocked"), required=True)


def main():
    args, checks, device, ctap2 = start(__doc__, add_arguments)
    protocol = pin_protocol(args.protocol)
    cp = ClientPin(ctap2, protocol)
    rp_id = unique_rp_id("lockout")

    def wrong(n):
        return [outcome(cp.get_pin_token, WRONG_PIN, MC, rp_id) for _ in range(n)]

    def retries():
        r, power_cycle_state = cp.get_pin_retries()
        return {"pinRetries": r, "powerCycleState": power_cycle_state}

    def setup():
        cp.set_pin(PIN)
        return retries()

    def soft_block():
        attempts = wrong(3)
        after_three = retries()
        right = outcome(cp.get_pin_token, PIN, MC, rp_id)
        fourth_wrong = outcome(cp.get_pin_token, WRONG_PIN, MC, rp_id)
        return {"attempts": attempts, "afterThree": after_three, "rightPin": right, "fourthWrong": fourth_wrong, "after": retries()}

    def after_power_cycle():
        power_cycle_device(args)
        before = retries()
        t = cp.get_pin_token(PIN, MC, rp_id)
        att, _ = uv_make_credential(ctap2, rp_id, protocol, t)
        check_verified_credential(att, rp_id, ctap2.info.aaguid)
        return {"beforeRightPin": before, "rightPin": "OK", "after": retries()}

    def hard_block():
        rounds = []
        for n in (3, 3, 2):
            if rounds:
                power_cycle_device(args)
            rounds.append({"attempts": wrong(n), "after": retries()})
        right = outcome(cp.get_pin_token, PIN, MC, rp_id)
        change = outcome(cp.change_pin, PIN, NEW_PIN)
        return {"rounds": rounds, "rightPin": right, "changePin": change}

    def blocked_after_power_cycle():
        power_cycle_device(args)
        before = retries()
        right = outcome(cp.get_pin_token, PIN, MC, rp_id)
        rk = outcome(uv_make_credential, ctap2, unique_rp_id("lockout-rk"), rk=True)
        return {"retries": before, "rightPin": right, "makeCredentialRkWithoutPin": rk}

    def reset_clears():
        power_cycle_device(args)
        ctap2.reset()
        info = ctap2.get_info()
        expect(info.options.get("clientPin") is False, "clientPin option %r after reset" % info.options.get("clientPin"))
        not_set = expect_status("PIN_NOT_SET", cp.get_pin_token, PIN, MC, rp_id)
        after_reset = retries()
        cp.set_pin(NEW_PIN)
        t = cp.get_pin_token(NEW_PIN, MC, rp_id)
        att, _ = uv_make_credential(ctap2, rp_id, protocol, t)
        check_verified_credential(att, rp_id, ctap2.info.aaguid)
        return {
            "clientPinAfterReset": info.options.get("clientPin"),
            "tokenAfterReset": not_set,
            "afterReset": after_reset,
            "newPin": "OK",
        }

    if checks.run("lockout.setup", setup) is not None:
        if args.mode == "soft":
            if checks.run("lockout.soft_block", soft_block) is not None:
                checks.run("lockout.after_power_cycle", after_power_cycle)
        elif checks.run("lockout.hard_block", hard_block) is not None:
            checks.run("lockout.blocked_after_power_cycle", blocked_after_power_cycle)
            checks.run("lockout.reset_clears", reset_clears)
    device.close()
    checks.finish()


if __name__ == "__main__":
    main()
