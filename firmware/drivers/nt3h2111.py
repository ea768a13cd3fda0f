"""NXP NT3H2111 (NTAG I2C plus, 1k) over I2C: block memory, session registers, SRAM pass-through.

Follows the NT3H2111_2211 product data sheet (NTAG I2C plus, Rev. 3.5), sections named:
- "Memory organization" (I2C view): 16-byte blocks. Block 0x00 holds the I2C address byte,
  serial number, static lock bytes and the Capability Container; user memory is blocks
  0x01-0x37 plus the first 8 bytes of block 0x38 (888 bytes = NFC pages 0x04-0xE1); SRAM is
  blocks 0xF8-0xFB (64 bytes, NFC pages 0xF0-0xFF in pass-through mode); configuration registers
  at block 0x3A; session registers at block 0xFE.
- "I2C protocol": read = write [MEMA], then read 16 bytes; write = [MEMA + 16 bytes]. Register
  read = write [0xFE, REGA], read 1 byte; register write = [0xFE, REGA, MASK, REGDAT] (only the
  bits set in MASK change).
- "Session registers": NC_REG (REGA 0) and NS_REG (REGA 6), bits below.
- "EEPROM write": a block write takes ~4 ms; NS_REG.EEPROM_WR_BUSY is set meanwhile, and the
  chip NAKs its address; EEPROM_WR_ERR reports a failed write.
- "Pass-through mode": PTHRU_ON_OFF and TRANSFER_DIR in NC_REG. NFC->I2C: the reader writes the
  SRAM (page 0xFF last), SRAM_I2C_READY rises; reading block 0xFB over I2C clears it. I2C->NFC:
  writing block 0xFB over I2C sets SRAM_RF_READY; the reader reading page 0xFF clears it.
- "Field detection": FD_ON / FD_OFF in NC_REG choose which events pull the FD pin low / release it.

The register map below is the chip's whole one, for its I2C side. What travels through the SRAM
(the check-in windows) and the RF side's view of the same bits are xinka/sram.py's
(docs/protocol.md "SRAM exchange"); the driver moves 64 bytes and knows nothing of windows.

The driver allocates its buffers once; block and register calls allocate nothing, so they can run
with the heap locked.
"""
from xinka.compat import const, ticks_diff, ticks_ms

ADDR = const(0x55)              # default 7-bit I2C address
BLOCK = const(16)

_USER_FIRST = const(0x01)       # first user-memory block
_USER_LAST = const(0x38)        # last block with user memory (its first 8 bytes)
USER_BYTES = const(888)
_CONFIG = const(0x3A)
_SRAM_FIRST_BLOCK = const(0xF8)  # I2C blocks of the SRAM (NFC pages F0h-FFh)
_SRAM_LAST_BLOCK = const(0xFB)
SRAM_BYTES = const(64)
_SESSION = const(0xFE)

# session register addresses (REGA)
NC_REG = const(0)
LAST_NDEF_BLOCK = const(1)
SRAM_MIRROR_BLOCK = const(2)
WDT_LS = const(3)
WDT_MS = const(4)
I2C_CLOCK_STR = const(5)
NS_REG = const(6)

# NC_REG bits
NC_I2C_RST_ON_OFF = const(0x80)
NC_PTHRU_ON_OFF = const(0x40)
NC_FD_OFF_MASK = const(0x30)
NC_FD_ON_MASK = const(0x0C)
NC_SRAM_MIRROR = const(0x02)
NC_TRANSFER_DIR = const(0x01)   # 1: NFC -> I2C, 0: I2C -> NFC
FD_OFF_FIELD = const(0x00)      # FD released when the field goes off
FD_ON_FIELD = const(0x00)       # FD pulled low when the field comes on

# NS_REG bits
NS_NDEF_DATA_READ = const(0x80)
NS_I2C_LOCKED = const(0x40)
NS_RF_LOCKED = const(0x20)
NS_SRAM_I2C_READY = const(0x10)
NS_SRAM_RF_READY = const(0x08)
NS_EEPROM_WR_ERR = const(0x04)
NS_EEPROM_WR_BUSY = const(0x02)
NS_RF_FIELD_PRESENT = const(0x01)

_WRITE_MS = const(20)           # EEPROM write time limit (typ. 4 ms) before it counts as stuck


class NT3H2111Error(Exception):
    """Tag errors; `reason` is one of: bus (I2C transfer failed), range (address outside the
    region), write_busy (EEPROM write never finished), write_error (EEPROM_WR_ERR), locked
    (SRAM or memory held by the RF side)."""

    def __init__(self, reason, msg=""):
        super().__init__("%s: %s" % (reason, msg) if msg else reason)
        self.reason = reason


class NT3H2111:
    """The tag on I2C bus `i2c` (machine.I2C-like: writeto, readfrom_into) at `addr`."""

    def __init__(self, i2c, addr=ADDR):
        self.i2c = i2c
        self.addr = addr
        self._wbuf = bytearray(1 + BLOCK)      # MEMA + 16 bytes
        self._mema = bytearray(1)
        self._rbuf = bytearray(BLOCK)
        self._rega = bytearray(2)              # [0xFE, REGA]
        self._regw = bytearray(4)              # [0xFE, REGA, MASK, REGDAT]
        self._one = bytearray(1)
        self._merge = bytearray(BLOCK)

    # --- raw transfers ------------------------------------------------------------------------

    def _tx(self, buf):
        try:
            self.i2c.writeto(self.addr, buf)
        except OSError:
            raise NT3H2111Error("bus", "I2C write NAK or error")

    def _rx(self, buf):
        try:
            self.i2c.readfrom_into(self.addr, buf)
        except OSError:
            raise NT3H2111Error("bus", "I2C read error")

    def read_block(self, block, out=None, pos=0):
        """16 bytes of block `block`; copied into out[pos:pos + 16] when `out` is given.
        Returns the driver's own 16-byte buffer (valid until the next call)."""
        if not 0 <= block <= 0xFF:
            raise NT3H2111Error("range", "block out of range")
        buf = self._rbuf
        self._mema[0] = block
        self._tx(self._mema)
        self._rx(buf)
        if out is not None:
            i = 0
            while i < BLOCK:
                out[pos + i] = buf[i]
                i += 1
        return buf

    def write_block(self, block, data, pos=0, wait=True):
        """Write data[pos:pos + 16] to block `block`; for EEPROM blocks wait for the write."""
        if not 0 <= block <= 0xFF:
            raise NT3H2111Error("range", "block out of range")
        w = self._wbuf
        w[0] = block
        i = 0
        while i < BLOCK:
            w[1 + i] = data[pos + i]
            i += 1
        self._tx(w)
        if wait and block < _SRAM_FIRST_BLOCK:
            self.wait_write()

    def wait_write(self):
        """Poll NS_REG until EEPROM_WR_BUSY clears; write_error if EEPROM_WR_ERR is set.
        The chip is asked once more after the time limit: a pause of this task (an interrupt,
        the scheduler) longer than the limit is not a stuck write."""
        t0 = ticks_ms()
        while True:
            late = ticks_diff(ticks_ms(), t0) > _WRITE_MS
            try:
                ns = self.read_reg(NS_REG)
            except NT3H2111Error:   # the chip NAKs its address while it programs
                ns = NS_EEPROM_WR_BUSY
            if ns & NS_EEPROM_WR_ERR:
                self.write_reg(NS_REG, NS_EEPROM_WR_ERR, 0)
                raise NT3H2111Error("write_error", "EEPROM_WR_ERR")
            if not ns & NS_EEPROM_WR_BUSY:
                return
            if late:
                raise NT3H2111Error("write_busy", "EEPROM write did not finish")

    # --- session registers --------------------------------------------------------------------

    def read_reg(self, rega):
        """One session register byte."""
        r = self._rega
        r[0] = _SESSION
        r[1] = rega
        self._tx(r)
        self._rx(self._one)
        return self._one[0]

    def write_reg(self, rega, mask, value):
        """Change the bits of session register `rega` selected by `mask` to those of `value`."""
        w = self._regw
        w[0] = _SESSION
        w[1] = rega
        w[2] = mask
        w[3] = value
        self._tx(w)

    def release(self):
        """Clear NS_REG.I2C_LOCKED: the I2C host is done, the RF side may access the memory."""
        self.write_reg(NS_REG, NS_I2C_LOCKED, 0)

    def status(self):
        """NS_REG."""
        return self.read_reg(NS_REG)

    def field_present(self):
        return bool(self.read_reg(NS_REG) & NS_RF_FIELD_PRESENT)

    def configure(self, fd_on=FD_ON_FIELD, fd_off=FD_OFF_FIELD):
        """Field-detect events (NC_REG FD_ON / FD_OFF, already shifted into place)."""
        self.write_reg(NC_REG, NC_FD_ON_MASK | NC_FD_OFF_MASK, fd_on | fd_off)

    def set_last_ndef_block(self, block):
        """NDEF_DATA_READ rises once the reader has read this block (I2C block address)."""
        self.write_reg(LAST_NDEF_BLOCK, 0xFF, block)

    # --- user memory --------------------------------------------------------------------------

    def read_user_memory(self, offset, out):
        """Fill `out` from user memory at `offset` (any alignment)."""
        n = len(out)
        if offset < 0 or offset + n > USER_BYTES:
            raise NT3H2111Error("range", "outside user memory")
        i = 0
        while i < n:
            pos = offset + i
            blk = self.read_block(_USER_FIRST + pos // BLOCK)
            j = pos % BLOCK
            while j < BLOCK and i < n:
                out[i] = blk[j]
                i += 1
                j += 1
        return out

    def write_user_memory(self, offset, data, length=None, first=None):
        """Write data[:length] to user memory at block-aligned `offset`, block by block.

        Each EEPROM block write is waited for (NS_REG.EEPROM_WR_BUSY). The tail of a partial
        last block is kept as it was (block 0x38 also holds lock and configuration bytes).
        `first`: a 16-byte block to write in place of the first block (used to write an empty
        NDEF TLV first, and the real header last).
        """
        n = len(data) if length is None else length
        if offset % BLOCK:
            raise NT3H2111Error("range", "offset must be block-aligned")
        if offset < 0 or offset + n > USER_BYTES:
            raise NT3H2111Error("range", "outside user memory")
        blk = _USER_FIRST + offset // BLOCK
        i = 0
        m = self._merge
        while i < n:
            k = n - i
            if k >= BLOCK:
                if i == 0 and first is not None:
                    self.write_block(blk, first)
                else:
                    self.write_block(blk, data, i)
            else:
                self.read_block(blk, m)
                j = 0
                while j < k:
                    m[j] = data[i + j]
                    j += 1
                self.write_block(blk, m)
            i += BLOCK
            blk += 1
        return blk - 1

    # --- SRAM and pass-through ----------------------------------------------------------------

    def pass_through(self, on, nfc_to_i2c=True):
        """Pass-through on/off and its direction. The direction is changed with pass-through off
        first, then switched on again, as the data sheet's flow asks."""
        want = (NC_PTHRU_ON_OFF if on else 0) | (NC_TRANSFER_DIR if nfc_to_i2c else 0)
        nc = self.read_reg(NC_REG)
        if nc & (NC_PTHRU_ON_OFF | NC_TRANSFER_DIR) == want:
            return
        self.write_reg(NC_REG, NC_PTHRU_ON_OFF, 0)
        self.write_reg(NC_REG, NC_TRANSFER_DIR, want & NC_TRANSFER_DIR)
        if on:
            self.write_reg(NC_REG, NC_PTHRU_ON_OFF, NC_PTHRU_ON_OFF)

    def read_sram(self, out):
        """The 64 SRAM bytes into `out` (reading block 0xFB last clears SRAM_I2C_READY)."""
        b = 0
        while b < 4:
            self.read_block(_SRAM_FIRST_BLOCK + b, out, b * BLOCK)
            b += 1
        return out

    def write_sram(self, data):
        """64 bytes into the SRAM (writing block 0xFB last sets SRAM_RF_READY)."""
        b = 0
        while b < 4:
            self.write_block(_SRAM_FIRST_BLOCK + b, data, b * BLOCK, False)
            b += 1
