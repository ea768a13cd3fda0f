"""NT3H2111 model, RF side, against the data sheet: anticollision, Type 2 commands, ACK/NAK,
arbitration with the I2C side, field-detect pin, and the pass-through handover both ways."""
import pytest

from tests.hardware import (activate, read_block, reg_read, reg_write, release_i2c_lock, rig,
                            write_block, write_user_memory)

UID = bytes.fromhex("043c5e0a912b80")
ACK = b"\x0a"
NAK = b"\x00"
NAK_ARBITER = b"\x03"


def active(**kw):
    tag, bus, clock = rig(**kw)
    tag.rf_field(True)
    assert activate(tag) == b"\x00"
    return tag, bus, clock


def test_anticollision_of_a_7_byte_nxp_uid():
    tag, _, _ = rig()
    assert tag.rf_exchange(b"\x26") is None          # no field, no answer
    tag.rf_field(True)
    assert tag.rf_exchange(b"\x26") == b"\x44\x00"   # ATQA 0044h
    cl1 = tag.rf_exchange(b"\x93\x20")
    assert cl1 == b"\x88" + UID[0:3] + bytes((0x88 ^ UID[0] ^ UID[1] ^ UID[2],))
    assert tag.rf_exchange(b"\x93\x70" + cl1) == b"\x04"   # SAK: cascade
    cl2 = tag.rf_exchange(b"\x95\x20")
    assert cl2 == UID[3:7] + bytes((UID[3] ^ UID[4] ^ UID[5] ^ UID[6],))
    assert tag.rf_exchange(b"\x95\x70" + cl2) == b"\x00"   # SAK: complete, Type 2
    assert tag.rf_state == "ACTIVE"


def test_wrong_select_or_repeated_reqa_return_to_idle_silently():
    tag, _, _ = rig()
    tag.rf_field(True)
    tag.rf_exchange(b"\x26")
    assert tag.rf_exchange(b"\x93\x70\x88\x00\x00\x00\x88") is None
    assert tag.rf_state == "IDLE"
    activate(tag)
    assert tag.rf_exchange(b"\x26") is None
    assert tag.rf_state == "IDLE"


def test_halt_then_only_wupa_wakes():
    tag, _, _ = active()
    assert tag.rf_exchange(b"\x50\x00") is None
    assert tag.rf_state == "HALT"
    assert tag.rf_exchange(b"\x26") is None
    assert tag.rf_exchange(b"\x52") == b"\x44\x00"


def test_get_version_is_ntag_i2c_plus_1k():
    tag, _, _ = active()
    assert tag.rf_exchange(b"\x60") == bytes.fromhex("0004040502021303")


def test_nfcpy_has_no_version_map_entry_for_it():
    tt2_nxp = pytest.importorskip("nfc.tag.tt2_nxp")
    assert bytes.fromhex("0004040502021303") not in tt2_nxp.VERSION_MAP


def test_read_page_0_shows_uid_bcc_lock_and_cc():
    tag, _, _ = active()
    data = tag.rf_exchange(b"\x30\x00")
    assert data[0:3] == UID[0:3] and data[4:8] == UID[3:7]
    assert data[3] == 0x88 ^ UID[0] ^ UID[1] ^ UID[2]
    assert data[8] == UID[3] ^ UID[4] ^ UID[5] ^ UID[6]
    assert data[12:16] == b"\xe1\x10\x6d\x00"


def test_read_into_invalid_pages_returns_zeros_and_invalid_start_naks():
    tag, _, _ = active()
    data = tag.rf_exchange(b"\x30\xe8")                    # E8h-E9h config, EAh-EBh invalid
    assert data == bytes.fromhex("0100f848080100000000000000000000")
    data = tag.rf_exchange(b"\x30\xe4")                    # PWD (E5h) reads as 00h
    assert data[4:8] == b"\x00\x00\x00\x00"
    for page in (0xEA, 0xEE, 0xF0, 0xFF):                  # F0h: no SRAM without pass-through
        assert tag.rf_exchange(bytes((0x30, page))) == NAK
        assert tag.rf_state == "IDLE"                      # a NAK sends the tag back to IDLE
        activate(tag)


def test_session_registers_at_ech():
    tag, bus, _ = active()
    data = tag.rf_exchange(b"\x30\xec")
    assert data[0:8] == bytes.fromhex("0100f84808012100")  # NS_REG: RF_LOCKED, FIELD
    assert data[8:16] == bytes(8)


def test_fast_read_ranges():
    tag, _, _ = active()
    assert tag.rf_exchange(b"\x3a\x04\x07") == tag.rf_exchange(b"\x30\x04")
    assert len(tag.rf_exchange(b"\x3a\x00\xe1")) == 0xE2 * 4
    assert tag.rf_exchange(b"\x3a\x08\x04") == NAK
    activate(tag)
    assert tag.rf_exchange(b"\x3a\xe0\xeb") == NAK          # end page invalid


def test_write_user_memory_ack_and_readback():
    tag, _, _ = active()
    assert tag.rf_exchange(b"\xa2\x04\x03\x05\xd1\x01") == ACK
    assert tag.rf_exchange(b"\x30\x04")[:4] == b"\x03\x05\xd1\x01"
    assert tag.rf_exchange(b"\xa2\xe1\x01\x02\x03\x04") == ACK   # last user page


@pytest.mark.parametrize("page", [0x00, 0x01, 0xEA, 0xEC, 0xF0, 0xFF])
def test_write_outside_writable_memory_naks(page):
    tag, _, _ = active()
    assert tag.rf_exchange(bytes((0xA2, page)) + b"\x00\x00\x00\x00") == NAK


def test_cc_is_otp_and_lock_bits_lock():
    tag, _, _ = active()
    assert tag.rf_exchange(b"\xa2\x03\x00\x00\x00\x0f") == ACK
    assert tag.rf_exchange(b"\x30\x03")[:4] == b"\xe1\x10\x6d\x0f"   # bits only set
    assert tag.rf_exchange(b"\xa2\x02\x00\x00\x10\x00") == ACK       # lock page 4
    assert tag.rf_exchange(b"\xa2\x04\x01\x02\x03\x04") == NAK
    activate(tag)
    assert tag.rf_exchange(b"\xa2\xe2\x01\x00\x00\x00") == ACK       # dynamic: pages 16-31
    assert tag.rf_exchange(b"\xa2\x10\x01\x02\x03\x04") == NAK
    activate(tag)
    assert tag.rf_exchange(b"\xa2\x20\x01\x02\x03\x04") == ACK


def test_sector_select_is_passively_acked_and_only_sector_0_exists():
    tag, _, _ = active()
    assert tag.rf_exchange(b"\xc2\xff") == ACK
    assert tag.rf_exchange(b"\x00\x00\x00\x00") is None     # passive ACK
    assert tag.rf_state == "ACTIVE"
    assert tag.rf_exchange(b"\xc2\xff") == ACK
    assert tag.rf_exchange(b"\x03\x00\x00\x00") == NAK


def test_read_sig_returns_32_bytes():
    tag, _, _ = active()
    assert len(tag.rf_exchange(b"\x3c\x00")) == 32


@pytest.mark.parametrize("frame", [b"\x30", b"\xa2\x04\x01", b"\x3a\x04", b"\x1a\x00", b"\xff",
                                   b"\x60\x00", b"\xc2\x00", b"\x3c\x01"])
def test_truncated_or_unknown_commands_get_silence_and_idle(frame):
    tag, _, _ = active()
    assert tag.rf_exchange(frame) is None
    assert tag.rf_state == "IDLE"
    activate(tag)
    assert tag.rf_exchange(b"\x30\x03")[:4] == b"\xe1\x10\x6d\x00"


def test_i2c_lock_makes_rf_memory_commands_nak_but_session_registers_readable():
    tag, bus, _ = rig()
    read_block(bus, 1)                           # I2C_LOCKED
    tag.rf_field(True)
    activate(tag)
    assert tag.rf_exchange(b"\x30\x04") == NAK_ARBITER
    activate(tag)
    assert tag.rf_exchange(b"\x30\xec")[6] & 0x40
    assert tag.rf_exchange(b"\xa2\x04\x00\x00\x00\x00") == NAK_ARBITER
    release_i2c_lock(bus)
    activate(tag)
    assert tag.rf_exchange(b"\x30\x04")[:4] == b"\x03\x00\xfe\x00"


def test_field_off_releases_rf_lock_and_resets_state():
    tag, bus, _ = active()
    assert reg_read(bus, 6) & 0x21 == 0x21
    tag.rf_field(False)
    assert reg_read(bus, 6) == 0
    assert tag.rf_state == "OFF"
    write_block(bus, 4, bytes(16))


def fd_rig(nc):
    tag, bus, clock = rig()
    levels = []
    tag.on_fd(levels.append)
    reg_write(bus, 0, 0xFF, nc)
    return tag, bus, clock, levels


def test_fd_field_on_off_default():
    tag, _, _, levels = fd_rig(0x01)
    assert tag.fd_pin() == 1
    tag.rf_field(True)
    assert tag.fd_pin() == 0
    tag.rf_field(False)
    assert levels == [0, 1]


def test_fd_on_first_start_of_communication():
    tag, _, _, levels = fd_rig(0x05)             # FD_ON 01b
    tag.rf_field(True)
    assert tag.fd_pin() == 1
    tag.rf_exchange(b"\x26")
    assert tag.fd_pin() == 0


def test_fd_on_selection_off_on_halt():
    tag, _, _, levels = fd_rig(0x19)             # FD_OFF 01b, FD_ON 10b
    tag.rf_field(True)
    tag.rf_exchange(b"\x26")
    assert tag.fd_pin() == 1
    tag.rf_exchange(b"\x52")
    activate(tag)
    assert tag.fd_pin() == 0
    tag.rf_exchange(b"\x50\x00")
    assert levels == [0, 1]


def test_fd_off_when_last_ndef_block_read_sets_ndef_data_read():
    tag, bus, clock, levels = fd_rig(0x29)       # FD_OFF 10b, FD_ON 10b
    write_user_memory(bus, clock, bytes(range(48)))
    reg_write(bus, 1, 0xFF, 0x03)                # LAST_NDEF_BLOCK: block 03h = pages 0Ch-0Fh
    tag.rf_field(True)
    activate(tag)
    assert tag.fd_pin() == 0
    tag.rf_exchange(b"\x30\x04")
    tag.rf_exchange(b"\x30\x08")
    assert tag.fd_pin() == 0
    tag.rf_exchange(b"\x30\x0c")                 # covers page 0Fh
    assert tag.fd_pin() == 1
    assert tag.rf_state == "ACTIVE"
    tag.rf_exchange(b"\x50\x00")
    assert reg_read(bus, 6) & 0x80               # NDEF_DATA_READ, cleared by reading it
    assert reg_read(bus, 6) & 0x80 == 0


def pass_through(direction):
    # field on, tag selected, pass-through on with FD_ON = FD_OFF = 11b
    tag, bus, clock = rig()
    levels = []
    tag.on_fd(levels.append)
    reg_write(bus, 0, 0xFF, 0x3C | direction)
    tag.rf_field(True)
    activate(tag)
    reg_write(bus, 0, 0x40, 0x40)
    assert reg_read(bus, 0) == 0x7C | direction
    return tag, bus, levels


def test_pass_through_nfc_to_i2c_handover():
    tag, bus, levels = pass_through(1)
    assert reg_read(bus, 6) & 0x60 == 0          # arbitration idle after enabling
    msg = bytes(range(64))
    for i in range(15):
        assert tag.rf_exchange(bytes((0xA2, 0xF0 + i)) + msg[4 * i:4 * i + 4]) == ACK
    with pytest.raises(OSError):                 # not ready for the I2C host yet
        read_block(bus, 0xF8)
    assert tag.fd_pin() == 1
    assert tag.rf_exchange(b"\xa2\xff" + msg[60:64]) == ACK      # terminator page
    ns = reg_read(bus, 6)
    assert ns & 0x10 and ns & 0x40 and not ns & 0x20             # SRAM_I2C_READY, I2C_LOCKED
    assert tag.fd_pin() == 0                                     # data ready for I2C
    assert tag.rf_exchange(b"\xa2\xf0\x00\x00\x00\x00") == NAK_ARBITER
    with pytest.raises(OSError):
        write_block(bus, 0xF8, bytes(16))        # wrong direction for the host
    got = b"".join(read_block(bus, b) for b in (0xF8, 0xF9, 0xFA, 0xFB))
    assert got == msg
    assert reg_read(bus, 6) & 0x50 == 0          # handed back
    assert levels == [0, 1]                      # FD low on data ready, released on read
    activate(tag)
    assert tag.rf_exchange(b"\xa2\xf0\x01\x02\x03\x04") == ACK
    assert tag.stats["handovers"] == 2


def test_pass_through_i2c_to_nfc_handover():
    tag, bus, levels = pass_through(0)
    msg = bytes(range(100, 164))
    for k in range(3):
        write_block(bus, 0xF8 + k, msg[16 * k:16 * k + 16])
    assert reg_read(bus, 6) & 0x40                             # I2C_LOCKED while writing
    assert tag.rf_exchange(b"\x30\xf0") == NAK_ARBITER         # not ready for NFC
    activate(tag)
    write_block(bus, 0xFB, msg[48:64])                         # last block: hand over
    ns = reg_read(bus, 6)
    assert ns & 0x08 and ns & 0x20 and not ns & 0x40           # SRAM_RF_READY, RF_LOCKED
    with pytest.raises(OSError):
        write_block(bus, 0xF8, bytes(16))
    assert tag.rf_exchange(b"\x30\xf0") == msg[0:16]
    assert reg_read(bus, 6) & 0x08                             # not the last page yet
    assert tag.rf_exchange(b"\x3a\xf4\xff") == msg[16:64]      # last page read: back to I2C
    assert reg_read(bus, 6) & 0x28 == 0
    assert tag.fd_pin() == 0                                   # "data read by NFC"
    write_block(bus, 0xF8, bytes(16))
    assert levels == [0]


def test_fast_write_fills_the_sram_and_hands_over():
    tag, bus, _ = pass_through(1)
    msg = bytes(range(64))
    assert tag.rf_exchange(b"\xa6\xf0\xff" + msg) == ACK
    assert reg_read(bus, 6) & 0x10
    assert b"".join(read_block(bus, b) for b in (0xF8, 0xF9, 0xFA, 0xFB)) == msg


def test_field_loss_ends_pass_through():
    tag, bus, _ = pass_through(1)
    tag.rf_exchange(b"\xa2\xff\x00\x00\x00\x00")
    assert reg_read(bus, 6) & 0x10
    tag.rf_field(False)
    assert reg_read(bus, 0) & 0x40 == 0
    assert reg_read(bus, 6) == 0
