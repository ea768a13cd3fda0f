"""nfcpy on a simulated badge: `frontend("udp:127.0.0.1:<port>")` is an nfc.ContactlessFrontend
whose udp driver waits for the badge's answer, or for the word the badge's RF server sends where
its tag stays silent (hardware/nt3h2111/rf_udp.py: "SILENT 00").

Why. nfcpy's udp driver (nfc/clf/udp.py, 1.0.4) waits each frame's own timeout (5 ms for a READ,
50 ms for the tests' raw frames) and takes silence for an answer that did not come. A real tag
answers within microseconds or not at all; a simulated badge answers when its MicroPython process
is scheduled, which on a loaded machine is later than any of those timeouts: the read fails at
random, and what a test asserts would depend on the machine. With this driver a frame has the
outcome the tag gives it: the answer, or TimeoutError when the tag is silent, as a real tag that
answered at once. hardware/pn532/rf.py's UDPLink does the same for the simulated terminals, with
the same bound (SIM_WAIT_MS) for a badge process that is gone: then it is silence.

Everything above the driver is nfcpy's own: ContactlessFrontend, the Type 2 tag code (NDEF read,
sector select), the anticollision. Only the wait in Device._recv_data is replaced, and each frame
goes out with a number (Device._send_data): a driver that waits for every answer sends a frame
twice only as two commands, which the server answers both; a copy of the same command (a reader
that gave up waiting, `copy_next`) keeps the number and is not answered twice. The server's
handling of nfcpy's retransmissions (repeats, held frames) is tested with nfcpy's own driver
(tests/hardware/test_nt3h2111_udp.py); everything that reads a simulated badge uses this one.
"""
import select
import time
from binascii import hexlify, unhexlify

import nfc
import nfc.clf
import nfc.clf.udp

from hardware.pn532.rf import SIM_WAIT_MS


class SimulatedBadgeUDP(nfc.clf.udp.Device):
    """nfcpy's udp driver, its waits bounded by the badge's answer or silence, not the clock."""

    _n = 0
    copy_next = False       # True: the next frame is a copy of the one before (its number)

    def _send_data(self, brty, data, addr):
        # nfcpy's own, with the frame's number after it
        if not self.copy_next:
            self._n += 1
        self.copy_next = False
        out = b"%s %s #%d" % (brty.encode("latin"), hexlify(data), self._n)
        if self.socket.sendto(out, addr) != len(out):
            raise nfc.clf.TransmissionError("failed to send data")
        self.sent_data += len(out)

    def _recv_data(self, timeout, *brty_list):
        # timeout is what nfcpy would wait for a real tag; a simulated one is waited for until it
        # answers, says it is silent, or is gone (SIM_WAIT_MS); a frame the tag would never get
        # an answer to (timeout None: nfcpy as a listener) keeps nfcpy's meaning
        limit = None if timeout is None else max(timeout, SIM_WAIT_MS / 1000)
        deadline = None if limit is None else time.monotonic() + limit
        while True:
            wait = None if deadline is None else deadline - time.monotonic()
            if wait is not None and wait <= 0:
                break
            if not select.select([self.socket], [], [], wait)[0]:
                break
            data, addr = self.socket.recvfrom(1024)
            if data.startswith(b"RFOFF"):
                raise nfc.clf.BrokenLinkError("RFOFF")
            parts = data.split()
            if len(parts) != 2:
                raise nfc.clf.TransmissionError("no data")
            if parts[0] == b"SILENT":
                raise nfc.clf.TimeoutError("the tag stayed silent")
            brty = parts[0].decode("ascii")
            payload = bytearray(unhexlify(parts[1]))
            self.rcvd_data += len(payload)
            if brty in brty_list:
                return brty, payload, addr
        raise nfc.clf.TimeoutError("no data received")


def frontend(path):
    """An nfc.ContactlessFrontend on `udp:HOST:PORT` (a simulated badge's path) through
    SimulatedBadgeUDP; ValueError for any other path."""
    parts = path.split(":")
    if len(parts) != 3 or parts[0] != "udp":
        raise ValueError("not a simulated badge's path (udp:HOST:PORT): %r" % path)
    device = SimulatedBadgeUDP(parts[1] or "localhost", int(parts[2]))
    device._vendor_name, device._device_name, device._chipset_name = (
        "Simulation", "IP-Stack", "UDP")
    device._path = path
    clf = nfc.ContactlessFrontend()
    with clf.lock:
        clf.device = device
    return clf

