"""An attacker's tag for the terminal tests: it answers like a badge's NT3H2111 in
pass-through mode, but with response windows recorded earlier, whatever challenge it gets.

It models what a programmable NFC emulator replaying a captured exchange would do: ISO/IEC
14443-3 activation with a 7-byte UID (ATQA 0044h, SAK 04h/00h), READ of the session page ECh
(NC_REG = PTHRU_ON_OFF | NFC->I2C, NS_REG with SRAM_RF_READY while it has windows to serve),
WRITE to F0h..FFh (ACK; the write to FFh completes a challenge window), FAST_READ F0h..FFh
serving the recorded windows in order. Windows and register bits are xinka/sram.py's
(docs/protocol.md "SRAM exchange"). rf_field(on) / rf_exchange(frame) like
hardware/nt3h2111/model.py. MicroPython and CPython.
"""
_UID = b"\x04\x11\x22\x33\x44\x55\x66"
# session registers after NC_REG: LAST_NDEF_BLOCK, SRAM_MIRROR_BLOCK, WDT_LS, WDT_MS,
# I2C_CLOCK_STR (the chip's defaults); NS_REG and the rest of the page follow
_SESSION_DEFAULTS = b"\x00\xf8\x48\x08\x01"


class ReplayTag:
    def __init__(self, payload, kind=None, uid=_UID):
        # imported here, not at the top: the terminal simulation imports this module before it
        # fences off the firmware's heap budget, and xinka.sram is the firmware's to load
        from xinka import sram
        self.s = sram
        self.wins = sram.windows(sram.K_RESPONSE if kind is None else kind, payload)
        self.uid = uid
        self.challenges = []
        self.rf_field(False)

    def rf_field(self, on):
        self.on = on
        self.state = "idle"
        self.sram = bytearray(self.s.WINDOW)
        self.out = -1               # index of the next window to serve; -1: not answering

    def _cl(self, level):
        if level == 1:
            p = b"\x88" + self.uid[:3]
        else:
            p = self.uid[3:7]
        return p + bytes((p[0] ^ p[1] ^ p[2] ^ p[3],))

    def rf_exchange(self, f):
        if not self.on or not f:
            return None
        if len(f) == 1 and f[0] in (0x26, 0x52):
            self.state = "ready1"
            return b"\x44\x00"
        if self.state in ("ready1", "ready2"):
            lvl = 1 if self.state == "ready1" else 2
            cl = 0x93 if lvl == 1 else 0x95
            if len(f) == 2 and f[0] == cl and f[1] == 0x20:
                return self._cl(lvl)
            if len(f) == 7 and f[0] == cl and f[1] == 0x70 and f[2:] == self._cl(lvl):
                self.state = "ready2" if lvl == 1 else "active"
                return b"\x04" if lvl == 1 else b"\x00"
            self.state = "idle"
            return None
        if self.state != "active":
            return None
        s = self.s
        c = f[0]
        if c == s.READ and len(f) == 2 and f[1] == s.SESSION_PAGE:
            ns = s.SRAM_RF_READY if self.out >= 0 else 0
            return (bytes((s.PT_NFC_TO_I2C,)) + _SESSION_DEFAULTS + bytes((ns, 0))
                    + bytes(8))
        if c == s.WRITE and len(f) == 6 and s.SRAM_FIRST <= f[1] <= s.SRAM_LAST:
            p = f[1] - s.SRAM_FIRST
            self.sram[4 * p:4 * p + 4] = f[2:6]
            if f[1] == s.SRAM_LAST:
                self.challenges.append(bytes(self.sram))
                w = self.sram
                if w[1] + 1 >= w[2]:
                    self.out = 0          # the whole challenge is in: "answer" it
            return bytes((s.ACK,))
        if (c == s.FAST_READ and len(f) == 3 and f[1] == s.SRAM_FIRST
                and f[2] == s.SRAM_LAST):
            if self.out < 0 or self.out >= len(self.wins):
                return bytes(s.WINDOW)
            w = self.wins[self.out]
            self.out += 1
            if self.out >= len(self.wins):
                self.out = -2             # all served: SRAM_RF_READY goes low
            return w
        return None
