"""What the terminal's OLED shows (SSD1306 128x64 on I2C, drivers/ssd1306.py; docs/technician.md
"What the worker sees").

After a journaled check-in: the worker's one-time link code (xinka/linkcode.py) in framebuf's
8x8 font scaled 3x, its two halves on two lines (4 x 24 px = 96 px wide; XXXX-XXXX on one line
would be 9 x 24 px), the badge serial and where to type them:

    y  0-23   XXXX       3x, x = 16
    y 24-47   XXXX       3x, x = 16
    y 48-55   <serial>   the badge number as printed (12 hex digits)
    y 56-63   at /me/    1x

for HOLD_MS or until the next verdict. Any other verdict shows a header (REFUSED / NOTICE, 2x)
and its English text wrapped at 16 characters, no code. Then the screen goes back to "tap a
badge".

The display is a nice-to-have: a fault (no display fitted, a NACK, a bus error) is logged
("DISPLAY <error>") and the check-in goes on; the next screen opens it again (its init
sequence: a panel plugged back, or powered up after a brown-out, starts from reset). With no
display fitted, that is one address NACK per screen (~0.1 ms at 400 kHz).
"""
from xinka import linkcode
from xinka.compat import const, ticks_add, ticks_diff

HOLD_MS = const(60000)
CODE_SCALE = const(3)
_W = const(128)
_COLS = const(16)             # 8-px characters per line


class Display:
    def __init__(self, board, token):
        self.board = board
        self.key = linkcode.link_key(token) if token else None
        self.dev = None
        self.faults = 0
        self.shown = None         # what the screen shows: "idle", "code", a verdict reason
        self.code = None          # the last code shown (XXXXXXXX), for the bench and tests
        self._until = None
        import framebuf               # MicroPython's; imported here so the host can load app.py
        self._glyph = bytearray(8)
        self._fb = framebuf.FrameBuffer(self._glyph, 8, 8, framebuf.MONO_VLSB)

    # --- the device ---------------------------------------------------------------------------

    def _open(self):
        if self.dev is not None:
            return self.dev
        try:
            self.dev = self.board.display()
        except Exception as err:          # OSError from the bus, or anything the driver raises
            self._fault(err)
        return self.dev

    def _fault(self, err):
        self.faults += 1
        self.dev = None
        self.board.log("DISPLAY", repr(err))

    def _draw(self, what, paint, hold):
        d = self._open()
        if d is None:
            return False
        try:
            d.fill(0)
            paint(d)
            d.show()
        except Exception as err:
            self._fault(err)
            return False
        self.shown = what
        self._until = ticks_add(self.board.ticks_ms(), HOLD_MS) if hold else None
        return True

    # --- drawing ------------------------------------------------------------------------------

    def big(self, d, text, x, y, s):
        """text in the 8x8 font at s times its size (each font pixel an s x s block)."""
        fb = self._fb
        for ch in text:
            fb.fill(0)
            fb.text(ch, 0, 0, 1)
            for py in range(8):
                for px in range(8):
                    if fb.pixel(px, py):
                        d.fill_rect(x + px * s, y + py * s, s, s, 1)
            x += 8 * s

    def _wrapped(self, d, text, y):
        # words onto lines of _COLS characters (a longer word is cut)
        line = ""
        for word in text.split():
            if line and len(line) + 1 + len(word) > _COLS:
                d.text(line, 0, y, 1)
                y += 10
                line = ""
            line = (line + " " + word if line else word)[:_COLS]
        if line:
            d.text(line, 0, y, 1)

    # --- screens ------------------------------------------------------------------------------

    def idle(self):
        return self._draw("idle", lambda d: d.text("tap a badge", 20, 28, 1), False)

    def checked_in(self, token, serial):
        """The link code of the journaled check-in token `token` (raw bytes)."""
        if self.key is None:
            return False
        c = linkcode.code(self.key, token)
        self.code = c

        def paint(d):
            self.big(d, c[:4], 16, 0, CODE_SCALE)
            self.big(d, c[4:], 16, 24, CODE_SCALE)
            d.text(serial, (_W - 8 * len(serial)) // 2, 48, 1)
            d.text("at /me/", 36, 56, 1)
        return self._draw("code", paint, True)

    def refused(self, colour, en, reason):
        def paint(d):
            self.big(d, "REFUSED" if colour == "red" else "NOTICE", 8, 0, 2)
            self._wrapped(d, en, 20)
            d.text(reason[:_COLS], 0, 56, 1)
        return self._draw(reason, paint, True)

    def tick(self):
        """Back to idle once a verdict has been shown HOLD_MS."""
        if self._until is not None and ticks_diff(self.board.ticks_ms(), self._until) >= 0:
            self._until = None
            self.idle()
