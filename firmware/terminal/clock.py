"""Terminal time: the board's battery-backed RTC corrected by the verifier's clock.

At every sync the verifier's time (its HTTP Date header, or a "now" field in the JSON answer)
is compared with the RTC: offset = verifier - rtc. Between syncs, now() = rtc + offset +
drift * (rtc - rtc at the last sync), the drift (ppm) estimated from two syncs at least
`min_span` seconds apart. The correction is kept on flash ("<root>/clock", CRC-checked, written
only when it moved by a second or more), so a power cut keeps it. Corrections are logged so a
large jump (a flat RTC battery, a verifier with a wrong clock) is visible.
"""
import binascii
import struct

_FMT = ">4siiIi"        # magic, offset s, drift ppm, rtc at last sync, verifier delta at sync
_LEN = 20


class Clock:
    def __init__(self, board, path, min_span=3600):
        self.board = board
        self.path = path
        self.min_span = min_span
        self.offset = 0
        self.drift_ppm = 0
        self.rtc_sync = 0
        self.synced = False
        self.syncs = 0
        self.last_step = 0

    def load(self):
        try:
            with open(self.path, "rb") as f:
                b = f.read()
        except OSError:
            return self
        if len(b) == _LEN + 4 and binascii.crc32(b[:_LEN]) & 0xFFFFFFFF == \
                struct.unpack(">I", b[_LEN:])[0]:
            magic, off, ppm, rtc, _ = struct.unpack(_FMT, b[:_LEN])
            if magic == b"XTC1":
                self.offset, self.drift_ppm, self.rtc_sync = off, ppm, rtc
                self.synced = True
        return self

    def now(self):
        r = self.board.rtc()
        return r + self.offset + (r - self.rtc_sync) * self.drift_ppm // 1000000

    def correct(self, verifier_time):
        """Take the verifier's time; returns the step applied to now() in seconds."""
        r = self.board.rtc()
        before = self.now()
        new_off = verifier_time - r
        if self.synced and r - self.rtc_sync >= self.min_span:
            self.drift_ppm = (new_off - self.offset) * 1000000 // (r - self.rtc_sync)
        step = verifier_time - before
        self.syncs += 1
        self.last_step = step
        moved = not self.synced or abs(new_off - self.offset) >= 1
        self.offset = new_off
        self.rtc_sync = r
        self.synced = True
        if moved:
            b = struct.pack(_FMT, b"XTC1", self.offset, self.drift_ppm, r, step)
            b += struct.pack(">I", binascii.crc32(b) & 0xFFFFFFFF)
            with open(self.path, "wb") as f:
                f.write(b)
        return step
