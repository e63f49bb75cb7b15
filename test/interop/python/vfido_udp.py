"""python-fido2 (0.9.x) connection to a vfido device over UDP.

UDP convention (the SoloKeys simulator's): one raw 64-byte CTAPHID report per datagram, no report-ID byte;
the device listens on host:port and answers to the sender's address. python-fido2 does all CTAPHID framing
itself: this module only moves reports.
"""

import socket

from fido2.hid import CtapHidDevice
from fido2.hid.base import CtapHidConnection, HidDescriptor

REPORT_SIZE = 64

# The UDP "power cycle" datagram: a 64-byte magic report the device treats as unplug + replug
# (volatile state dropped, persistent state reloaded, reset window restarted). It gets no reply.
POWER_CYCLE = bytes.fromhex(
    "ac1052ca95e569de69e02ebff333485f13f9b2da34c5a8a340526697a9ab2e0b"
    "394d8d04973c134005be1a0140bff6045bb26eb77a73eaa47813f6b49a7250dc"
)
assert len(POWER_CYCLE) == REPORT_SIZE


class UdpCtapHidConnection(CtapHidConnection):
    """CtapHidConnection over a UDP socket connected to (host, port).

    read_packet raises socket.timeout after `timeout` seconds without a report, so a silent device fails the
    check instead of hanging the suite.
    """

    def __init__(self, host, port, timeout=10.0):
        self.address = (host, port)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        # connect(): send() goes to the device and the kernel drops datagrams from anyone else.
        self._sock.connect(self.address)
        self._sock.settimeout(timeout)

    def write_packet(self, data):
        if len(data) != REPORT_SIZE:
            raise ValueError("expected a %d-byte report, got %d bytes" % (REPORT_SIZE, len(data)))
        self._sock.send(bytes(data))

    def read_packet(self):
        data = self._sock.recv(REPORT_SIZE + 1)  # one more byte so an oversized datagram is detected
        if len(data) != REPORT_SIZE:
            raise ValueError("device sent a %d-byte datagram, expected %d" % (len(data), REPORT_SIZE))
        return data

    def close(self):
        self._sock.close()


def open_device(host, port, timeout=10.0):
    """Open a CtapHidDevice on a vfido UDP device (sends CTAPHID_INIT, as opening a HID key does)."""
    descriptor = HidDescriptor("udp:%s:%d" % (host, port), 0, 0, REPORT_SIZE, REPORT_SIZE)
    connection = UdpCtapHidConnection(host, port, timeout)
    try:
        return CtapHidDevice(descriptor, connection)
    except Exception:
        connection.close()
        raise


def power_cycle(host, port):
    """Send the power-cycle datagram (no reply expected)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.sendto(POWER_CYCLE, (host, port))
    finally:
        sock.close()
