"""The badge's provisioning transport over the USB serial port (never the REPL).

The frames are xinka.frames (docs/technician.md "Serial protocol"; provisioning/link.py is the
host side): the badge decodes requests (SYNC_REQ) and answers with SYNC_ANS. Here is what the
badge adds: a frame left incomplete for `timeout_ms` between bytes is dropped, and each request
is answered with the request's seq; a repeated request (same seq, same CRC: the host retrying
after a lost answer) gets the cached answer again, not a re-run.

Runs under MicroPython and CPython; the stream is anything with read(n) -> bytes and
write(b): PollStream wraps a pollable input/output pair (sys.stdin.buffer / sys.stdout.buffer
on the badge's USB-CDC, a pty in the simulator).
"""
import select

from xinka.compat import ticks_diff, ticks_ms
from xinka.frames import SYNC_ANS, SYNC_REQ, Decoder, encode


class LinkClosed(Exception):
    """The other end went away (USB unplugged, pty master closed)."""


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
        self.dec = Decoder(SYNC_REQ)
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
        self.stream.write(encode(seq, body, SYNC_ANS))

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
        frame = encode(seq, handler(body), SYNC_ANS)
        self._last = (seq, fcrc, frame)
        self.stream.write(frame)
        return True
