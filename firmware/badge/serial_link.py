"""Framed, checksummed link for provisioning over the USB serial port (never the REPL).

One frame, both directions (docs/technician.md "Serial protocol"; provisioning/link.py is the
host side and must produce the same bytes):

  sync | seq u8 | len u16 BE | body (len bytes, one CBOR item) | crc32 u32 BE over seq..body
  sync = A5 5A for requests (host -> badge), A5 5B for answers (badge -> host), so an echo
  (a REPL, a loopback) is never taken for an answer.

The receiver hunts for its sync, so garbage between frames (a ROM boot banner, line noise, a
REPL prompt) is skipped. A length above MAX_BODY or a CRC mismatch drops the first sync byte and
hunts again from the next one; a frame left incomplete for `timeout_ms` between bytes is
dropped. The badge answers each request with the request's seq; a repeated request (same seq,
same CRC: the host retrying after a lost answer) gets the cached answer again, not a re-run.

Runs under MicroPython and CPython; the stream is anything with read(n) -> bytes and
write(b): PollStream wraps a pollable input/output pair (sys.stdin.buffer / sys.stdout.buffer
on the badge's USB-CDC, a pty in the simulator).
"""
from xinka.compat import const, ticks_diff, ticks_ms

import binascii
import select
import struct

SYNC_REQ = b"\xa5\x5a"
SYNC_ANS = b"\xa5\x5b"
MAX_BODY = const(2048)
_HDR = const(5)
_TRAILER = const(4)


class LinkClosed(Exception):
    """The other end went away (USB unplugged, pty master closed)."""


def crc(data):
    return binascii.crc32(data) & 0xFFFFFFFF


def encode(seq, body, sync=SYNC_ANS):
    """The frame bytes for `body` (bytes) with sequence number `seq` (0..255)."""
    if len(body) > MAX_BODY:
        raise ValueError("body too long")
    head = struct.pack(">BH", seq & 0xFF, len(body))
    return sync + head + body + struct.pack(">I", crc(head + body))


class Decoder:
    """Incremental frame parser: feed(bytes) -> list of (seq, body, frame_crc).

    Counters for diagnostics: garbage (bytes skipped while hunting), bad_crc, oversized,
    truncated (partial frames dropped by expire()).
    """

    def __init__(self, sync=SYNC_REQ):
        self.sync = sync
        self.buf = bytearray()
        self.garbage = 0
        self.bad_crc = 0
        self.oversized = 0
        self.truncated = 0

    def feed(self, data):
        self.buf.extend(data)
        out = []
        while True:
            buf = self.buf
            i = bytes(buf).find(self.sync)
            if i < 0:
                keep = 1 if buf and buf[-1] == 0xA5 else 0
                self.garbage += len(buf) - keep
                self.buf = bytearray(buf[len(buf) - keep:])
                return out
            if i:
                self.garbage += i
                self.buf = buf = bytearray(buf[i:])
            if len(buf) < _HDR:
                return out
            n = (buf[3] << 8) | buf[4]
            if n > MAX_BODY:
                self.oversized += 1
                self.buf = bytearray(buf[1:])
                continue
            end = _HDR + n + _TRAILER
            if len(buf) < end:
                return out
            got = struct.unpack(">I", bytes(buf[end - 4:end]))[0]
            if crc(bytes(buf[2:end - 4])) != got:
                self.bad_crc += 1
                self.buf = bytearray(buf[1:])
                continue
            out.append((buf[2], bytes(buf[_HDR:_HDR + n]), got))
            self.buf = bytearray(buf[end:])

    def pending(self):
        return len(self.buf)

    def expire(self):
        """Drop a partial frame (the inter-byte timeout ran out)."""
        if self.buf:
            self.truncated += 1
            self.buf = bytearray()


class PollStream:
    """read(n, timeout_ms) / write(b) over a pollable input and an output stream.

    read returns b"" on timeout and raises LinkClosed on hang-up or an I/O error.
    """

    def __init__(self, inp, out):
        self.inp = inp
        self.out = out
        self.poll = select.poll()
        self.poll.register(inp, select.POLLIN)

    def read(self, n, timeout_ms):
        try:
            ev = self.poll.poll(timeout_ms)
        except OSError:
            raise LinkClosed("poll failed")
        if not ev:
            return b""
        flags = ev[0][1]
        if flags & select.POLLIN:
            got = bytearray()
            try:
                while len(got) < n:
                    b = self.inp.read(1)
                    if not b:
                        break
                    got.extend(b)
                    if not self.poll.poll(0):
                        break
            except OSError:
                raise LinkClosed("read failed")
            if got:
                return bytes(got)
            raise LinkClosed("end of stream")
        if flags & (select.POLLHUP | select.POLLERR):
            raise LinkClosed("hang-up")
        return b""

    def write(self, data):
        try:
            mv = memoryview(data)
            while len(mv):
                n = self.out.write(mv)
                if n is None:
                    n = 0
                mv = mv[n:]
            if hasattr(self.out, "flush"):
                self.out.flush()
        except OSError:
            raise LinkClosed("write failed")


class Link:
    """Badge side: receive request frames, send answers; dedupes a retried request."""

    def __init__(self, stream, timeout_ms=300):
        self.stream = stream
        self.timeout_ms = timeout_ms
        self.dec = Decoder()
        self._queue = []
        self._last = None  # (seq, request crc, answer frame)

    def receive(self, wait_ms=1000):
        """(seq, body, crc) of the next good frame, or None after wait_ms with nothing."""
        if self._queue:
            return self._queue.pop(0)
        start = ticks_ms()
        last_byte = start
        while True:
            now = ticks_ms()
            if self.dec.pending():
                left = self.timeout_ms - ticks_diff(now, last_byte)
                if left <= 0:
                    self.dec.expire()
                    continue
            else:
                left = wait_ms - ticks_diff(now, start)
                if left <= 0:
                    return None
            data = self.stream.read(256, left)
            if not data:
                continue
            last_byte = ticks_ms()
            frames = self.dec.feed(data)
            if frames:
                self._queue.extend(frames[1:])
                return frames[0]

    def send(self, seq, body):
        self.stream.write(encode(seq, body))

    def serve_one(self, handler, wait_ms=1000):
        """Receive one request and answer it with handler(body) -> answer body.

        Returns True if a request was handled. A retried request gets the cached answer.
        """
        got = self.receive(wait_ms)
        if got is None:
            return False
        seq, body, fcrc = got
        last = self._last
        if last is not None and last[0] == seq and last[1] == fcrc:
            self.stream.write(last[2])
            return True
        frame = encode(seq, handler(body))
        self._last = (seq, fcrc, frame)
        self.stream.write(frame)
        return True
