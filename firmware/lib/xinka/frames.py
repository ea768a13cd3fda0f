"""The USB serial provisioning frame: encoder and incremental decoder, badge and host alike.

docs/technician.md "Serial protocol". One frame, both directions:

  sync (2) | seq u8 | len u16 BE | body (len bytes, one CBOR item) | crc32 u32 BE over seq..body
  sync = A5 5A for requests (host -> badge), A5 5B for answers (badge -> host), so an echo
  (a REPL, a loopback) is never taken for an answer.

The receiver hunts for its own sync; bytes before it (a ROM boot banner, line noise, a REPL
prompt, the other direction's frames) are skipped and counted as garbage. A length above
MAX_BODY (`oversized`) or a CRC mismatch (`bad_crc`) is a damaged frame: its first sync byte is
dropped and the hunt goes on from the next byte, so a real frame hidden in what looked like one
is still found. A partial frame is dropped by expire() when the caller's inter-byte timeout runs
out (`truncated`). The counters are diagnostics; the host's LinkCorrupt counts both kinds of
damaged frame (provisioning/link.py).

Users: firmware/badge/serial_link.py (the badge: Decoder(SYNC_REQ), answers with SYNC_ANS) and
provisioning/link.py (the host: Decoder(SYNC_ANS), requests with SYNC_REQ).

Runs under MicroPython and CPython. The decoder is cheap on the badge's USB-CDC input: while
the rest of a frame whose header it has read is arriving it only appends, the CRC and the body
are taken through a memoryview, and the buffer is searched only when it does not start with
the sync.
"""
import binascii
import struct

from xinka.compat import const

SYNC_REQ = b"\xa5\x5a"
SYNC_ANS = b"\xa5\x5b"
MAX_BODY = const(2048)
HEADER = const(5)       # sync (2), seq (1), len (2)
TRAILER = const(4)      # crc32
_OVERHEAD = const(9)    # HEADER + TRAILER
_SYNC0 = const(0xA5)    # first byte of both syncs: kept when it ends a chunk


def crc(data):
    """CRC-32 (zlib / binascii) of `data` as an unsigned int."""
    return binascii.crc32(data) & 0xFFFFFFFF


def encode(seq, body, sync):
    """The frame bytes for `body` (bytes) with sequence number `seq` (taken mod 256) and `sync`
    (SYNC_REQ or SYNC_ANS). A body over MAX_BODY is ValueError("body too long"), the one error
    callers see (a class of its own would cost the badge heap for nothing)."""
    n = len(body)
    if n > MAX_BODY:
        raise ValueError("body too long")
    head = struct.pack(">BH", seq & 0xFF, n)
    return sync + head + body + struct.pack(">I", binascii.crc32(body, binascii.crc32(head))
                                            & 0xFFFFFFFF)


class Decoder:
    """Incremental frame parser for frames beginning with `sync` (SYNC_REQ or SYNC_ANS).

    feed(bytes) -> list of (seq, body, frame_crc) for the good frames completed by those bytes.
    Counters: garbage (bytes skipped while hunting), bad_crc, oversized (length above MAX_BODY),
    truncated (partial frames dropped by expire()).
    """

    def __init__(self, sync):
        self.sync = sync
        self.buf = bytearray()
        self._need = 0          # total length of the frame whose header is in buf, else 0
        self.garbage = 0
        self.bad_crc = 0
        self.oversized = 0
        self.truncated = 0

    def feed(self, data):
        buf = self.buf
        buf.extend(data)
        if self._need and len(buf) < self._need:
            return []           # the rest of a frame is still arriving
        out = []
        while True:
            have = len(buf)
            if not self._need:
                # hunt: buf must start with the sync (or be a lone first sync byte)
                if have and (buf[0] != _SYNC0 or (have > 1 and buf[1] != self.sync[1])):
                    i = bytes(buf).find(self.sync)
                    if i < 0:
                        i = have - 1 if buf[have - 1] == _SYNC0 else have
                    self.garbage += i
                    buf = buf[i:]
                    have -= i
                if have < HEADER:
                    break
                n = (buf[3] << 8) | buf[4]
                if n > MAX_BODY:
                    self.oversized += 1
                    buf = buf[1:]
                    continue
                self._need = n + _OVERHEAD
            end = self._need
            if have < end:
                break
            self._need = 0
            got = struct.unpack_from(">I", buf, end - TRAILER)[0]
            mv = memoryview(buf)
            if crc(mv[2:end - TRAILER]) != got:
                self.bad_crc += 1
                buf = buf[1:]
                continue
            out.append((buf[2], bytes(mv[HEADER:end - TRAILER]), got))
            buf = buf[end:]
        self.buf = buf
        return out

    def pending(self):
        """Bytes held: a partial frame (or a lone first sync byte) waiting for the rest."""
        return len(self.buf)

    def expire(self):
        """Drop what is held (the caller's inter-byte timeout ran out): a partial frame counts
        as truncated, a lone first sync byte as garbage."""
        n = len(self.buf)
        if n > 1:
            self.truncated += 1
        elif n:
            self.garbage += 1
        self.buf = bytearray()
        self._need = 0
