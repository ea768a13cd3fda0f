"""NXP PN532 over HSU (UART), host side.

Follows the PN532 User Manual (UM0701-02 Rev. 02): §6.2 host controller communication protocol
(normal information frame 00 00 FF LEN LCS TFI PD0..PDn DCS 00, ACK 00 00 FF 00 FF 00, NACK
00 00 FF FF 00 00, error frame 00 00 FF 01 FF 7F 81 00), §6.3.2 HSU wake-up (0x55 then a long
run of zeros), §7.1 error codes (the status byte of InDataExchange / InCommunicateThru), §7.2
commands GetFirmwareVersion 02h, SAMConfiguration 14h, RFConfiguration 32h, InListPassiveTarget
4Ah, InDataExchange 40h, InCommunicateThru 42h, InRelease 52h.

The driver takes a UART object (machine.UART or hardware/sim/uart.SimUART): write(buf),
read(n) -> bytes or None, any(). Timeouts are the driver's: it polls any() against ticks_ms.
Missing ACK, a NACK or a garbled ACK: the command is sent again (up to `retries`). A garbled
response: a NACK asks the PN532 to send it again (§6.2.1.3). No answer at all: PN532Timeout.
Every error carries a stable `reason`; status bytes decode through ERRORS.
"""
from xinka.compat import const, sleep_ms, ticks_diff, ticks_ms


ACK = b"\x00\x00\xff\x00\xff\x00"
NACK = b"\x00\x00\xff\xff\x00\x00"
WAKEUP = b"\x55\x55" + bytes(14)
_TFI_HOST = const(0xD4)
_TFI_PN532 = const(0xD5)

CMD_GET_FIRMWARE_VERSION = const(0x02)
CMD_SAM_CONFIGURATION = const(0x14)
CMD_RF_CONFIGURATION = const(0x32)
CMD_IN_DATA_EXCHANGE = const(0x40)
CMD_IN_COMMUNICATE_THRU = const(0x42)
CMD_IN_LIST_PASSIVE_TARGET = const(0x4A)
CMD_IN_RELEASE = const(0x52)

# UM0701-02 §7.1: status byte error codes -> (reason, message)
ERRORS = {
    0x01: ("rf_timeout", "time out, the target has not answered"),
    0x02: ("rf_crc", "CRC error during RF communication"),
    0x03: ("rf_parity", "parity error during RF communication"),
    0x04: ("anticollision_bits", "erroneous bit count in anticollision"),
    0x05: ("mifare_framing", "framing error during MIFARE operation"),
    0x06: ("collision", "abnormal bit collision in 106 kbps anticollision"),
    0x07: ("buffer_size", "communication buffer size insufficient"),
    0x09: ("rf_overflow", "RF buffer overflow detected by the CIU"),
    0x0A: ("rf_field", "RF field not switched on in time by the counterpart"),
    0x0B: ("rf_protocol", "RF protocol error"),
    0x0D: ("overheat", "temperature error: antenna drivers switched off"),
    0x0E: ("internal_overflow", "internal buffer overflow"),
    0x10: ("bad_parameter", "invalid parameter"),
    0x12: ("dep_unsupported", "DEP: command not supported by the target"),
    0x13: ("rf_format", "data format does not match the specification"),
    0x14: ("mifare_auth", "MIFARE authentication error (or NAK from a Type 2 tag)"),
    0x23: ("uid_check", "ISO/IEC 14443-3 UID check byte is wrong"),
    0x25: ("dep_state", "DEP: invalid device state"),
    0x26: ("not_allowed", "operation not allowed in this configuration"),
    0x27: ("bad_context", "command not acceptable in the current context"),
    0x29: ("released", "target released by the initiator"),
    0x2A: ("card_id_mismatch", "ISO/IEC 14443-3B: card ID does not match"),
    0x2B: ("card_gone", "ISO/IEC 14443-3B: the card previously activated has disappeared"),
    0x2C: ("nfcid3_mismatch", "NFCID3i / NFCID3t mismatch"),
    0x2D: ("over_current", "over-current event"),
    0x2E: ("nad_missing", "NAD missing in DEP frame"),
}


class PN532Error(Exception):
    """Base of the driver's errors; `reason` is a stable code, `code` the PN532 status if any."""
    reason = "pn532"

    def __init__(self, reason=None, msg="", code=None):
        if reason:
            self.reason = reason
        self.code = code
        super().__init__("%s: %s" % (self.reason, msg) if msg else self.reason)


class PN532Timeout(PN532Error):
    """No (complete) frame within the timeout: the chip is silent or gone."""
    reason = "timeout"


class PN532FrameError(PN532Error):
    """Frames arrived but none was valid after the retries (garbage on the line)."""
    reason = "frame"


class PN532StatusError(PN532Error):
    """The chip answered with a non-zero status byte or an error frame."""
    reason = "status"


def status_error(code):
    """PN532StatusError for a status byte (bits 0-5: the error code, §7.1)."""
    code &= 0x3F
    reason, msg = ERRORS.get(code, ("status_%02x" % code, "unknown status 0x%02x" % code))
    return PN532StatusError(reason, msg, code)


class Target:
    """An ISO/IEC 14443-A target found by InListPassiveTarget."""

    def __init__(self, tg, sens_res, sel_res, uid):
        self.tg = tg
        self.sens_res = sens_res
        self.sel_res = sel_res
        self.uid = uid


class PN532:
    """PN532 on `uart`; ack_ms / timeout_ms bound each wait; retries = resends per command."""

    def __init__(self, uart, ack_ms=30, timeout_ms=200, retries=2):
        self.uart = uart
        self.ack_ms = ack_ms
        self.timeout_ms = timeout_ms
        self.retries = retries
        self._buf = bytearray(300)
        self._seen = 0                # bytes received since the last wait began
        self.stats = {"commands": 0, "resends": 0, "nacks_sent": 0, "bytes_out": 0,
                      "bytes_in": 0}

    # --- framing ------------------------------------------------------------------------------

    @staticmethod
    def frame(tfi, data):
        """A normal information frame around TFI + data (len(data) <= 253)."""
        n = len(data) + 1
        if n > 254:
            raise ValueError("frame too long")
        out = bytearray(b"\x00\x00\xff")
        out.append(n)
        out.append((256 - n) & 0xFF)
        out.append(tfi)
        out.extend(data)
        out.append((256 - (tfi + sum(data))) & 0xFF)
        out.append(0)
        return bytes(out)

    def _write(self, b):
        self.stats["bytes_out"] += len(b)
        self.uart.write(b)

    def _read_exact(self, n, deadline):
        # n bytes into self._buf, or PN532Timeout at the deadline
        got = 0
        mv = memoryview(self._buf)
        while got < n:
            k = self.uart.any()
            if k:
                chunk = self.uart.read(min(k, n - got))
                if chunk:
                    mv[got:got + len(chunk)] = chunk
                    got += len(chunk)
                    self._seen += len(chunk)
                    continue
            if ticks_diff(deadline, ticks_ms()) <= 0:
                raise PN532Timeout("timeout", "no answer from the PN532")
            sleep_ms(1)
        self.stats["bytes_in"] += n
        return mv[:n]

    def _read_frame(self, timeout_ms):
        """('ack'|'nack'|'error'|'data', payload) of the next frame; PN532FrameError if bad."""
        deadline = ticks_ms() + timeout_ms
        # hunt for the start code 00 FF (a leading 00 preamble is optional on the wire)
        prev = 0x100
        skipped = 0
        while True:
            b = self._read_exact(1, deadline)[0]
            if prev == 0 and b == 0xFF:
                break
            prev = b
            skipped += 1
            if skipped > 300:
                raise PN532FrameError("frame", "no start code in 300 bytes")
        hdr = bytes(self._read_exact(2, deadline))
        if hdr == b"\x00\xff":
            self._read_exact(1, deadline)        # postamble
            return "ack", None
        if hdr == b"\xff\x00":
            self._read_exact(1, deadline)
            return "nack", None
        n, lcs = hdr[0], hdr[1]
        if (n + lcs) & 0xFF:
            raise PN532FrameError("frame", "length checksum")
        if n == 0xFF:
            raise PN532FrameError("frame", "extended frames are not used")
        body = bytes(self._read_exact(n + 2, deadline))   # TFI..PDn, DCS, postamble
        if sum(body[:n + 1]) & 0xFF:
            raise PN532FrameError("frame", "data checksum")
        if body[0] == 0x7F and n == 1:
            return "error", None
        if body[0] != _TFI_PN532:
            raise PN532FrameError("frame", "TFI %02x" % body[0])
        return "data", body[1:n]

    def _drain(self):
        while self.uart.any():
            self.uart.read(self.uart.any())

    # --- commands -----------------------------------------------------------------------------

    def wakeup(self):
        """HSU wake-up (§6.3.2): 55 55 then zeros, then SAMConfiguration normal mode."""
        self._write(WAKEUP)
        sleep_ms(2)
        self._drain()
        self.sam_configuration()

    def command(self, cmd, data=b"", timeout_ms=None):
        """Send cmd + data, wait for the ACK and the answer; returns the answer's data after
        the response code. PN532Timeout / PN532FrameError / PN532StatusError (error frame)."""
        timeout_ms = self.timeout_ms if timeout_ms is None else timeout_ms
        req = self.frame(_TFI_HOST, bytes((cmd,)) + bytes(data))
        self.stats["commands"] += 1
        last = None
        for attempt in range(self.retries + 1):
            if attempt:
                self.stats["resends"] += 1
            self._drain()
            self._write(req)
            try:
                kind, _ = self._read_frame(self.ack_ms)
            except PN532Error as err:
                last = err
                continue
            if kind != "ack":
                last = PN532FrameError("frame", "expected ACK, got %s" % kind)
                continue
            return self._answer(cmd, timeout_ms)
        raise last or PN532FrameError("frame", "no attempt made")

    def _answer(self, cmd, timeout_ms):
        last = None
        for attempt in range(self.retries + 1):
            if attempt:
                self.stats["nacks_sent"] += 1
                self._drain()
                self._write(NACK)                 # send the last answer again
            self._seen = 0
            try:
                kind, payload = self._read_frame(timeout_ms)
            except PN532FrameError as err:
                last = err
                continue
            except PN532Timeout as err:
                if self._seen:                    # bytes came, but no whole frame: garbled
                    last = PN532FrameError("frame", "incomplete frame")
                    continue
                self._write(ACK)                  # abort the command (§6.2.1.3)
                raise err
            if kind == "error":
                raise PN532StatusError("syntax", "error frame: the PN532 refused the command",
                                       0x7F)
            if kind != "data" or not payload or payload[0] != cmd + 1:
                last = PN532FrameError("frame", "unexpected %s frame" % kind)
                continue
            return payload[1:]
        raise last or PN532FrameError("frame", "no attempt made")

    def firmware_version(self):
        """(IC, Ver, Rev, Support): 32h for a PN532."""
        r = self.command(CMD_GET_FIRMWARE_VERSION)
        if len(r) != 4:
            raise PN532FrameError("frame", "GetFirmwareVersion answer of %d bytes" % len(r))
        return tuple(r)

    def sam_configuration(self):
        """Normal mode, no SAM, IRQ used (leaves the low-power state after wake-up)."""
        self.command(CMD_SAM_CONFIGURATION, b"\x01\x14\x01")

    def set_max_retries(self, passive_activation=1):
        """RFConfiguration item 5: MxRtyATR, MxRtyPSL, MxRtyPassiveActivation."""
        self.command(CMD_RF_CONFIGURATION, bytes((5, 0xFF, 0x01, passive_activation & 0xFF)))

    def set_rf_timeout(self, code=0x0A):
        """RFConfiguration item 2: ATR_RES timeout, then the InCommunicateThru timeout
        (0x0A = 102.4 ms; codes per §7.3.1)."""
        self.command(CMD_RF_CONFIGURATION, bytes((2, 0x00, 0x0B, code)))

    def list_passive_target(self, timeout_ms=None):
        """One 106 kbps type A target (Target) or None when none answered."""
        r = self.command(CMD_IN_LIST_PASSIVE_TARGET, b"\x01\x00", timeout_ms)
        if not r or r[0] == 0:
            return None
        if len(r) < 6 or r[5] + 6 > len(r):
            raise PN532FrameError("frame", "InListPassiveTarget answer %s" % bytes(r).hex())
        n = r[5]
        return Target(r[1], bytes(r[2:4]), r[4], bytes(r[6:6 + n]))

    def thru(self, data, timeout_ms=None):
        """InCommunicateThru: the target's raw answer (bytes). PN532StatusError on a status."""
        r = self.command(CMD_IN_COMMUNICATE_THRU, data, timeout_ms)
        if not r:
            raise PN532FrameError("frame", "InCommunicateThru answer without status")
        if r[0] & 0x3F:
            raise status_error(r[0])
        return bytes(r[1:])

    def data_exchange(self, tg, data, timeout_ms=None):
        """InDataExchange with target tg: the answer's data. PN532StatusError on a status."""
        r = self.command(CMD_IN_DATA_EXCHANGE, bytes((tg,)) + bytes(data), timeout_ms)
        if not r:
            raise PN532FrameError("frame", "InDataExchange answer without status")
        if r[0] & 0x3F:
            raise status_error(r[0])
        return bytes(r[1:])

    def release(self, tg=0):
        """InRelease (0 = all targets): the field stays on, the target is deselected."""
        r = self.command(CMD_IN_RELEASE, bytes((tg,)))
        if r and r[0] & 0x3F:
            raise status_error(r[0])
