"""The check-in windows of the NT3H2111's SRAM pass-through (docs/protocol.md "SRAM exchange
(NT3H2111 pass-through)"; NT3H2111 data sheet "Pass-through mode"): every constant of the
exchange, the encoder and the one strict receiver, for every side that speaks it:
- the badge (firmware/badge/main.py): Assembler((K_CHALLENGE,)) puts the challenge together
  from the windows it reads over I2C; fill() writes each answer window into its preallocated
  64-byte buffer straight from token and credential (no concatenation, no allocation);
- the terminals: xinka/passthrough.py (the RF-side steps, the ESP32 terminal's and the desk
  terminal's) sends with windows() and assembles the answer with Assembler((K_RESPONSE,
  K_ERROR));
- the test reader (testkit/tags.py), the attacker's replay tags (hardware/sim/replay_tag.py,
  tests/terminal/test_desk_replay.py): windows() and the constants.

Window: byte 0 kind, 1 index from 0, 2 count of windows of the message, 3 payload bytes in
this window (0-60, exactly 60 in every window but the last), 4-63 payload, zero-padded. The
receivers are strict (Assembler.add): a window of another kind, out of order, with a count of
0, above the kind's maximum or changing mid-message, a length above 60, a short window that is
not the last, an empty last window of a challenge, or more bytes than the kind's message may
hold is refused with a FrameError whose `reason` says which.

Errors: SramError (a stable `reason`) and under it FrameError here, TagError in passthrough.py.

The RF side is a module of its own because the badge never runs it: every module the badge
imports stays in its 128 KiB heap (tests/firmware/test_build.py), and a loaded module's code
is RAM. MicroPython and CPython; nothing here imports a driver.
"""
from xinka.compat import const

# NFC Forum Type 2 commands (and the 4-bit ACK)
READ = const(0x30)
FAST_READ = const(0x3A)
WRITE = const(0xA2)
ACK = const(0x0A)

# NFC pages in pass-through mode
SESSION_PAGE = const(0xEC)      # READ ECh: NC_REG .. WDT_LS, WDT_MS, I2C_CLOCK_STR, NS_REG, 00
SRAM_FIRST = const(0xF0)        # the 64 SRAM bytes: pages F0h..FFh (I2C blocks F8h..FBh)
SRAM_LAST = const(0xFF)
NC_BYTE = const(0)              # NC_REG's byte in the answer to READ ECh
NS_BYTE = const(6)              # NS_REG's

# NC_REG bits
PTHRU_ON_OFF = const(0x40)
TRANSFER_DIR = const(0x01)      # 1: NFC -> I2C, 0: I2C -> NFC
PT_NFC_TO_I2C = const(0x41)     # PTHRU_ON_OFF | TRANSFER_DIR: ready for a challenge
# NS_REG bits
NDEF_DATA_READ = const(0x80)
SRAM_I2C_READY = const(0x10)    # the reader wrote page FFh; cleared when I2C reads block FBh
SRAM_RF_READY = const(0x08)     # I2C wrote block FBh; cleared when the reader reads page FFh

# windows
WINDOW = const(64)
HEADER = const(4)
PAYLOAD = const(60)
K_CHALLENGE = const(1)          # terminal -> badge
K_RESPONSE = const(2)           # badge -> terminal: token || credential
K_ERROR = const(3)              # badge -> terminal: one byte, the error code
MAX_CHALLENGE_WINDOWS = const(3)
MAX_RESPONSE_WINDOWS = const(13)
MAX_ERROR_WINDOWS = const(1)
CHALLENGE_MAX = const(160)      # bytes of challenge CBOR (tokens.parse_challenge's limit too)

# the badge's error codes: the one payload byte of an error window; ERRORS[code] its name
ERR_FRAME = const(1)
ERR_CHALLENGE = const(2)
ERR_UNPROVISIONED = const(3)
ERR_NO_NONCE = const(4)
ERR_INTERNAL = const(5)
ERRORS = (None, "bad_frame", "bad_challenge", "not_provisioned", "no_nonce", "internal")


class SramError(Exception):
    """The SRAM exchange failed; `reason` is a stable code."""

    def __init__(self, reason, msg=""):
        super().__init__(reason + ": " + msg if msg else reason)
        self.reason = reason


class FrameError(SramError):
    """A window (or a message to send) that breaks the framing. reason: bad_size (not 64
    bytes), bad_kind, bad_index (skipped, repeated, not from 0), bad_count (0, above the kind's
    maximum, or changed mid-message), bad_length (above 60), short_window (under 60 bytes and
    not the last), empty_window (a challenge's last window carries nothing), too_long (more
    bytes than the kind's message may have)."""


def max_windows(kind):
    """Most windows a message of `kind` may have; 0 for an unknown kind."""
    if kind == K_CHALLENGE:
        return MAX_CHALLENGE_WINDOWS
    if kind == K_RESPONSE:
        return MAX_RESPONSE_WINDOWS
    return MAX_ERROR_WINDOWS if kind == K_ERROR else 0


def max_bytes(kind):
    """Most bytes a message of `kind` may have: 160 for a challenge, else its windows' worth."""
    return CHALLENGE_MAX if kind == K_CHALLENGE else max_windows(kind) * PAYLOAD


def count(total):
    """Windows of a message of `total` bytes (an empty message is one empty window)."""
    return (total + PAYLOAD - 1) // PAYLOAD if total else 1


def fill(w, kind, index, cnt, a, b, pos):
    """Window `index` of `cnt` of the message a || b into the 64-byte buffer `w`: its payload
    starts at byte `pos` of a || b. Returns the payload bytes it took (the caller's next pos).
    Allocates nothing."""
    na = len(a)
    n = na + len(b) - pos
    if n > PAYLOAD:
        n = PAYLOAD
    w[0] = kind
    w[1] = index
    w[2] = cnt
    w[3] = n
    i = 0
    while i < PAYLOAD:
        j = pos + i
        w[HEADER + i] = (a[j] if j < na else b[j - na]) if i < n else 0
        i += 1
    return n


def windows(kind, payload):
    """The message `payload` of `kind` as a list of 64-byte windows (bytes); FrameError
    too_long when a receiver would refuse it for its size."""
    total = len(payload)
    if total > max_bytes(kind):
        raise FrameError("too_long", "%d bytes of kind %d" % (total, kind))
    cnt = count(total)
    w = bytearray(WINDOW)
    out = []
    pos = 0
    for i in range(cnt):
        pos += fill(w, kind, i, cnt, payload, b"", pos)
        out.append(bytes(w))
    return out


class Assembler:
    """One strict receiver: windows of one of `kinds`, in order, into a preallocated buffer
    as large as the largest message of those kinds. add() allocates nothing on the way to a
    complete message (only a refusal does, for its exception)."""

    def __init__(self, kinds):
        self.kinds = kinds
        size = 0
        for k in kinds:
            size = max(size, max_bytes(k))
        self.buf = bytearray(size)
        self.reset()

    def reset(self):
        """Forget a message in progress."""
        self.kind = 0
        self.next = 0               # index of the window expected next
        self.count = 0
        self.n = 0                  # payload bytes so far
        self.done = False

    def add(self, w):
        """Check window `w` and take its payload; True when it completed the message (then
        `kind`, `n` and buf[:n] hold it, see message()). FrameError (and the message in
        progress forgotten) when the window is refused."""
        if self.done:
            self.reset()
        why = None
        if len(w) != WINDOW:
            why = "bad_size"
        else:
            kind = w[0]             # one by one: a 4-tuple unpack would allocate a tuple
            idx = w[1]
            cnt = w[2]
            n = w[3]
            last = idx == cnt - 1
            if kind not in self.kinds or (self.next and kind != self.kind):
                why = "bad_kind"
            elif idx != self.next:
                why = "bad_index"
            elif not 1 <= cnt <= max_windows(kind) or (idx and cnt != self.count):
                why = "bad_count"
            elif n > PAYLOAD:
                why = "bad_length"
            elif not last and n != PAYLOAD:
                why = "short_window"
            elif last and n == 0 and kind == K_CHALLENGE:
                why = "empty_window"
            elif self.n + n > max_bytes(kind):
                why = "too_long"
        if why:
            self.reset()
            raise FrameError(why, "window " + bytes(w[:HEADER]).hex())
        buf = self.buf
        have = self.n
        i = 0
        while i < n:
            buf[have + i] = w[HEADER + i]
            i += 1
        self.n = have + n
        self.kind = kind
        self.count = cnt
        self.next = idx + 1
        self.done = last
        return last

    def message(self):
        """(kind, payload bytes) of the completed message; the assembler is ready for the next."""
        out = self.kind, bytes(self.buf[:self.n])
        self.reset()
        return out
