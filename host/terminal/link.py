"""The terminal's side of the check-in over any nfcpy ContactlessFrontend: raw NFC Forum Type 2
frames through `clf.exchange`, so a USB reader nfcpy supports and a `udp:` simulated badge are
driven by the same code (docs/protocol.md "SRAM exchange"; NT3H2111 data sheet "Pass-through
mode"): READ ECh for the session registers, WRITE F0h..FFh for a challenge window, FAST_READ
F0h..FFh for an answer window.
"""
import time

import nfc
import nfc.clf

from .errors import BadgeError, LinkError, NoBadge

READ, FAST_READ, WRITE = 0x30, 0x3A, 0xA2
SESSION_PAGE = 0xEC
SRAM_FIRST, SRAM_LAST = 0xF0, 0xFF
PTHRU, DIR_NFC_TO_I2C = 0x40, 0x01
SRAM_I2C_READY, SRAM_RF_READY = 0x10, 0x08
ACK = 0x0A
K_CHALLENGE, K_RESPONSE, K_ERROR = 1, 2, 3
CHUNK = 60
MAX_RESPONSE_WINDOWS = 13
FRAME_TIMEOUT = 0.05            # s, one frame
STEP_TIMEOUT = 3.0              # s, waiting for the badge between windows


def windows(kind, payload):
    """64-byte SRAM windows: kind, index, count, length, 60 payload bytes zero-padded."""
    n = max(1, -(-len(payload) // CHUNK))
    out = []
    for i in range(n):
        chunk = payload[i * CHUNK:(i + 1) * CHUNK]
        out.append(bytes((kind, i, n, len(chunk))) + chunk + bytes(CHUNK - len(chunk)))
    return out


class BadgeLink:
    """One activated Type 2 target on a ContactlessFrontend; `checkin(challenge)` returns the
    badge's response bytes (token || credential)."""

    def __init__(self, clf, tag, frame_timeout=FRAME_TIMEOUT, step_timeout=STEP_TIMEOUT):
        self.clf, self.tag = clf, tag
        self.frame_timeout, self.step_timeout = frame_timeout, step_timeout
        self.frames = 0

    @property
    def uid(self):
        return bytes(self.tag.identifier).hex()

    def x(self, frame):
        self.frames += 1
        try:
            return bytes(self.clf.exchange(bytearray(frame), self.frame_timeout))
        except nfc.clf.CommunicationError as err:
            raise LinkError(f"badge removed or not answering ({type(err).__name__}) / "
                            "徽章已移开或无响应，请重新贴卡") from err

    def session(self):
        r = self.x((READ, SESSION_PAGE))
        if len(r) != 16:
            raise LinkError(f"session registers answered {r.hex()} / 会话寄存器读取异常")
        return r[0], r[6]

    def wait(self, pred, what):
        end = time.monotonic() + self.step_timeout
        while True:
            nc, ns = self.session()
            if pred(nc, ns):
                return nc, ns
            if time.monotonic() > end:
                raise LinkError(f"timeout waiting for {what} (NC {nc:02x} NS {ns:02x}) / "
                                "等待徽章超时")
            time.sleep(0.002)

    def send(self, wins):
        self.wait(lambda nc, ns: nc & (PTHRU | DIR_NFC_TO_I2C) == PTHRU | DIR_NFC_TO_I2C,
                  "pass-through NFC->I2C")
        for i, w in enumerate(wins):
            if i:
                self.wait(lambda nc, ns: not ns & SRAM_I2C_READY, "the badge to take a window")
            for p in range(16):
                r = self.x((WRITE, SRAM_FIRST + p) + tuple(w[4 * p:4 * p + 4]))
                if r != bytes((ACK,)):
                    raise LinkError(f"WRITE {SRAM_FIRST + p:02x} answered {r.hex()}")

    def receive(self):
        """(kind, payload) of the badge's answer windows."""
        payload, idx, count = b"", 0, None
        while True:
            self.wait(lambda nc, ns: ns & SRAM_RF_READY, "an answer window")
            w = self.x((FAST_READ, SRAM_FIRST, SRAM_LAST))
            if len(w) != 64 or w[1] != idx or w[0] not in (K_RESPONSE, K_ERROR) or \
                    not 1 <= w[2] <= MAX_RESPONSE_WINDOWS or (count not in (None, w[2])) or \
                    w[3] > CHUNK:
                raise LinkError(f"bad answer window {w[:4].hex()} / 应答帧格式错误")
            count = w[2]
            payload += w[4:4 + w[3]]
            idx += 1
            if idx == count:
                return w[0], payload

    def checkin(self, challenge):
        """The badge's response to a challenge (bytes); BadgeError on an error window."""
        self.send(windows(K_CHALLENGE, challenge))
        kind, payload = self.receive()
        if kind == K_ERROR:
            raise BadgeError(payload[0] if payload else 0)
        return payload

    def present(self):
        """True while the badge still answers (READ page 0)."""
        try:
            self.x((READ, 0))
            return True
        except LinkError:
            return False


def connect(clf, terminate=lambda: False):
    """Wait for a Type 2 target (nfcpy's own anticollision and activation): a BadgeLink, or
    NoBadge when `terminate()` said stop first."""
    tag = clf.connect(rdwr={"targets": ["106A"], "on-connect": lambda t: False},
                      terminate=terminate)
    if not tag:
        raise NoBadge("no badge in the field / 未检测到徽章")
    return BadgeLink(clf, tag)
