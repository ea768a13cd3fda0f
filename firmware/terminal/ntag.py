"""Check-in exchange with the badge's NT3H2111 through SRAM pass-through, over NFC Forum Type 2
commands (docs/protocol.md "Check-in challenge", NT3H2111 data sheet "Pass-through mode").

Tag-protocol layer: needs nothing but exchange(frame, timeout_ms) -> answer bytes (the PN532's
InCommunicateThru), which raises on silence. Same steps as tests/badge/terminal.py:
  1. READ ECh until NC_REG has PTHRU_ON_OFF and TRANSFER_DIR = NFC->I2C;
  2. each challenge window: WRITE F0h..FFh (16 WRITEs); READ ECh until SRAM_I2C_READY is 0
     before the next one;
  3. each answer window: READ ECh until NS_REG.SRAM_RF_READY, then FAST_READ F0h..FFh.
"""
from xinka.compat import const, sleep_ms, ticks_diff, ticks_ms


READ = const(0x30)
FAST_READ = const(0x3A)
WRITE = const(0xA2)
SESSION_PAGE = const(0xEC)
SRAM_FIRST = const(0xF0)
SRAM_LAST = const(0xFF)
PTHRU = const(0x40)
DIR_NFC_TO_I2C = const(0x01)
SRAM_I2C_READY = const(0x10)
SRAM_RF_READY = const(0x08)
TAG_ACK = const(0x0A)
K_CHALLENGE = const(1)
K_RESPONSE = const(2)
K_ERROR = const(3)
CHUNK = const(60)
MAX_WINDOWS = const(13)
POLL_MS = const(2)

# badge error codes (docs/protocol.md): the one payload byte of an error window
BADGE_ERRORS = {1: "bad_frame", 2: "bad_challenge", 3: "not_provisioned", 4: "no_nonce",
                5: "internal"}


class TagError(Exception):
    """The exchange with the tag failed; `reason` is a stable code."""

    def __init__(self, reason, msg=""):
        super().__init__("%s: %s" % (reason, msg) if msg else reason)
        self.reason = reason


class PassThrough:
    """The terminal side of the SRAM exchange over `exchange(frame, timeout_ms)`."""

    def __init__(self, exchange, frame_ms=50, wait_ms=3000):
        self.x = exchange
        self.frame_ms = frame_ms
        self.wait_ms = wait_ms
        self.frames = 0

    def _x(self, frame):
        self.frames += 1
        return self.x(frame, self.frame_ms)

    def session(self):
        r = self._x(bytes((READ, SESSION_PAGE)))
        if len(r) != 16:
            raise TagError("tag_protocol", "session read answered %d bytes" % len(r))
        return r[0], r[6]

    def _wait(self, mask_nc, want_nc, mask_ns, want_ns, what):
        t0 = ticks_ms()
        while True:
            nc, ns = self.session()
            if nc & mask_nc == want_nc and ns & mask_ns == want_ns:
                return
            if ticks_diff(ticks_ms(), t0) > self.wait_ms:
                raise TagError("badge_timeout", "%s (NC %02x NS %02x)" % (what, nc, ns))
            sleep_ms(POLL_MS)

    def send(self, kind, payload):
        n = (len(payload) + CHUNK - 1) // CHUNK or 1
        self._wait(PTHRU | DIR_NFC_TO_I2C, PTHRU | DIR_NFC_TO_I2C, 0, 0, "pass-through not on")
        w = bytearray(64)
        for i in range(n):
            if i:
                self._wait(0, 0, SRAM_I2C_READY, 0, "badge did not take the window")
            chunk = payload[i * CHUNK:(i + 1) * CHUNK]
            w[0] = kind
            w[1] = i
            w[2] = n
            w[3] = len(chunk)
            w[4:4 + len(chunk)] = chunk
            for j in range(4 + len(chunk), 64):
                w[j] = 0
            for p in range(16):
                r = self._x(bytes((WRITE, SRAM_FIRST + p)) + w[4 * p:4 * p + 4])
                if r != b"\x0a":
                    raise TagError("tag_nak", "WRITE %02x answered %s" % (SRAM_FIRST + p,
                                                                        bytes(r).hex()))

    def receive(self):
        """(kind, payload) of the badge's answer."""
        out = bytearray()
        idx = 0
        first = 0
        while True:
            self._wait(0, 0, SRAM_RF_READY, SRAM_RF_READY, "no answer from the badge")
            w = self._x(bytes((FAST_READ, SRAM_FIRST, SRAM_LAST)))
            if len(w) != 64 or w[1] != idx or not 1 <= w[2] <= MAX_WINDOWS or w[3] > CHUNK:
                raise TagError("bad_window", "window %d: %s" % (idx, bytes(w[:4]).hex()))
            kind, cnt, n = w[0], w[2], w[3]
            if kind not in (K_RESPONSE, K_ERROR) or idx and kind != first:
                raise TagError("bad_window", "kind %d" % kind)
            if idx + 1 < cnt and n != CHUNK:
                raise TagError("bad_window", "short window %d of %d" % (idx, cnt))
            first = kind
            out.extend(w[4:4 + n])
            idx += 1
            if idx == cnt:
                return kind, bytes(out)

    def checkin(self, challenge):
        """Send the challenge, return the badge's response payload (token || credential).
        TagError("badge_refused", <code>) when the badge answered with an error window."""
        self.send(K_CHALLENGE, challenge)
        kind, payload = self.receive()
        if kind == K_ERROR:
            code = payload[0] if payload else 0
            raise TagError("badge_refused", BADGE_ERRORS.get(code, "code %d" % code))
        return payload
