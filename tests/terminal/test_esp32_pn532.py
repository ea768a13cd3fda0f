"""PN532 driver (firmware/drivers/pn532.py) against the PN532 model (hardware/pn532/model.py)
whose RF side is the NT3H2111 model in-process, under CPython; exact bytes of the frames; the
terminal's ECDSA verify (firmware/lib/verify.py) against `cryptography`."""
import hashlib
import os
import pathlib

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils

from hardware.nt3h2111.model import NT3H2111
from hardware.pn532.model import ACK, ERROR_FRAME, NACK, PN532Model
from hardware.pn532.rf import TagLink
from hardware.sim.uart import SimUART
from testkit.device import load
from xinka import verify

ROOT = pathlib.Path(__file__).resolve().parents[2]
pn532, = load("pn532", folder="drivers")


def rig(fault=None, n=1):
    tag = NT3H2111()
    tag.power_on()
    m = PN532Model(TagLink(tag))
    if fault:
        m.fault(fault, n)
    drv = pn532.PN532(SimUART(m), ack_ms=5, timeout_ms=20)
    return m, drv, tag


def test_frames_byte_for_byte():
    assert pn532.PN532.frame(0xD4, b"\x02") == bytes.fromhex("0000ff02fed4022a00")
    m, drv, _ = rig()
    m.receive(b"\x55\x55\x00\x00\x00")
    m.receive(bytes.fromhex("0000ff02fed4022a00"))
    assert bytes(m.out) == ACK + bytes.fromhex("0000ff06fad50332010607e800")
    m.out = bytearray()
    m.receive(NACK)                          # the last answer again
    assert bytes(m.out) == bytes.fromhex("0000ff06fad50332010607e800")
    m.out = bytearray()
    m.receive(bytes.fromhex("0000ff02fed4ff2d00"))   # no such command: error frame
    assert bytes(m.out) == ACK + ERROR_FRAME
    m.out = bytearray()
    m.receive(bytes.fromhex("0000ff02fed4022b00"))   # bad DCS: ignored
    assert bytes(m.out) == b""


def test_asleep_until_wakeup():
    m, drv, _ = rig()
    with pytest.raises(pn532.PN532Timeout):
        drv.firmware_version()
    drv.wakeup()
    assert drv.firmware_version() == (0x32, 1, 6, 7)


def test_list_passive_target_and_type2_read():
    m, drv, tag = rig()
    drv.wakeup()
    t = drv.list_passive_target()
    assert t.sens_res == b"\x00\x44" and t.sel_res == 0 and t.uid == tag.uid
    r = drv.thru(b"\x30\x00")
    assert len(r) == 16 and r[:7] != bytes(7)
    assert drv.data_exchange(1, b"\x30\x04") == drv.thru(b"\x30\x04")
    drv.release()
    with pytest.raises(pn532.PN532StatusError) as e:
        drv.data_exchange(1, b"\x30\x00")            # released: no target
    assert e.value.reason == "bad_context" and e.value.code == 0x27


@pytest.mark.parametrize("fault", ["garbage", "nack", "timeout", "badsum", "noack"])
def test_one_fault_is_absorbed_by_the_retries(fault):
    m, drv, _ = rig()
    drv.wakeup()
    m.fault(fault)
    assert drv.firmware_version() == (0x32, 1, 6, 7)
    assert drv.stats["resends"] + drv.stats["nacks_sent"] >= (0 if fault == "noack" else 1)


def test_persistent_faults_raise_with_reasons():
    m, drv, _ = rig()
    drv.wakeup()
    assert drv.firmware_version()
    m.fault("garbage", 1)                    # answer garbled: the NACK gets the good copy
    assert drv.firmware_version() == (0x32, 1, 6, 7) and drv.stats["nacks_sent"] == 1
    m.fault("nack", 5)                       # every send refused: a frame error, with reason
    with pytest.raises(pn532.PN532FrameError) as e:
        drv.firmware_version()
    assert e.value.reason == "frame"
    m.fault("dropoff")
    with pytest.raises(pn532.PN532Timeout) as e:
        drv.firmware_version()
    assert e.value.reason == "timeout"
    m2, drv2, _ = rig()
    drv2.wakeup()
    m2.fault("error")
    with pytest.raises(pn532.PN532StatusError) as e:
        drv2.firmware_version()
    assert e.value.reason == "syntax"


def test_tag_removed_is_status_01_from_the_table():
    m, drv, tag = rig()
    drv.wakeup()
    assert drv.list_passive_target() is not None
    m.remove_after(0)
    with pytest.raises(pn532.PN532StatusError) as e:
        drv.thru(b"\x30\x00")
    assert (e.value.code, e.value.reason) == (0x01, "rf_timeout")
    assert "not answered" in str(e.value)


def test_status_table_covers_the_manual():
    for code in (0x01, 0x02, 0x03, 0x13, 0x14, 0x27, 0x29, 0x2B):
        assert code in pn532.ERRORS
    assert pn532.status_error(0x41).code == 0x01      # MI bit ignored


def test_verify_against_cryptography():
    for _ in range(5):
        k = ec.generate_private_key(ec.SECP256R1())
        pub = k.public_key().public_bytes(serialization.Encoding.X962,
                                          serialization.PublicFormat.UncompressedPoint)
        msg = os.urandom(40)
        r, s = utils.decode_dss_signature(k.sign(msg, ec.ECDSA(hashes.SHA256())))
        sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        q = verify.public_key(pub)
        d = hashlib.sha256(msg).digest()
        assert verify.verify(q, d, sig)
        assert not verify.verify(q, hashlib.sha256(msg + b"x").digest(), sig)
        assert not verify.verify(q, d, sig[:32] + bytes(32))
        assert not verify.verify(q, d, sig[:63] + bytes((sig[63] ^ 1,)))
    with pytest.raises(ValueError):
        verify.public_key(b"\x04" + bytes(64))
