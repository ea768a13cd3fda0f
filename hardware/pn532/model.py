"""NXP PN532 model: the HSU (UART) frame protocol on one side, an ISO/IEC 14443-A RF link on
the other. Runs under MicroPython (inside a simulated terminal) and CPython alike.

Follows the PN532 User Manual (UM0701-02 Rev. 02):
- §6.2 frames: 00 00 FF LEN LCS TFI PD0..PDn DCS 00; ACK 00 00 FF 00 FF 00; NACK 00 00 FF FF 00
  00 (the host asks for the last answer again); the error frame 00 00 FF 01 FF 7F 81 00 for a
  frame that is well formed but not a command the chip takes (syntax error). A frame with a
  bad LCS/DCS or TFI is ignored: no ACK, the host times out. An ACK from the host aborts.
- §6.3.2 HSU wake-up: after power-on the chip sleeps and ignores frames until it sees 0x55.
- §7.1 status byte error codes (0x01 target timeout, 0x14 NAK/authentication, 0x27 context).
- §7.2 commands: GetFirmwareVersion 02h (IC 32h, Ver 1, Rev 6, Support 7), SAMConfiguration
  14h, RFConfiguration 32h (item 1 RF field, 2 timeouts, 5 MaxRetries), InListPassiveTarget 4Ah
  (106 kbps type A, one target: NbTg, Tg, SENS_RES, SEL_RES, NFCIDLength, NFCID),
  InDataExchange 40h, InCommunicateThru 42h, InRelease 52h.

RF side: an object with field(on) and exchange(frame, timeout_ms) -> bytes | None (silence),
without CRC, as hardware/pn532/rf.py's TagLink (a tag model in-process) and UDPLink (nfcpy's
`udp` driver format to a simulated badge process). Anticollision is ISO/IEC 14443-3 cascade
levels 1-2 as nfcpy's udp driver does it. A tag's 4-bit ACK (0Ah) comes back from
InCommunicateThru as one data byte; InDataExchange reports it as status 00h with no data and a
4-bit NAK as status 14h (this model's choice for what the chip's MIFARE layer reports).

Fault injection (fault(kind, n=1) for the next n commands; "dropoff" until power_on()):
  garbage   the answer frame is replaced by random bytes      nack   a NACK instead of the ACK
  timeout   neither ACK nor answer                            badsum the answer's DCS is wrong
  noack     the answer without an ACK first                   error  an error frame
  dropoff   the UART goes silent (chip browned out)
remove_after(n): the tag leaves the field after n more RF frames (badge pulled away).
"""
try:
    import os
    _urandom = os.urandom
except (ImportError, AttributeError):
    _urandom = None

ACK = b"\x00\x00\xff\x00\xff\x00"
NACK = b"\x00\x00\xff\xff\x00\x00"
ERROR_FRAME = b"\x00\x00\xff\x01\xff\x7f\x81\x00"
FIRMWARE = b"\x32\x01\x06\x07"

ST_OK = 0x00
ST_TIMEOUT = 0x01
ST_NAK = 0x14
ST_BAD_CONTEXT = 0x27
ST_BAD_PARAM = 0x10


def frame(tfi, data):
    n = len(data) + 1
    out = bytearray(b"\x00\x00\xff")
    out.append(n)
    out.append((256 - n) & 0xFF)
    out.append(tfi)
    out.extend(data)
    out.append((256 - (tfi + sum(data))) & 0xFF)
    out.append(0)
    return bytes(out)


class PN532Model:
    """One PN532 on a UART. Host bytes go to receive(); the chip's bytes collect in `out`
    (a bytearray the UART drains). rf: the RF link (may be None: no antenna, nothing found)."""

    def __init__(self, rf=None, seed=1):
        self.rf = rf
        self.out = bytearray()
        self._rnd = seed or 1
        self.stats = {"frames_in": 0, "bad_frames": 0, "acks": 0, "answers": 0,
                      "nacks_in": 0, "rf_frames": 0, "rf_timeouts": 0, "bytes_in": 0,
                      "bytes_out": 0, "activations": 0}
        self.power_on()

    # --- power and faults ---------------------------------------------------------------------

    def power_on(self):
        self._buf = bytearray()
        self.awake = False
        self.sam = False
        self.field_on = False
        self.target = None
        self.last = None
        self.max_retries = 0xFF
        self.rf_timeout_ms = 50
        self._faults = []
        self._dropped = False
        self._remove_in = -1
        if self.rf is not None:
            self.rf.field(False)

    def power_off(self):
        if self.rf is not None and self.field_on:
            self.rf.field(False)
        self.field_on = False
        self.out = bytearray()

    def fault(self, kind, n=1):
        """Inject `kind` into the next n commands (see module doc); dropoff is permanent."""
        if kind == "dropoff":
            self._dropped = True
            return
        for _ in range(n):
            self._faults.append(kind)

    def remove_after(self, n):
        """The tag leaves the field after n more RF frames (0: now)."""
        self._remove_in = n
        if n == 0:
            self._remove()

    def _remove(self):
        self._remove_in = -1
        if self.rf is not None:
            self.rf.remove()

    def _rand(self, n):
        out = bytearray(n)
        x = self._rnd
        for i in range(n):
            x ^= (x << 13) & 0xFFFFFFFF
            x ^= x >> 17
            x ^= (x << 5) & 0xFFFFFFFF
            out[i] = x & 0xFF
        self._rnd = x
        return bytes(out)

    # --- host side ----------------------------------------------------------------------------

    def _send(self, b):
        self.stats["bytes_out"] += len(b)
        self.out.extend(b)

    def receive(self, data):
        """Bytes from the host (UART TX line)."""
        self.stats["bytes_in"] += len(data)
        if self._dropped:
            return
        buf = self._buf
        buf.extend(data)
        if not self.awake:
            i = buf.find(b"\x55")
            if i < 0:
                self._buf = bytearray()
                return
            self.awake = True
            buf = self._buf = bytearray(buf[i + 1:])
        while True:
            i = buf.find(b"\x00\xff")
            if i < 0:
                if len(buf) > 1:
                    self._buf = buf = bytearray(buf[-1:])
                return
            if len(buf) < i + 4:
                return
            ln, lcs = buf[i + 2], buf[i + 3]
            if ln == 0 and lcs == 0xFF:                 # ACK from the host: abort
                self._buf = buf = bytearray(buf[i + 5:])
                continue
            if ln == 0xFF and lcs == 0x00:              # NACK: send the last answer again
                self._buf = buf = bytearray(buf[i + 5:])
                self.stats["nacks_in"] += 1
                if self.last is not None:
                    self._send(self.last)
                continue
            if (ln + lcs) & 0xFF:
                self.stats["bad_frames"] += 1
                self._buf = buf = bytearray(buf[i + 2:])
                continue
            end = i + 4 + ln + 2
            if len(buf) < end:
                return
            body = bytes(buf[i + 4:i + 4 + ln])
            dcs = buf[i + 4 + ln]
            self._buf = buf = bytearray(buf[end:])
            if (sum(body) + dcs) & 0xFF or not body or body[0] != 0xD4 or ln < 2:
                self.stats["bad_frames"] += 1
                continue
            self.stats["frames_in"] += 1
            self._command(body[1], body[2:])

    def _command(self, cmd, data):
        f = self._faults.pop(0) if self._faults else None
        if f == "timeout":
            return
        if f == "nack":
            self._send(NACK)
            return
        if f != "noack":
            self._send(ACK)
            self.stats["acks"] += 1
        ans = self._execute(cmd, data)
        if ans is None:
            rsp = ERROR_FRAME
        else:
            rsp = frame(0xD5, bytes((cmd + 1,)) + ans)
        if f == "error":
            rsp = ERROR_FRAME
        self.last = rsp                               # what a NACK gets: the frame as sent
        if f == "badsum":                             # corrupted on the line this once
            rsp = rsp[:-2] + bytes(((rsp[-2] + 1) & 0xFF, 0))
        elif f == "garbage":
            rsp = self._rand(len(rsp))
        self.stats["answers"] += 1
        self._send(rsp)

    # --- commands -----------------------------------------------------------------------------

    def _execute(self, cmd, d):
        if cmd == 0x02:
            return FIRMWARE
        if cmd == 0x14:
            if not d or d[0] not in (1, 2, 3, 4):
                return None
            self.sam = True
            return b""
        if cmd == 0x32:
            return self._rf_config(d)
        if cmd == 0x4A:
            return self._list(d)
        if cmd == 0x40:
            if not d:
                return None
            if self.target is None or d[0] != 1:
                return bytes((ST_BAD_CONTEXT,))
            return self._exchange(d[1:], True)
        if cmd == 0x42:
            if not self.field_on:
                return bytes((ST_BAD_CONTEXT,))
            return self._exchange(d, False)
        if cmd == 0x52:
            if not d:
                return None
            self.target = None
            return b"\x00"
        return None                                   # not a command this model takes

    def _rf_config(self, d):
        if not d:
            return None
        item = d[0]
        if item == 1 and len(d) == 2:
            self._field(bool(d[1] & 1))
        elif item == 2 and len(d) == 4:
            # RFU, ATR_RES timeout, InCommunicateThru timeout: 100 us * 2^(n-1)
            n = d[3]
            self.rf_timeout_ms = 0 if n == 0 else max(1, (1 << (n - 1)) // 10)
        elif item == 5 and len(d) == 4:
            self.max_retries = d[3]
        elif item not in (4, 0x0A, 0x0B, 0x0C, 0x0D):
            return None
        return b""

    def _field(self, on):
        if on != self.field_on:
            self.field_on = on
            if not on:
                self.target = None
            if self.rf is not None:
                self.rf.field(on)

    def _rf(self, frame, timeout_ms):
        if self.rf is None:
            return None
        if self._remove_in > 0:
            self._remove_in -= 1
            if self._remove_in == 0:
                self._remove()
        self.stats["rf_frames"] += 1
        r = self.rf.exchange(frame, timeout_ms)
        if r is None:
            self.stats["rf_timeouts"] += 1
        return r

    def _list(self, d):
        if len(d) < 2 or d[0] < 1 or d[1] != 0:
            return None                               # 106 kbps type A only
        self._field(True)
        self.target = None
        tries = 1 + (self.max_retries if self.max_retries < 0xFF else 2)
        for _ in range(tries):
            t = self._activate()
            if t is not None:
                self.target = t
                self.stats["activations"] += 1
                sens, sak, uid = t
                return bytes((1, 1)) + sens + bytes((sak, len(uid))) + uid
        return b"\x00"

    def _activate(self):
        to = 20
        atqa = self._rf(b"\x26", to)
        if atqa is None or len(atqa) != 2:
            atqa = self._rf(b"\x52", to)               # a tag left in HALT answers WUPA
            if atqa is None or len(atqa) != 2:
                return None
        uid = b""
        for cl in (0x93, 0x95, 0x97):
            sdd = self._rf(bytes((cl, 0x20)), to)
            if sdd is None or len(sdd) != 5:
                return None
            if sdd[0] ^ sdd[1] ^ sdd[2] ^ sdd[3] != sdd[4]:
                return None                           # BCC wrong
            sak = self._rf(bytes((cl, 0x70)) + sdd, to)
            if sak is None or len(sak) < 1:
                return None
            if sak[0] & 0x04:
                uid += sdd[1:4]                       # cascade tag 88h first
                continue
            uid += sdd[0:4]
            return bytes((atqa[1], atqa[0])), sak[0], uid   # SENS_RES as the chip shows it
        return None

    def _exchange(self, data, dex):
        r = self._rf(bytes(data), self.rf_timeout_ms)
        if r is None:
            return bytes((ST_TIMEOUT,))
        if dex and len(r) == 1:
            if r[0] == 0x0A:
                return b"\x00"
            return bytes((ST_NAK,))
        return b"\x00" + r
