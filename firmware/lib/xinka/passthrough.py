"""The terminal's side of the check-in through the badge's SRAM pass-through, over NFC Forum
Type 2 frames (docs/protocol.md "SRAM exchange (NT3H2111 pass-through)"; NT3H2111 data sheet
"Pass-through mode"). The windows and every constant are xinka/sram.py's.

PassThrough needs nothing but `exchange(frame, timeout_ms) -> answer bytes`, which raises on
silence: the ESP32 terminal's PN532 InCommunicateThru (firmware/terminal/app.py), nfcpy's
clf.exchange for the desk terminal (host/terminal/link.py) and the test reader
(testkit/tags.py). Steps:
  1. READ ECh (session registers: NC_REG byte 0, NS_REG byte 6) until NC_REG has PTHRU_ON_OFF
     and TRANSFER_DIR = NFC->I2C;
  2. each challenge window: WRITE F0h..FFh (16 WRITEs, each answered ACK); before the next
     one, READ ECh until SRAM_I2C_READY is 0 (the badge took it);
  3. each answer window: READ ECh until NS_REG.SRAM_RF_READY, then FAST_READ F0h..FFh, until
     the window whose index is count - 1; sram.Assembler checks every window.
Failures, each an sram.SramError with a stable `reason`: sram.FrameError (windows that break
the framing), TagError (the tag or the badge did not play its part), BadgeRefused (the badge
answered with an error window).

A module apart from sram.py because the badge never runs it (its heap, see there).
MicroPython and CPython; timing through xinka.compat.
"""
from xinka import sram
from xinka.compat import const, sleep_ms, ticks_diff, ticks_ms

_POLL_MS = const(2)             # session register poll interval of a waiting terminal


class TagError(sram.SramError):
    """The tag's answers are not the protocol, or the badge did not go on in time. reason:
    tag_protocol (a session read not 16 bytes), tag_nak (a WRITE not ACKed), badge_timeout."""


class BadgeRefused(sram.SramError):
    """The badge answered with an error window: reason badge_refused, `code` (sram.ERR_*),
    `name` (sram.ERRORS)."""

    def __init__(self, code):
        self.code = code
        name = sram.ERRORS[code] if 0 < code < len(sram.ERRORS) else None
        self.name = name or "code %d" % code
        super().__init__("badge_refused", self.name)


def _pt_in(nc, ns):
    return nc & sram.PT_NFC_TO_I2C == sram.PT_NFC_TO_I2C


def _sram_taken(nc, ns):
    return not ns & sram.SRAM_I2C_READY


def _rf_ready(nc, ns):
    return ns & sram.SRAM_RF_READY


class PassThrough:
    """The terminal's side of the exchange over `exchange(frame, timeout_ms) -> answer bytes`
    (raises on silence): `frame_ms` for each frame, `wait_ms` for the badge at each step.
    `frames` counts the frames sent."""

    def __init__(self, exchange, frame_ms=50, wait_ms=3000):
        self.exchange = exchange
        self.frame_ms = frame_ms
        self.wait_ms = wait_ms
        self.frames = 0

    def x(self, frame):
        """One frame to the tag, its answer."""
        self.frames += 1
        return self.exchange(frame, self.frame_ms)

    def session(self):
        """(NC_REG, NS_REG) through the session register page."""
        r = self.x(bytes((sram.READ, sram.SESSION_PAGE)))
        if len(r) != 16:
            raise TagError("tag_protocol", "session read of %d bytes" % len(r))
        return r[sram.NC_BYTE], r[sram.NS_BYTE]

    def wait(self, pred, what=""):
        """Read the session registers until pred(nc, ns); (nc, ns). TagError badge_timeout
        after `wait_ms`."""
        t0 = ticks_ms()
        while True:
            nc, ns = self.session()
            if pred(nc, ns):
                return nc, ns
            if ticks_diff(ticks_ms(), t0) > self.wait_ms:
                raise TagError("badge_timeout", "%s, NC %02x NS %02x" % (what, nc, ns))
            sleep_ms(_POLL_MS)

    def write_window(self, w):
        """WRITE pages F0h..FFh, 4 bytes each; the write to FFh hands the SRAM to the badge."""
        for p in range(16):
            r = self.x(bytes((sram.WRITE, sram.SRAM_FIRST + p)) + bytes(w[4 * p:4 * p + 4]))
            if len(r) != 1 or r[0] != sram.ACK:
                raise TagError("tag_nak", "WRITE %02x" % (sram.SRAM_FIRST + p))

    def send_windows(self, wins):
        """Confirm pass-through NFC -> I2C, then write the windows (as they are: well-formed or
        not), each once the badge took the one before (SRAM_I2C_READY low)."""
        for i in range(len(wins)):
            if i:
                self.wait(_sram_taken, "window taken")
            else:
                self.wait(_pt_in, "pass-through")
            self.write_window(wins[i])

    def send(self, kind, payload):
        """The message `payload` of `kind`; FrameError too_long before any frame when a badge
        would refuse it for its size."""
        self.send_windows(sram.windows(kind, payload))

    def receive(self):
        """(kind, payload) of the badge's answer, K_RESPONSE or K_ERROR, every window checked."""
        asm = sram.Assembler((sram.K_RESPONSE, sram.K_ERROR))
        while True:
            self.wait(_rf_ready, "answer")
            if asm.add(self.x(bytes((sram.FAST_READ, sram.SRAM_FIRST, sram.SRAM_LAST)))):
                return asm.message()

    def checkin(self, challenge):
        """Send the challenge; the badge's response payload (token || credential).
        BadgeRefused when the badge answered with an error window."""
        self.send(sram.K_CHALLENGE, challenge)
        kind, payload = self.receive()
        if kind == sram.K_ERROR:
            raise BadgeRefused(payload[0] if payload else 0)
        return payload
