"""Host side of the provisioning link (firmware/badge/serial_link.py is the badge side).

The frames are xinka.frames (docs/technician.md "Serial protocol"): the host sends requests
with SYNC_REQ and decodes answers with Decoder(SYNC_ANS).

`Link.request(body)` sends a frame with the next seq and waits for the answer with that seq.
Garbage, damaged frames (a bad CRC or a length above MAX_BODY) and answers to older requests
are skipped; when nothing good arrives within the timeout the same frame (same seq) is sent
again, and the badge answers a repeat from its cache instead of running the command twice. A
port that disappears (cable pulled) is LinkLost; no good answer after the retries is
LinkTimeout, or LinkCorrupt when what came back was damaged frames.
"""
import termios
import time

import serial

from xinka.frames import SYNC_ANS, SYNC_REQ, Decoder, encode

from .errors import LinkCorrupt, LinkLost, LinkTimeout, PortUnavailable

_EMPTY_READS = 50


def open_port(port, baud=115200):
    """A pyserial port in raw 8N1 at `baud`; PortUnavailable when it cannot be opened."""
    try:
        return serial.serial_for_url(port, baudrate=baud, timeout=0.05, write_timeout=5,
                                     exclusive=True)
    except (serial.SerialException, OSError, ValueError) as err:
        raise PortUnavailable(f"{port}: {err}") from err


class Link:
    """Requests over a pyserial-like port (read(n), write(b), close()).

    `tap(direction, data)`, if given, sees every byte: "tx" host->badge, "rx" badge->host.
    """

    def __init__(self, port, timeout=2.0, retries=2, tap=None):
        self.port = port
        self.timeout = timeout
        self.retries = retries
        self.tap = tap
        self.seq = 0
        self.dec = Decoder(SYNC_ANS)
        self.bytes_tx = 0
        self.bytes_rx = 0
        self._empty = 0

    def _write(self, data):
        if self.tap:
            self.tap("tx", data)
        self.bytes_tx += len(data)
        try:
            self.port.write(data)
            self.port.flush()
        except (serial.SerialException, OSError, termios.error) as err:
            # a pty whose other end went away fails tcdrain with termios.error (EIO)
            raise LinkLost(str(err)) from err

    def _read(self):
        try:
            data = self.port.read(max(1, getattr(self.port, "in_waiting", 0) or 1))
            self._empty = 0
        except (serial.SerialException, OSError, TypeError) as err:
            # pyserial reports a readable-but-empty read as a disconnect; a Linux tty can wake
            # a reader before its data is there (pty buffer work is deferred), so only a run
            # of them means the port is gone. A closed port reads EIO: lost at once.
            if "returned no data" in str(err) and self._empty < _EMPTY_READS:
                self._empty += 1
                time.sleep(0.002)
                return b""
            raise LinkLost(str(err)) from err
        if data:
            if self.tap:
                self.tap("rx", data)
            self.bytes_rx += len(data)
        return data

    def _damaged(self):
        """Damaged answer frames so far: a bad CRC, or a length no badge sends."""
        return self.dec.bad_crc + self.dec.oversized

    def request(self, body, timeout=None):
        """Send one request body, return the answer body (bytes)."""
        self.seq = (self.seq + 1) & 0xFF
        frame = encode(self.seq, body, SYNC_REQ)
        timeout = self.timeout if timeout is None else timeout
        bad0, junk0 = self._damaged(), self.dec.garbage
        for _ in range(self.retries + 1):
            self._write(frame)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                for seq, answer, _ in self.dec.feed(self._read()):
                    if seq == self.seq:
                        return answer
        if self._damaged() > bad0:
            raise LinkCorrupt(f"{self._damaged() - bad0} damaged frames")
        raise LinkTimeout(f"no answer in {timeout * (self.retries + 1):.1f} s"
                          + (f", {self.dec.garbage - junk0} bytes of other output"
                             if self.dec.garbage > junk0 else ""))

    def close(self):
        try:
            self.port.close()
        except (serial.SerialException, OSError, termios.error):
            pass
