"""NT3H2111 model, I2C side, against the data sheet: memory map, registers, arbitration, SimI2C."""
import errno

import pytest

from hardware.nt3h2111.model import NT3H2111
from hardware.sim.i2c import SimI2C
from tests.hardware import (ADDR, activate, read_block, reg_read, reg_write, release_i2c_lock,
                            rig, write_block)

UID = bytes.fromhex("043c5e0a912b80")


def test_bus_scan_and_missing_device():
    tag, bus, _ = rig()
    assert bus.scan() == [0x55]
    with pytest.raises(OSError) as e:
        bus.writeto(0x56, b"\x00")
    assert e.value.errno == errno.ENODEV
    tag.power_off()
    assert bus.scan() == []
    with pytest.raises(OSError) as e:
        read_block(bus, 1)
    assert e.value.errno == errno.ENODEV


def test_block_0_reads_manufacturer_id_uid_internal_lock_and_cc():
    _, bus, _ = rig()
    b0 = read_block(bus, 0)
    assert b0[0] == 0x04                       # byte 0 always reads as 04h
    assert b0[0:7] == UID
    assert b0[7:10] == b"\x00\x44\x00"
    assert b0[10:12] == b"\x00\x00"           # static lock bytes
    assert b0[12:16] == b"\xe1\x10\x6d\x00"    # CC: NDEF 1.0, 6Dh x 8 = 872 bytes, r/w


def test_factory_user_memory_holds_an_empty_ndef_tlv():
    _, bus, _ = rig()
    assert read_block(bus, 1)[:4] == b"\x03\x00\xfe\x00"


def test_configuration_block_defaults():
    _, bus, _ = rig()
    # NC_REG 01h, LAST_NDEF_BLOCK 00h, SRAM_MIRROR_BLOCK F8h, WDT 0848h, I2C_CLOCK_STR 01h
    assert read_block(bus, 0x3A)[:8] == bytes.fromhex("0100f84808010000")


def test_session_register_defaults_via_rega():
    _, bus, _ = rig()
    assert [reg_read(bus, r) for r in range(8)] == [0x01, 0x00, 0xF8, 0x48, 0x08, 0x01, 0x00, 0x00]


def test_register_write_is_masked():
    _, bus, _ = rig()
    reg_write(bus, 0, 0x0C, 0xFF)               # only FD_ON
    assert reg_read(bus, 0) == 0x0D
    reg_write(bus, 1, 0xFF, 0x37)
    assert reg_read(bus, 1) == 0x37
    reg_write(bus, 5, 0xFF, 0x00)               # I2C_CLOCK_STR is read-only in the session
    assert reg_read(bus, 5) == 0x01
    with pytest.raises(OSError) as e:
        reg_write(bus, 8, 0xFF, 0x00)
    assert e.value.errno == errno.EIO


def test_register_read_of_more_than_one_byte_pads_with_ff():
    _, bus, _ = rig()
    bus.writeto(ADDR, b"\xfe\x02", False)
    assert bus.readfrom(ADDR, 3) == b"\xf8\xff\xff"


def test_pass_through_cannot_be_enabled_without_a_field():
    tag, bus, _ = rig()
    reg_write(bus, 0, 0x40, 0x40)
    assert reg_read(bus, 0) & 0x40 == 0
    tag.rf_field(True)
    reg_write(bus, 0, 0x40, 0x40)
    assert reg_read(bus, 0) & 0x40
    tag.rf_field(False)                         # and is switched off with the field
    assert reg_read(bus, 0) & 0x40 == 0


def test_user_block_write_read_roundtrip_and_short_or_long_writes():
    tag, bus, clock = rig()
    write_block(bus, 5, bytes(range(16)))
    clock.advance(4)
    assert read_block(bus, 5) == bytes(range(16))
    bus.writeto(ADDR, b"\x06" + b"\xaa" * 8)     # fewer than 16 bytes: nothing is written
    assert read_block(bus, 6) == bytes(16)
    assert tag.stats["i2c_short_writes"] == 1
    with pytest.raises(OSError) as e:
        bus.writeto(ADDR, b"\x06" + b"\xaa" * 17)
    assert e.value.errno == errno.EIO


@pytest.mark.parametrize("block", [0x3B, 0x40, 0xF7, 0xFC, 0xFD, 0xFF])
def test_blocks_outside_the_map_are_nacked(block):
    _, bus, _ = rig()
    with pytest.raises(OSError) as e:
        bus.writeto(ADDR, bytes((block,)), False)
    assert e.value.errno == errno.EIO


def test_eeprom_write_busy_nacks_until_the_write_time_has_passed():
    _, bus, clock = rig(write_ms=4)
    write_block(bus, 2, b"\x11" * 16)
    assert reg_read(bus, 6) & 0x02              # EEPROM_WR_BUSY
    with pytest.raises(OSError):
        write_block(bus, 3, b"\x22" * 16)
    with pytest.raises(OSError):
        read_block(bus, 2)
    clock.advance(4)
    assert reg_read(bus, 6) & 0x02 == 0
    write_block(bus, 3, b"\x22" * 16)
    clock.advance(4)
    assert read_block(bus, 2) == b"\x11" * 16
    # SRAM is not EEPROM: no busy time
    write_block(bus, 0xF8, b"\x33" * 16)
    write_block(bus, 0xF9, b"\x44" * 16)
    assert read_block(bus, 0xF8) == b"\x33" * 16


def test_i2c_lock_is_taken_on_memory_access_and_freed_by_host_or_watchdog():
    _, bus, clock = rig()
    assert reg_read(bus, 6) & 0x40 == 0         # register access does not lock
    read_block(bus, 1)
    assert reg_read(bus, 6) & 0x40              # I2C_LOCKED
    release_i2c_lock(bus)
    assert reg_read(bus, 6) & 0x40 == 0
    read_block(bus, 1)
    clock.advance(19)
    assert reg_read(bus, 6) & 0x40
    clock.advance(1)                            # 0848h x 9.43 us = 20 ms
    assert reg_read(bus, 6) & 0x40 == 0
    reg_write(bus, 4, 0xFF, 0x10)               # WDT 1048h: ~40 ms
    read_block(bus, 1)
    clock.advance(30)
    assert reg_read(bus, 6) & 0x40


def test_rf_lock_nacks_memory_but_not_registers():
    tag, bus, _ = rig()
    tag.rf_field(True)
    activate(tag)
    ns = reg_read(bus, 6)
    assert ns & 0x21 == 0x21                    # RF_LOCKED, RF_FIELD_PRESENT
    with pytest.raises(OSError) as e:
        read_block(bus, 1)
    assert e.value.errno == errno.EIO
    assert tag.rf_exchange(b"\x50\x00") is None  # HLTA releases the memory
    assert reg_read(bus, 6) & 0x20 == 0
    read_block(bus, 1)


def test_block_0_write_sets_address_at_next_power_on_and_keeps_uid():
    tag, bus, clock = rig()
    b0 = bytearray(read_block(bus, 0))
    b0[0] = 0x2A << 1
    b0[1:7] = b"\xff" * 6
    b0[12:16] = b"\xe1\x10\x6d\x0f"
    write_block(bus, 0, b0)
    clock.advance(4)
    assert bus.scan() == [0x55]
    tag.power_off()
    tag.power_on()
    assert bus.scan() == [0x2A]
    b0 = bus.writeto(0x2A, b"\x00", False) and bus.readfrom(0x2A, 16)
    assert b0[0:7] == UID and b0[12:16] == b"\xe1\x10\x6d\x0f"


def test_configuration_reaches_the_session_registers_at_power_on_and_reg_lock():
    tag, bus, clock = rig()
    cfg = bytearray(read_block(bus, 0x3A))
    cfg[0] = 0x29                               # FD_OFF 10b, FD_ON 10b, TRANSFER_DIR 1
    cfg[1] = 0x37
    write_block(bus, 0x3A, cfg)
    clock.advance(4)
    assert reg_read(bus, 0) == 0x01             # session unchanged until power-on
    tag.power_off()
    tag.power_on()
    assert reg_read(bus, 0) == 0x29 and reg_read(bus, 1) == 0x37
    cfg[6] = 0x02                               # REG_LOCK_I2C
    write_block(bus, 0x3A, cfg)
    clock.advance(4)
    cfg[1] = 0x10
    with pytest.raises(OSError):
        write_block(bus, 0x3A, cfg)
    assert read_block(bus, 0x3A)[1] == 0x37


def test_power_cycle_clears_sram_and_keeps_eeprom():
    tag, bus, clock = rig()
    write_block(bus, 0xF8, b"\x5a" * 16)
    write_block(bus, 0x10, b"\xa5" * 16)
    clock.advance(4)
    tag.power_off()
    tag.power_on()
    assert read_block(bus, 0xF8) == bytes(16)
    assert read_block(bus, 0x10) == b"\xa5" * 16


def test_eeprom_image_restores_into_a_new_model():
    tag, bus, clock = rig()
    write_block(bus, 0x20, b"\x77" * 16)
    again = NT3H2111(eeprom=tag.eeprom)
    b2 = SimI2C()
    b2.attach(again)
    assert read_block(b2, 0x20) == b"\x77" * 16


def test_sim_i2c_mimics_esp32_nack_errno_and_traces():
    tag = NT3H2111()
    bus = SimI2C(nack_errno=errno.ENODEV)
    bus.attach(tag)
    bus.trace = []
    with pytest.raises(OSError) as e:
        bus.writeto(ADDR, b"\xfc")
    assert e.value.errno == errno.ENODEV
    buf = bytearray(16)
    bus.writeto(ADDR, b"\x00", False)
    bus.readfrom_into(ADDR, memoryview(buf))
    assert buf[0] == 0x04
    assert [t[0] for t in bus.trace] == ["w", "w", "r"]
    assert bus.writevto(ADDR, (b"\xfe", b"\x00")) == 2
