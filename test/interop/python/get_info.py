"""python-fido2 interop: CTAPHID INIT/PING and authenticatorGetInfo, parsed by fido2's Info."""

from fido2.ctap2 import Ctap2
from fido2.hid import CAPABILITY

from common import Checks, connect, expect, parse_args, random_bytes


def main():
    args = parse_args(__doc__)
    checks = Checks()
    device = None

    def init():
        nonlocal device
        device = connect(args)  # CTAPHID_INIT on the broadcast channel, nonce checked by python-fido2
        caps = device.capabilities
        expect(device.version == 2, "CTAPHID protocol version %r, expected 2" % device.version)
        expect(CAPABILITY.CBOR.supported(caps), "CAPABILITY_CBOR not set")
        return {
            "ctaphidVersion": device.version,
            "deviceVersion": list(device.device_version),
            "capabilities": caps,
            "cbor": CAPABILITY.CBOR.supported(caps),
            "wink": CAPABILITY.WINK.supported(caps),
            "nmsg": CAPABILITY.NMSG.supported(caps),
        }

    def ping():
        # Short (one init packet) and long (init + many continuation packets each way) echoes.
        sizes = [0, 8, 57, 58, 1000]
        for n in sizes:
            data = random_bytes(n)
            echo = device.ping(data)
            expect(echo == data, "PING of %d bytes echoed %d different bytes" % (n, len(echo)))
        return {"sizes": sizes}

    def get_info():
        ctap2 = Ctap2(device)  # strict_cbor: python-fido2 re-encodes the response and rejects non-canonical CBOR
        info = ctap2.get_info()
        expect(isinstance(info.versions, list) and info.versions, "versions missing")
        expect(len(info.aaguid) == 16, "aaguid is %d bytes" % len(info.aaguid))
        expect(isinstance(info.options, dict), "options is not a map")
        algorithms = info.algorithms or []
        for a in algorithms:
            expect(a.get("type") == "public-key" and isinstance(a.get("alg"), int), "bad algorithm entry %r" % (a,))
        return {
            "versions": info.versions,
            "extensions": info.extensions,
            "aaguid": info.aaguid.hex(),
            "options": info.options,
            "maxMsgSize": info.max_msg_size,
            "pinUvAuthProtocols": info.pin_uv_protocols,
            "maxCredentialCountInList": info.max_creds_in_list,
            "maxCredentialIdLength": info.max_cred_id_length,
            "transports": info.transports,
            "algorithms": [a["alg"] for a in algorithms],
            "firmwareVersion": info.firmware_version,
            "remainingDiscoverableCredentials": info.remaining_disc_creds,
        }

    checks.run("ctaphid_init", init)
    if device is not None:
        checks.run("ctaphid_ping", ping)
        checks.run("get_info", get_info)
        device.close()
    checks.finish()


if __name__ == "__main__":
    main()
