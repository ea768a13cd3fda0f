"""Host side of the provisioning frames (firmware/badge/serial_link.py is the badge side).

  sync | seq u8 | len u16 BE | body (one CBOR item) | crc32 u32 BE over seq..body
  sync = A5 5A for requests (host -> badge), A5 5B for answers (badge -> host)

`Link.request(body)` sends a frame with the next seq and waits for the answer with that seq.
Garbage, frames with a bad CRC and answers to older requests are skipped; when nothing good
arrives within the timeout the same frame (same seq) is sent again, and the badge answers a
repeat from its cache instead of running the command twice. A port that disappears (cable
pulled) is LinkLost; no good answer after the retries is LinkTimeout, or LinkCorrupt when
what came back was damaged frames.
"""
import struct
import termios
import time
import zlib

import serial

from .errors import LinkCorrupt, LinkLost, LinkTimeout, PortUnavailable

SYNC_REQ = b"\xa5\x5a"
SYNC_ANS = b"\xa5\x5b"
MAX_BODY = 2048
_EMPTY_READS = 50
_HDR = 5


def crc(data):
    return zlib.crc32(data) & 0xFFFFFFFF


def encode(seq, body, sync=SYNC_REQ):
    if len(body) > MAX_BODY:
        raise ValueError("body too long")
    head = struct.pack(">BH", seq & 0xFF, len(body))
    return sync + head + body + struct.pack(">I", crc(head + body))


class Decoder:
    """Incremental parser: feed(bytes) -> [(seq, body)]; counts garbage and bad CRCs."""

    def __init__(self, sync=SYNC_ANS):
        self.sync = sync
        self.buf = bytearray()
        self.garbage = 0
        self.bad_crc = 0

    def feed(self, data):
        self.buf += data
        out = []
        while True:
            i = self.buf.find(self.sync)
            if i < 0:
                keep = 1 if self.buf[-1:] == b"\xa5" else 0
                self.garbage += len(self.buf) - keep
                del self.buf[:len(self.buf) - keep]
                return out
            self.garbage += i
            del self.buf[:i]
            if len(self.buf) < _HDR:
                return out
            n = int.from_bytes(self.buf[3:5], "big")
            if n > MAX_BODY:
                self.bad_crc += 1
                del self.buf[:1]
                continue
            end = _HDR + n + 4
            if len(self.buf) < end:
                return out
            if crc(bytes(self.buf[2:end - 4])) != int.from_bytes(self.buf[end - 4:end], "big"):
                self.bad_crc += 1
                del self.buf[:1]
                continue
            out.append((self.buf[2], bytes(self.buf[_HDR:end - 4])))
            del self.buf[:end]


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
        self.dec = Decoder()
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

    def request(self, body, timeout=None):
        """Send one request body, return the answer body (bytes)."""
        self.seq = (self.seq + 1) & 0xFF
        frame = encode(self.seq, body)
        timeout = self.timeout if timeout is None else timeout
        bad0, junk0 = self.dec.bad_crc, self.dec.garbage
        for _ in range(self.retries + 1):
            self._write(frame)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                for seq, answer in self.dec.feed(self._read()):
                    if seq == self.seq:
                        return answer
        if self.dec.bad_crc > bad0:
            raise LinkCorrupt(f"{self.dec.bad_crc - bad0} damaged frames")
        raise LinkTimeout(f"no answer in {timeout * (self.retries + 1):.1f} s"
                          + (f", {self.dec.garbage - junk0} bytes of other output"
                             if self.dec.garbage > junk0 else ""))

    def close(self):
        try:
            self.port.close()
        except (serial.SerialException, OSError, termios.error):
            pass
