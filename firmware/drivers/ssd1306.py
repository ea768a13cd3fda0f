# SSD1306 128x64 OLED on I2C, drawn through MicroPython's built-in framebuf (MONO_VLSB is the
# chip's own RAM layout: one byte = 8 vertical pixels of one page column).
import framebuf

_SET_CONTRAST = 0x81
_DISPLAY_OFF = 0xAE
_DISPLAY_ON = 0xAF
_SET_MEM_MODE = 0x20
_SET_COL_ADDR = 0x21
_SET_PAGE_ADDR = 0x22
_CHARGE_PUMP = 0x8D

_INIT = (
    _DISPLAY_OFF,
    _SET_MEM_MODE, 0x00,          # horizontal addressing
    0xA8, 63,                     # multiplex ratio: 64 rows
    0xD3, 0x00,                   # display offset
    0x40,                         # start line 0
    0xA1,                         # segment remap: column 127 -> SEG0
    0xC8,                         # COM scan from COM[N-1]
    0xDA, 0x12,                   # COM pins: alternative, no remap
    _SET_CONTRAST, 0x7F,
    0xD9, 0xF1,                   # pre-charge
    0xDB, 0x30,                   # VCOMH deselect
    0xA4,                         # output follows RAM
    0xA6,                         # normal (not inverted)
    0xD5, 0x80,                   # clock divide
    _CHARGE_PUMP, 0x14,           # internal charge pump on
    _DISPLAY_ON,
)


class SSD1306(framebuf.FrameBuffer):
    """The display as a framebuf: draw with text()/fill()/pixel(), then show()."""

    def __init__(self, i2c, addr=0x3C, width=128, height=64):
        self.i2c = i2c
        self.addr = addr
        self.width = width
        self.height = height
        self.pages = height // 8
        self.buffer = bytearray(self.pages * width)
        self._cmd = bytearray(2)          # control byte 0x00 + one command: no allocation
        self._data = (b"\x40", self.buffer)   # control byte 0x40 + the RAM, one transaction
        super().__init__(self.buffer, width, height, framebuf.MONO_VLSB)
        for c in _INIT:
            self.command(c)
        self.fill(0)
        self.show()

    def command(self, c):
        # control byte Co=0, D/C#=0: the next byte is a command
        self._cmd[1] = c
        self.i2c.writeto(self.addr, self._cmd)

    def show(self):
        self.command(_SET_COL_ADDR)
        self.command(0)
        self.command(self.width - 1)
        self.command(_SET_PAGE_ADDR)
        self.command(0)
        self.command(self.pages - 1)
        # control byte Co=0, D/C#=1: everything after it is display RAM data
        self.i2c.writevto(self.addr, self._data)

    def power(self, on):
        self.command(_DISPLAY_ON if on else _DISPLAY_OFF)

    def contrast(self, value):
        self.command(_SET_CONTRAST)
        self.command(value & 0xFF)
