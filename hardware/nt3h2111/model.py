"""NXP NT3H2111 (NTAG I2C plus, 1k) model: the I2C side and the RF (NFC Forum Type 2) side.

Follows the NT3H2111_2211 product data sheet (NXP, Rev. 3.0-3.5; section numbers of Rev. 3.0)
and NFC Forum Type 2 Tag 1.0:
- memory organisation: NFC pages of 4 bytes (sector 0: 00h-E9h, ECh-EDh session registers,
  F0h-FFh SRAM in pass-through mode); I2C blocks of 16 bytes (00h-37h EEPROM incl. user memory
  at 01h-37h, 38h-39h lock/auth, 3Ah configuration, F8h-FBh SRAM, FEh session registers);
  user memory pages 04h-E1h = 888 bytes; CC E1 10 6D 00; block 0 byte 0 reads as 04h and a
  write to it sets the I2C address (used from the next power-on);
- I2C protocol: MEMA + 16 bytes (write), MEMA then read 16 bytes; registers with
  FEh REGA MASK REGDAT (write) and FEh REGA then read 1 byte;
- NC_REG / NS_REG bits, FD_ON / FD_OFF field-detect events, LAST_NDEF_BLOCK / NDEF_DATA_READ;
- §11 "Communication and arbitration between NFC and I2C interface": first come, first served,
  I2C_LOCKED / RF_LOCKED, the watchdog (WDT_MS:WDT_LS x 9.43 us) that frees a forgotten
  I2C lock, and pass-through mode (SRAM handed over by writing/reading its last page).
  §11.1.1 (pass-through off): the I2C side takes the memory (I2C_LOCKED set) only while the
  NFC side is in IDLE or HALT; while a reader is resolving or has selected the tag (READY1/2,
  ACTIVE) an I2C memory access is NACKed even when RF_LOCKED is not set yet, so a host can
  never write under a reader that is in the middle of a read;
- NFC commands: GET_VERSION, READ (§10.8: invalid pages read as 00h), FAST_READ, WRITE,
  FAST_WRITE (SRAM), SECTOR_SELECT (passive ACK), READ_SIG, HLTA; 4-bit ACK/NAK;
  ISO/IEC 14443-3 anticollision for a 7-byte UID (ATQA 0044h, SAK 04h/00h).
Frames are handled without CRC (nfcpy's udp driver carries none). What is left out is listed
in docs/nt3h2111-model.md.
"""
import hashlib

from xinka.compat import const, ticks_diff, ticks_ms


VERSION = b"\x00\x04\x04\x05\x02\x02\x13\x03"   # NTAG I2C plus 1k (NXP vendor 04h, NTAG, 1k)
ATQA = b"\x44\x00"                              # 0044h, least significant byte first
CC_1K = b"\xe1\x10\x6d\x00"
I2C_ADDR = const(0x55)
USER_FIRST_PAGE = const(0x04)
USER_LAST_PAGE = const(0xE1)
SRAM_FIRST_BLOCK = const(0xF8)                  # I2C; NFC pages F0h-FFh in pass-through
SESSION_BLOCK = const(0xFE)
CONFIG_BLOCK = const(0x3A)

ACK = const(0x0A)
NAK_INVALID = const(0x0)       # invalid argument (page address)
NAK_ARBITER = const(0x3)       # memory locked to the other interface

# NC_REG bits
NC_I2C_RST = const(0x80)
NC_PTHRU = const(0x40)
NC_FD_OFF = const(0x30)
NC_FD_ON = const(0x0C)
NC_SRAM_MIRROR = const(0x02)
NC_DIR = const(0x01)           # TRANSFER_DIR: 1 NFC -> I2C, 0 I2C -> NFC
# NS_REG bits
NS_NDEF_DATA_READ = const(0x80)
NS_I2C_LOCKED = const(0x40)
NS_RF_LOCKED = const(0x20)
NS_SRAM_I2C_READY = const(0x10)
NS_SRAM_RF_READY = const(0x08)
NS_EEPROM_WR_ERR = const(0x04)
NS_EEPROM_WR_BUSY = const(0x02)
NS_RF_FIELD_PRESENT = const(0x01)

# session / configuration register offsets (REGA)
REG_NC = const(0)
REG_LAST_NDEF_BLOCK = const(1)
REG_SRAM_MIRROR_BLOCK = const(2)
REG_WDT_LS = const(3)
REG_WDT_MS = const(4)
REG_I2C_CLOCK_STR = const(5)
REG_NS = const(6)              # REG_LOCK in the configuration block
CONFIG_DEFAULT = b"\x01\x00\xf8\x48\x08\x01\x00\x00"

_EEPROM_BLOCKS = const(0x3B)   # I2C blocks 00h-3Ah = NFC pages 00h-EBh
_ARB_IDLE = const(0)
_ARB_RF = const(1)
_ARB_I2C = const(2)
# RF states (ISO/IEC 14443-3); _OFF: no field
_OFF = const(0)
_IDLE = const(1)
_READY1 = const(2)
_READY2 = const(3)
_ACTIVE = const(4)
_HALT = const(5)
STATE_NAMES = ("OFF", "IDLE", "READY1", "READY2", "ACTIVE", "HALT")
# field-detect events
_EV_FIELD_ON = const(0)
_EV_SOC = const(1)
_EV_SELECT = const(2)
_EV_PT_ON = const(3)
_EV_FIELD_OFF = const(4)
_EV_HALT = const(5)
_EV_NDEF_READ = const(6)
_EV_PT_OFF = const(7)


class NT3H2111Error(Exception):
    """Base of the model's errors; `reason` is a stable code."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


class I2CNack(NT3H2111Error):
    """The chip did not acknowledge: `address` is True when the address byte itself was NACKed
    (no power), False for a NACK on a data byte. Reasons: no_power, invalid_block, register,
    too_long, rf_locked (NFC holds the memory or is in READY/ACTIVE), eeprom_busy, sram_locked,
    config_locked."""

    def __init__(self, reason, address=False):
        super().__init__(reason)
        self.address = address


class NT3H2111:
    """One NT3H2111. I2C side: i2c_write / i2c_read (one transaction each, after the address
    byte). RF side: rf_field / rf_exchange (one frame without CRC). Time comes from `clock`
    (milliseconds, ticks_diff-compatible); `write_ms` is the I2C EEPROM write time."""

    def __init__(self, uid=b"\x04\x3c\x5e\x0a\x91\x2b\x80", eeprom=None, signature=None,
                 write_ms=4, clock=None):
        if len(uid) != 7 or uid[0] != 0x04:
            raise NT3H2111Error("bad_uid")
        self.uid = bytes(uid)
        self.write_ms = write_ms
        self._clock = clock or ticks_ms
        if eeprom is None:
            eeprom = self.factory_eeprom(self.uid)
        if len(eeprom) != _EEPROM_BLOCKS * 16:
            raise NT3H2111Error("bad_eeprom")
        self.eeprom = bytearray(eeprom)
        self.eeprom[1:7] = self.uid[1:7]
        if signature is None:
            signature = hashlib.sha256(b"NT3H2111 model originality signature" + self.uid).digest()
        self.signature = bytes(signature)
        u = self.uid
        self._cl1 = bytes((0x88, u[0], u[1], u[2], 0x88 ^ u[0] ^ u[1] ^ u[2]))
        self._cl2 = bytes((u[3], u[4], u[5], u[6], u[3] ^ u[4] ^ u[5] ^ u[6]))
        self.sram = bytearray(64)
        self._sess = bytearray(8)
        self._fd_cbs = []
        self._fd_low = False
        self._field = False
        self._state = _OFF
        self._from_halt = self._sel_pending = self._soc_seen = False
        self.sector = 0
        self.stats = {"rf_frames": 0, "rf_answers": 0, "rf_naks": 0, "rf_reads": 0,
                      "rf_writes": 0, "i2c_writes": 0, "i2c_reads": 0, "i2c_nacks": 0,
                      "i2c_short_writes": 0, "fd_changes": 0, "handovers": 0}
        self.i2c_addr = I2C_ADDR
        self.power_on()

    @staticmethod
    def factory_eeprom(uid):
        """EEPROM as delivered: CC for 1k, an empty NDEF TLV, default configuration."""
        e = bytearray(_EEPROM_BLOCKS * 16)
        e[0] = I2C_ADDR << 1               # I2C address byte; reads back as UID0 (04h)
        e[1:7] = uid[1:7]
        e[7:10] = b"\x00\x44\x00"          # internal bytes (I2C view only)
        e[12:16] = CC_1K
        e[16:20] = b"\x03\x00\xfe\x00"
        e[0xE3 * 4 + 3] = 0xFF             # AUTH0: no password protection
        e[0xE5 * 4:0xE6 * 4] = b"\xff\xff\xff\xff"   # PWD
        e[0xE8 * 4:0xEA * 4] = CONFIG_DEFAULT
        return e

    # ---- power, field, observation

    def power_on(self):
        """VCC power-on reset: configuration registers copied to the session registers."""
        self._vcc = True
        self.i2c_addr = self.eeprom[0] >> 1
        self._sess[0:6] = self.eeprom[0xE8 * 4:0xE8 * 4 + 6]
        self._sess[0] &= ~NC_PTHRU & 0xFF
        self._sess[6] = self._sess[7] = 0
        self.sram[:] = bytes(64)
        self._arb = _ARB_IDLE
        self._arb_t = 0
        self._busy = False
        self._busy_t = 0
        self._i2c_ready = self._rf_ready = False
        self._ndef_read = self._wr_err = False
        self._reg = -1
        self._ptr = 0

    def power_off(self):
        """VCC lost: the I2C side stops answering, session registers and SRAM are lost."""
        self._vcc = False
        self._sess[0] &= ~NC_PTHRU & 0xFF
        self._i2c_ready = self._rf_ready = False
        if self._arb == _ARB_I2C:
            self._arb = _ARB_IDLE

    def rf_field(self, on):
        """The reader's field appears or disappears."""
        if on and not self._field:
            self._field = True
            self._state = _IDLE
            self._from_halt = self._sel_pending = self._soc_seen = False
            self.sector = 0
            self._fd_event(_EV_FIELD_ON)
        elif not on and self._field:
            if self._pt() or self._arb == _ARB_RF:
                self._arb = _ARB_IDLE
            self._field = False
            self._state = _OFF
            self.sector = 0
            self._sel_pending = False
            self._sess[0] &= ~NC_PTHRU & 0xFF
            self._i2c_ready = self._rf_ready = False
            self._fd_event(_EV_FIELD_OFF)

    def fd_pin(self):
        """Level of the open-drain FD pin with its pull-up: 0 pulled low, 1 released."""
        return 0 if self._fd_low else 1

    def on_fd(self, callback):
        """Call callback(level) whenever the FD pin changes."""
        self._fd_cbs.append(callback)

    @property
    def rf_state(self):
        return STATE_NAMES[self._state]

    def session_registers(self):
        """The 8 session register bytes as REGA 0-7 read them (NS_REG not cleared)."""
        self._tick()
        out = bytearray(self._sess)
        out[6] = self._ns()
        return bytes(out)

    # ---- internals shared by both sides

    def _tick(self):
        now = self._clock()
        if self._busy and ticks_diff(now, self._busy_t) >= self.write_ms:
            self._busy = False
        if self._arb == _ARB_I2C and not self._pt():
            wdt = (self._sess[REG_WDT_MS] << 8) | self._sess[REG_WDT_LS]
            if ticks_diff(now, self._arb_t) >= (wdt * 943 + 99999) // 100000:
                self._arb = _ARB_IDLE
        return now

    def _pt(self):
        return bool(self._sess[0] & NC_PTHRU and self._field and self._vcc)

    def _ns(self):
        return ((NS_NDEF_DATA_READ if self._ndef_read else 0)
                | (NS_I2C_LOCKED if self._arb == _ARB_I2C else 0)
                | (NS_RF_LOCKED if self._arb == _ARB_RF else 0)
                | (NS_SRAM_I2C_READY if self._i2c_ready else 0)
                | (NS_SRAM_RF_READY if self._rf_ready else 0)
                | (NS_EEPROM_WR_ERR if self._wr_err else 0)
                | (NS_EEPROM_WR_BUSY if self._busy else 0)
                | (NS_RF_FIELD_PRESENT if self._field else 0))

    def _fd_event(self, ev):
        nc = self._sess[0]
        on = (nc & NC_FD_ON) >> 2
        off = (nc & NC_FD_OFF) >> 4
        if ev <= _EV_PT_ON:
            if ev == on:
                self._set_fd(True)
        elif (ev == _EV_FIELD_OFF or (ev == _EV_HALT and off == 1)
              or (ev == _EV_NDEF_READ and off == 2) or (ev == _EV_PT_OFF and off == 3 and on == 3)):
            self._set_fd(False)

    def _set_fd(self, low):
        if low != self._fd_low:
            self._fd_low = low
            self.stats["fd_changes"] += 1
            for cb in self._fd_cbs:
                cb(0 if low else 1)

    def _mirror_page(self, page):
        # SRAM mirrored into user memory (SRAM_MIRROR_ON_OFF, pass-through off): index or -1
        if self._sess[0] & NC_SRAM_MIRROR and self._vcc and not self._pt():
            i = page - self._sess[REG_SRAM_MIRROR_BLOCK] * 4
            if 0 <= i < 16:
                return i
        return -1

    def _sram_owner(self):
        # pass-through: who may touch the SRAM now
        if self._sess[0] & NC_DIR:
            return _ARB_I2C if self._i2c_ready else _ARB_RF
        return _ARB_RF if self._rf_ready else _ARB_I2C

    # ---- I2C side

    def i2c_write(self, data):
        """One I2C write transaction (the bytes after the address byte)."""
        self._tick()
        if not self._vcc:
            raise I2CNack("no_power", True)
        self.stats["i2c_writes"] += 1
        n = len(data)
        if n == 0:
            return
        mema = data[0]
        self._reg = -1
        if mema == SESSION_BLOCK:
            if n == 2 and data[1] <= 7:
                self._reg = data[1]
            elif n == 4 and data[1] <= 7:
                self._reg_write(data[1], data[2], data[3])
            else:
                self._nack("register")
            return
        if n > 17:
            self._nack("too_long")
        self._i2c_access(mema, n == 17)
        self._ptr = mema
        if n == 17:
            self._write_block(mema, data[1:17])
        elif n > 1:
            self.stats["i2c_short_writes"] += 1     # fewer than 16 bytes: nothing is written

    def i2c_read(self, n):
        """One I2C read transaction of n bytes; reads past the data return FFh."""
        self._tick()
        if not self._vcc:
            raise I2CNack("no_power", True)
        self.stats["i2c_reads"] += 1
        out = bytearray(b"\xff" * n)
        if n == 0:
            return bytes(out)
        if self._reg >= 0:
            if self._reg == REG_NS:
                out[0] = self._ns()
                self._ndef_read = False
            elif self._reg < 6:
                out[0] = self._sess[self._reg]
            else:
                out[0] = 0
            return bytes(out)
        blk = self._ptr
        self._i2c_access(blk, False)
        data = self._read_block(blk)
        k = min(n, 16)
        out[0:k] = data[0:k]
        return bytes(out)

    def _nack(self, reason):
        self.stats["i2c_nacks"] += 1
        raise I2CNack(reason)

    def _i2c_access(self, blk, write):
        # NACK unless the I2C side may access block `blk` now; claims the arbiter if free
        sram = SRAM_FIRST_BLOCK <= blk <= SRAM_FIRST_BLOCK + 3 or self._mirror_page(blk * 4) >= 0
        if not sram and blk >= _EEPROM_BLOCKS:
            self._nack("invalid_block")
        if self._pt() and SRAM_FIRST_BLOCK <= blk <= SRAM_FIRST_BLOCK + 3:
            if self._sram_owner() != _ARB_I2C or (write and self._sess[0] & NC_DIR):
                self._nack("sram_locked")
            if not self._sess[0] & NC_DIR:
                self._arb = _ARB_I2C
            return
        if self._arb == _ARB_RF:
            self._nack("rf_locked")
        if self._arb == _ARB_IDLE and not self._pt() and _READY1 <= self._state <= _ACTIVE:
            self._nack("rf_locked")            # §11.1.1: I2C locks only in IDLE or HALT
        if not sram and self._busy:
            self._nack("eeprom_busy")
        if self._arb == _ARB_IDLE and not self._pt():
            self._arb = _ARB_I2C
            self._arb_t = self._clock()

    def _read_block(self, blk):
        if blk >= SRAM_FIRST_BLOCK:
            i = (blk - SRAM_FIRST_BLOCK) * 16
            data = bytes(self.sram[i:i + 16])
            if self._pt() and blk == SRAM_FIRST_BLOCK + 3 and self._sess[0] & NC_DIR:
                # NFC -> I2C: the I2C host read the last block, the SRAM goes back to NFC
                self._i2c_ready = False
                self._arb = _ARB_IDLE
                self.stats["handovers"] += 1
                self._fd_event(_EV_PT_OFF)
            return data
        i = self._mirror_page(blk * 4)
        if i >= 0:
            return bytes(self.sram[i * 4:i * 4 + 16])
        data = bytearray(self.eeprom[blk * 16:blk * 16 + 16])
        if blk == 0:
            data[0] = self.uid[0]          # byte 0 always reads as 04h
        return bytes(data)

    def _write_block(self, blk, data):
        i = self._mirror_page(blk * 4) * 4
        if blk >= SRAM_FIRST_BLOCK:
            i = (blk - SRAM_FIRST_BLOCK) * 16
        if i >= 0:
            self.sram[i:i + 16] = data
            if self._pt() and blk == SRAM_FIRST_BLOCK + 3 and not self._sess[0] & NC_DIR:
                # I2C -> NFC: the last block is written, the SRAM is handed to NFC
                self._rf_ready = True
                self._arb = _ARB_RF
                self.stats["handovers"] += 1
                self._fd_event(_EV_PT_OFF)
            return
        e = self.eeprom
        o = blk * 16
        if blk == 0:
            e[0] = data[0]                 # I2C address << 1, used from the next power-on
            e[10] |= data[10]              # static lock bits can only be set
            e[11] |= data[11]
            e[12:16] = data[12:16]         # CC: freely writable from I2C
        elif blk == 0x38:
            e[o:o + 8] = data[0:8]         # pages E0h-E1h: user memory
            for i in range(3):             # E2h: dynamic lock bits can only be set
                e[o + 8 + i] |= data[8 + i]
            e[o + 12:o + 16] = data[12:16]
        elif blk == CONFIG_BLOCK:
            if e[o + 6] & 0x02:            # REG_LOCK_I2C
                self._nack("config_locked")
            lock = e[o + 6] | data[6]
            e[o:o + 8] = data[0:8]
            e[o + 6] = lock
        else:
            e[o:o + 16] = data
        if self.write_ms:
            self._busy = True
            self._busy_t = self._clock()

    def _reg_write(self, rega, mask, val):
        if rega == REG_NS:
            if mask & NS_I2C_LOCKED:
                if val & NS_I2C_LOCKED and self._arb == _ARB_IDLE:
                    self._arb = _ARB_I2C
                    self._arb_t = self._clock()
                elif not val & NS_I2C_LOCKED and self._arb == _ARB_I2C:
                    self._arb = _ARB_IDLE
            if mask & NS_EEPROM_WR_ERR and not val & NS_EEPROM_WR_ERR:
                self._wr_err = False
            return
        if rega >= REG_I2C_CLOCK_STR:
            return                         # read-only in the session registers
        new = ((self._sess[rega] & ~mask) | (val & mask)) & 0xFF
        if rega != REG_NC:
            self._sess[rega] = new
            return
        if new & NC_PTHRU and not (self._field and self._vcc):
            new &= ~NC_PTHRU & 0xFF        # pass-through needs both interfaces powered
        old = self._sess[0]
        self._sess[0] = new
        if (old ^ new) & (NC_PTHRU | NC_DIR) and (old | new) & NC_PTHRU:
            self._i2c_ready = self._rf_ready = False    # pass-through starts over
            self._arb = _ARB_IDLE

    # ---- RF side

    def rf_exchange(self, frame):
        """One frame from the reader (no CRC). Returns the answer: bytes, a 1-byte 4-bit
        ACK/NAK, or None when the tag stays silent."""
        if not self._field:
            return None
        self._tick()
        self.stats["rf_frames"] += 1
        rsp = self._frame(bytes(frame))
        if rsp is not None:
            self.stats["rf_answers"] += 1
        return rsp

    def _frame(self, f):
        n = len(f)
        if n == 0:
            return None
        st = self._state
        if n == 1 and f[0] in (0x26, 0x52):          # REQA, WUPA
            if st == _IDLE or (f[0] == 0x52 and st == _HALT):
                self._from_halt = st == _HALT
                self._state = _READY1
                if not self._soc_seen:
                    self._soc_seen = True
                    self._fd_event(_EV_SOC)
                return ATQA
            return self._error()
        if st == _READY1 or st == _READY2:
            cl, part = (0x93, self._cl1) if st == _READY1 else (0x95, self._cl2)
            if n == 2 and f[0] == cl and f[1] == 0x20:
                return part
            if n == 7 and f[0] == cl and f[1] == 0x70 and f[2:] == part:
                if st == _READY1:
                    self._state = _READY2
                    return b"\x04"
                self._state = _ACTIVE
                self._fd_event(_EV_SELECT)
                if self._arb == _ARB_IDLE and not self._pt():
                    self._arb = _ARB_RF
                return b"\x00"
            return self._error()
        if st == _ACTIVE:
            return self._command(f, n)
        return None

    def _error(self):
        # a frame the state does not accept: back to IDLE (or HALT), no answer
        if self._state != _OFF:
            self._state = _HALT if self._from_halt else _IDLE
        self._sel_pending = False
        if self._arb == _ARB_RF and not self._pt():
            self._arb = _ARB_IDLE
        return None

    def _nak(self, code):
        self.stats["rf_naks"] += 1
        self._error()
        return bytes((code,))

    def _command(self, f, n):
        c = f[0]
        if self._sel_pending:                        # SECTOR_SELECT packet 2
            self._sel_pending = False
            if n == 4 and f[0] == 0:
                self.sector = 0
                return None                          # passive ACK
            return self._nak(NAK_INVALID)            # the 1k part has sector 0 only
        if c == 0x30 and n == 2:
            return self._read(f[1], f[1] + 3, False)
        if c == 0x3A and n == 3:
            return self._read(f[1], f[2], True)
        if c == 0xA2 and n == 6:
            return self._write(f[1], f[2:6])
        if c == 0x60 and n == 1:
            return VERSION
        if c == 0xC2 and n == 2 and f[1] == 0xFF:
            self._sel_pending = True
            return bytes((ACK,))
        if c == 0xA6 and n == 67 and f[1] == 0xF0 and f[2] == 0xFF:
            return self._fast_write(f[3:])
        if c == 0x3C and n == 2 and f[1] == 0:
            return self.signature
        if c == 0x50 and n == 2 and f[1] == 0:       # HLTA
            self._error()
            self._state = _HALT
            self._fd_event(_EV_HALT)
            return None
        return self._error()

    def _page_kind(self, p):
        # 0 invalid, 1 EEPROM, 2 session registers, 3 SRAM
        if p <= 0xE9:
            return 3 if self._mirror_page(p) >= 0 else 1
        if p in (0xEC, 0xED):
            return 2
        if 0xF0 <= p <= 0xFF and self._pt():
            return 3
        return 0

    def _page(self, p):
        k = self._page_kind(p)
        if k == 0:
            return b"\x00\x00\x00\x00"
        if k == 2:
            s = self.session_registers()
            return s[0:4] if p == 0xEC else s[4:8]
        if k == 3:
            i = self._mirror_page(p)
            i = (p - 0xF0) * 4 if i < 0 else i * 4
            return bytes(self.sram[i:i + 4])
        e = self.eeprom
        if p < 3:                                    # UID, BCC0/1 as on the RF side
            hdr = self.uid[0:3] + self._cl1[4:5] + self.uid[3:7] + self._cl2[4:5]
            hdr = hdr + b"\x00" + bytes(e[10:12])
            return hdr[p * 4:p * 4 + 4]
        if p == 0xE5 or p == 0xE6:                   # PWD, PACK read as 00h
            return b"\x00\x00\x00\x00"
        return bytes(e[p * 4:p * 4 + 4])

    def _read(self, start, end, fast):
        if self._page_kind(start) == 0 or (fast and (end < start or self._page_kind(end) == 0)):
            return self._nak(NAK_INVALID)
        kinds = [self._page_kind(p) if p <= 0xFF else 0 for p in range(start, end + 1)]
        pt_sram = 3 in kinds and self._pt()
        mem = 1 in kinds or (3 in kinds and not pt_sram)
        if mem and self._arb == _ARB_I2C:
            return self._nak(NAK_ARBITER)
        if pt_sram and self._sram_owner() != _ARB_RF:
            return self._nak(NAK_ARBITER)
        if mem and self._arb == _ARB_IDLE and not self._pt():
            self._arb = _ARB_RF
        out = bytearray()
        for p in range(start, end + 1):
            out.extend(self._page(p) if p <= 0xFF else b"\x00\x00\x00\x00")
        self.stats["rf_reads"] += 1
        if pt_sram and end >= 0xFF and not self._sess[0] & NC_DIR:
            # I2C -> NFC: NFC read the last page, the SRAM goes back to the I2C host
            self._rf_ready = False
            self._arb = _ARB_IDLE
            self.stats["handovers"] += 1
            self._fd_event(_EV_PT_ON)
        lnb = self._sess[REG_LAST_NDEF_BLOCK]
        if lnb and start <= lnb * 4 + 3 <= end:
            self._ndef_read = True
            self._fd_event(_EV_NDEF_READ)
        return bytes(out)

    def _write(self, p, d):
        k = self._page_kind(p)
        if k == 3:
            return self._sram_write(p, d)
        if k != 1 or p < 2:
            return self._nak(NAK_INVALID)
        if self._arb == _ARB_I2C:
            return self._nak(NAK_ARBITER)
        if self._arb == _ARB_IDLE and not self._pt():
            self._arb = _ARB_RF
        e = self.eeprom
        o = p * 4
        if p == 2:
            e[10] |= d[2]
            e[11] |= d[3]
        elif p == 3:
            if e[10] & 0x08:
                return self._nak(NAK_INVALID)
            for i in range(4):                       # CC bits are OTP from NFC
                e[12 + i] |= d[i]
        elif p <= USER_LAST_PAGE:
            if self._locked(p):
                return self._nak(NAK_INVALID)
            e[o:o + 4] = d
        elif p == 0xE2:
            for i in range(3):
                e[o + i] |= d[i]
        elif p >= 0xE8:
            if e[0xE9 * 4 + 2] & 0x01:               # REG_LOCK_NFC
                return self._nak(NAK_INVALID)
            lock = e[0xE9 * 4 + 2]
            e[o:o + 4] = d
            e[0xE9 * 4 + 2] |= lock
        else:
            e[o:o + 4] = d                           # AUTH0, ACCESS, PWD, PACK, PT_I2C
        self.stats["rf_writes"] += 1
        return bytes((ACK,))

    def _locked(self, p):
        e = self.eeprom
        if p < 16:                                   # static lock bits, pages 04h-0Fh
            return bool((e[10] | (e[11] << 8)) & (1 << p))
        g = (p - 16) >> 4                            # dynamic lock bits, 16 pages each
        return bool(e[0xE2 * 4 + (g >> 3)] & (1 << (g & 7)))

    def _sram_write(self, p, d):
        i = self._mirror_page(p)
        if i >= 0:
            if self._arb == _ARB_I2C:
                return self._nak(NAK_ARBITER)
            self.sram[i * 4:i * 4 + 4] = d
            return bytes((ACK,))
        if not self._sess[0] & NC_DIR or self._sram_owner() != _ARB_RF:
            return self._nak(NAK_ARBITER)
        i = (p - 0xF0) * 4
        self.sram[i:i + 4] = d
        self._arb = _ARB_RF
        self.stats["rf_writes"] += 1
        if p == 0xFF:
            # NFC -> I2C: NFC wrote the last page, the SRAM is handed to the I2C host
            self._i2c_ready = True
            self._arb = _ARB_I2C
            self.stats["handovers"] += 1
            self._fd_event(_EV_PT_ON)
        return bytes((ACK,))

    def _fast_write(self, data):
        if not self._pt() or not self._sess[0] & NC_DIR or self._sram_owner() != _ARB_RF:
            return self._nak(NAK_ARBITER if self._pt() else NAK_INVALID)
        self.sram[0:60] = data[0:60]
        return self._sram_write(0xFF, data[60:64])
