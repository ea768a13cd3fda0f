"""A model of the SSD1306 OLED controller as an I2C target: control byte (Co, D/C#), the
fundamental/addressing commands and the 8 pages x 128 columns of display RAM, so a test reads
what the firmware drew.

MicroPython-compatible (a simulated terminal runs it on its I2C bus, hardware/sim/i2c.py):
`i2c_addr`, `i2c_write(data)`, `i2c_read(n)` are the bus side; `write(data)` is one write
transaction for a test that feeds the bytes itself."""

WIDTH = 128
PAGES = 8

# commands followed by N argument bytes (datasheet section 9)
_ARGS = {0x81: 1, 0x8D: 1, 0xA8: 1, 0xD3: 1, 0xD5: 1, 0xD9: 1, 0xDA: 1, 0xDB: 1,
         0x20: 1, 0x21: 2, 0x22: 2, 0x26: 6, 0x27: 6, 0x29: 5, 0x2A: 5, 0xA3: 2}


class SSD1306:
    """I2C target at 0x3C (or 0x3D with SA0 high)."""

    def __init__(self, address: int = 0x3C) -> None:
        self.address = address
        self.ram = [bytearray(WIDTH) for _ in range(PAGES)]
        self.on = False
        self.contrast = 0x7F
        self.mode = 2  # page addressing after reset
        self.col_start, self.col_end = 0, WIDTH - 1
        self.page_start, self.page_end = 0, PAGES - 1
        self.col, self.page = 0, 0
        self._pending = []
        self.i2c_addr = address

    # -- I2C -------------------------------------------------------------------------------
    def i2c_write(self, data):
        """One transaction from the simulated bus (hardware/sim/i2c.py)."""
        if data:
            self.write(data)

    def i2c_read(self, n):
        """The status byte (D7..D0 of the datasheet's "read status"): D6 set when the display
        is off; the model reads no display RAM back (a real SSD1306 on I2C cannot)."""
        return bytes(((0x00 if self.on else 0x40),) * n)

    def write(self, data: bytes) -> None:
        """One I2C write transaction (after the address byte)."""
        i = 0
        while i < len(data):
            control = data[i]
            i += 1
            co, dc = control & 0x80, control & 0x40
            if control & 0x3F:
                raise ValueError("bad SSD1306 control byte 0x%02x" % control)
            if co:  # one byte follows, then another control byte
                if i < len(data):
                    self._data(data[i]) if dc else self._command(data[i])
                    i += 1
                continue
            for b in data[i:]:
                self._data(b) if dc else self._command(b)
            return

    # -- commands --------------------------------------------------------------------------
    def _command(self, b: int) -> None:
        if self._pending:
            self._pending.append(b)
            if len(self._pending) - 1 == _ARGS[self._pending[0]]:
                self._run(self._pending)
                self._pending = []
            return
        if b in _ARGS:
            self._pending = [b]
        elif b == 0xAE:
            self.on = False
        elif b == 0xAF:
            self.on = True
        elif self.mode == 2 and 0xB0 <= b <= 0xB7:
            self.page = b & 0x07
        elif self.mode == 2 and b <= 0x0F:
            self.col = (self.col & 0xF0) | b
        elif self.mode == 2 and 0x10 <= b <= 0x1F:
            self.col = (self.col & 0x0F) | ((b & 0x0F) << 4)
        # other one-byte commands (remap, scan, invert, start line...) do not touch RAM

    def _run(self, cmd):
        op = cmd[0]
        if op == 0x81:
            self.contrast = cmd[1]
        elif op == 0x20:
            self.mode = cmd[1] & 0x03
        elif op == 0x21:
            self.col_start, self.col_end = cmd[1] & 0x7F, cmd[2] & 0x7F
            self.col = self.col_start
        elif op == 0x22:
            self.page_start, self.page_end = cmd[1] & 0x07, cmd[2] & 0x07
            self.page = self.page_start

    # -- display RAM -----------------------------------------------------------------------
    def _data(self, b: int) -> None:
        self.ram[self.page][self.col] = b
        if self.mode == 2:  # page mode: column wraps within the page
            self.col = 0 if self.col >= WIDTH - 1 else self.col + 1
        elif self.mode == 0:  # horizontal
            if self.col >= self.col_end:
                self.col = self.col_start
                self.page = self.page_start if self.page >= self.page_end else self.page + 1
            else:
                self.col += 1
        else:  # vertical
            if self.page >= self.page_end:
                self.page = self.page_start
                self.col = self.col_start if self.col >= self.col_end else self.col + 1
            else:
                self.page += 1

    def pixel(self, x: int, y: int) -> int:
        return (self.ram[y // 8][x] >> (y % 8)) & 1

    def read_text(self, font: dict[bytes, str], row: int) -> str:
        """Decode 8x8 text drawn at y = 8*row from the RAM with `font` (glyph bytes -> char)."""
        page = self.ram[row]
        out = []
        for x in range(0, WIDTH, 8):
            out.append(font.get(bytes(page[x:x + 8]), "?"))
        return "".join(out).rstrip()
