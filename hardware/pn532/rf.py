"""The PN532 model's RF side: to a tag model in-process, or to a simulated badge over UDP.

Both speak ISO/IEC 14443-A frames without CRC: field(on), exchange(frame, timeout_ms) -> bytes
or None (the tag stayed silent), place() / remove() (the badge comes into / leaves the field).

UDPLink is a reader client in the datagram format of nfcpy's `udp` driver (nfc/clf/udp.py,
1.0.4): "106A <hex>" out and back, "RFOFF" when the field goes off. Its frames carry a number
("106A <hex> #<n>"): it waits for every answer, so a frame sent twice is two commands.
From the tag's side a badge leaving the field and the field switching off look the same, so
remove() sends RFOFF too.
Stale answers (to a frame that already timed out) are drained before every send. Runs under
MicroPython (unix port: socket, select.poll) and CPython.

Time. A real tag answers within microseconds or not at all, so the PN532's timeout
(RFConfiguration item 2) only ever measures silence. A simulated badge answers when its process
runs, which on a loaded machine can be later than any chip timeout, so the badge's server
(hardware/nt3h2111/rf_udp.py) says "SILENT" where its tag is silent, and this link waits for an
answer or that word: the outcome of a frame does not depend on scheduling. SIM_WAIT_MS bounds
the wait for a badge process that is gone (killed, not started): then it is silence.
"""
import binascii
import select
import socket

from xinka.compat import sleep_ms, ticks_diff, ticks_ms

SIM_WAIT_MS = 5000             # a simulated badge that says nothing for this long is gone


class TagLink:
    """A tag model object (rf_field(on), rf_exchange(frame)) in the same process."""

    def __init__(self, tag, present=True):
        self.tag = tag
        self.present = present
        self._on = False
        self.frames = 0

    def field(self, on):
        self._on = on
        if self.present:
            self.tag.rf_field(on)

    def place(self, tag=None):
        if tag is not None:
            self.tag = tag
        self.present = True
        if self._on:
            self.tag.rf_field(True)

    def remove(self):
        if self.present and self._on:
            self.tag.rf_field(False)
        self.present = False

    def exchange(self, frame, timeout_ms):
        if not (self.present and self._on):
            return None
        self.frames += 1
        return self.tag.rf_exchange(bytes(frame))


class UDPLink:
    """A simulated badge listening on host:port in nfcpy's udp format (None: no badge)."""

    def __init__(self, port=None, host="127.0.0.1"):
        self.host = host
        self.port = port
        self.present = port is not None
        self.sock = None
        self._addr = None
        self._on = False
        self._sent = False
        self.frames = 0
        self.datagrams_in = 0

    def _open(self):
        if self.sock is None:
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self._poll = select.poll()
            self._poll.register(self.sock, select.POLLIN)
            self._addr = socket.getaddrinfo(self.host, self.port)[0][-1]
            self._sent = False

    def close(self):
        if self.sock is not None:
            self._rfoff()
            self._poll.unregister(self.sock)
            self.sock.close()
            self.sock = None

    def _rfoff(self):
        if self.sock is not None and self._sent:
            try:
                self.sock.sendto(b"RFOFF", self._addr)
            except OSError:
                pass
            self._sent = False

    def field(self, on):
        if self._on and not on:
            self._rfoff()
        self._on = on

    def place(self, port=None):
        if port is not None and port != self.port:
            self.close()
            self.port = port
        self.present = self.port is not None

    def remove(self):
        self._rfoff()
        self.present = False

    def _drain(self):
        while self._poll.poll(0):
            try:
                self.sock.recvfrom(1024)
            except OSError:
                return

    def exchange(self, frame, timeout_ms):
        if not (self.present and self._on):
            sleep_ms(min(timeout_ms, 5))
            return None
        self._open()
        self._drain()
        self.frames += 1
        try:
            # numbered: this link waits for every answer, so a frame sent again (a page polled)
            # is a new command, not a repeat (hardware/nt3h2111/rf_udp.py, "Answers and time")
            self.sock.sendto(b"106A " + binascii.hexlify(bytes(frame)) + b" #" +
                             str(self.frames).encode(), self._addr)
        except OSError:
            return None
        self._sent = True
        t0 = ticks_ms()
        limit = max(timeout_ms, SIM_WAIT_MS)
        while True:
            left = max(0, limit - ticks_diff(ticks_ms(), t0))
            if not self._poll.poll(left):
                return None
            try:
                data, _ = self.sock.recvfrom(1024)
            except OSError:
                return None
            self.datagrams_in += 1
            parts = data.split()
            if len(parts) == 2 and parts[0] == b"SILENT":
                return None
            if len(parts) == 2 and parts[0] == b"106A":
                try:
                    return binascii.unhexlify(parts[1])
                except ValueError:
                    return None
