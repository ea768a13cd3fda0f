"""The ESP32-C3 boot path, as `provision flash` lays the badge's filesystem out: /main.py
(firmware/badge/main_esp32.py) -> board_esp32c3.run() -> boot_select -> provisioning mode on
the USB serial (sys.stdin / sys.stdout) or the badge loop (/lib/main.mpy, which /main.py must
not shadow). Under MicroPython, with a stand-in `machine` module (tests/provisioning/esp32/
machine.py: pins, an I2C bus with no tag on it, unique_id, lightsleep); no hardware here.
"""
import os
import pathlib
import select
import shutil
import subprocess
import time

import pytest

from hardware.sim import runner
from host.wire import cbor
from provisioning import flash
from xinka import frames

MACHINE = pathlib.Path(__file__).with_name("esp32") / "machine.py"
CHIP = bytes.fromhex("A4CF12000099")

# What MicroPython does at boot with sys.path ['', '.frozen', '/lib'] and /main.py, in a folder
# standing for the badge's filesystem. Board() reads /board.json and keeps its state under
# /flash: here board.json and flash/ in that folder (store.makedirs takes absolute paths).
HARNESS = r"""
import os, sys
while sys.path:
    sys.path.pop()
for p in ("", ".frozen", "lib"):
    sys.path.append(p)
import board_esp32c3
_Board = board_esp32c3.Board
def _board():
    b = _Board("board.json")
    b.fs_root = os.getcwd() + "/flash"
    return b
board_esp32c3.Board = _board
exec(open("main.py").read())
"""


@pytest.fixture
def device(firmware_build, tmp_path):
    """A folder laid out as `provision flash` lays out the badge (its mpremote commands)."""
    root = tmp_path / "device"
    (root / "lib").mkdir(parents=True)
    for cmd in flash.mpremote_commands("/dev/ttyACM0", firmware_build):
        if cmd[3:5] != ["fs", "cp"]:
            continue
        *srcs, dst = cmd[5:]                             # ":/lib/", ":/main.py", ...
        target = root / dst[2:]
        if dst.endswith("/"):
            target.mkdir(parents=True, exist_ok=True)
        for src in srcs:
            shutil.copy(src, target / pathlib.Path(src).name if dst.endswith("/") else target)
    shutil.copy(MACHINE, root / "lib" / "machine.py")
    return root


def boot(root, requests=(), button=False, timeout=30):
    """Boot the device folder; send request bodies as frames, read their answers; then the
    USB host hangs up. Returns (answers, everything it printed)."""
    env = dict(os.environ, XK_BUTTON="1" if button else "0")
    env.pop("MICROPYPATH", None)
    p = subprocess.Popen([runner.MICROPYTHON, "-X", "heapsize=%d" % runner.HEAP_BYTES, "-c",
                          HARNESS], cwd=root, env=env, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    dec, answers, out = frames.Decoder(frames.SYNC_ANS), [], b""
    try:
        for seq, body in enumerate(requests, 1):
            p.stdin.write(frames.encode(seq, cbor.encode(body), frames.SYNC_REQ))
            p.stdin.flush()
            end = time.monotonic() + timeout
            while len(answers) < seq and time.monotonic() < end:
                if select.select([p.stdout], [], [], 0.1)[0]:
                    data = os.read(p.stdout.fileno(), 4096)
                    out += data
                    answers += [cbor.decode(b, 4096) for s, b, _ in dec.feed(data) if s == seq]
        p.stdin.close()                                  # unplugged
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if select.select([p.stdout], [], [], 0.1)[0]:
                data = os.read(p.stdout.fileno(), 4096)
                if not data:
                    break
                out += data
        p.wait(timeout)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    return answers, out


def test_blank_badge_boots_into_provisioning_mode_on_usb_serial(device):
    answers, out = boot(device, [{"op": "identify"}])
    assert answers and answers[0]["ok"] is True, out
    assert answers[0]["state"] == "blank" and answers[0]["chip"] == CHIP
    # unplugged while not provisioned: it waits (light sleep) to serve again, no badge loop
    assert b"LIGHTSLEEP 1000" in out and b"TAG BUS USED" not in out


def _lock(device, firmware_build):
    """Put a provisioned, locked state on the device's flash folder (as an issuance leaves)."""
    script = ("import state\n"
              "st = state.BadgeState(%r).load()\n"
              "st.put('key', bytes(31) + b'\\x07')\n"
              "st.put('credential', b'\\xd2\\x84' + bytes(20))\n"
              "st.put('host', b'v.example.cn')\n"
              "st.put('locked', b'\\x01')\n") % str(device / "flash" / "badge")
    env = dict(os.environ, MICROPYPATH=":".join(str(firmware_build / s)
                                                 for s in ("badge", "lib")))
    subprocess.run([runner.MICROPYTHON, "-c", script], cwd=device, env=env, check=True)


def test_locked_badge_runs_the_badge_loop_from_lib(device, firmware_build):
    _lock(device, firmware_build)
    t0 = time.monotonic()
    answers, out = boot(device)
    assert b"TAG BUS USED" in out, out                 # main.Badge ran, on the board's bus
    assert b"Traceback" not in out
    assert time.monotonic() - t0 >= 1.5                 # after the button window


def test_locked_badge_with_the_button_held_is_in_provisioning_mode(device, firmware_build):
    _lock(device, firmware_build)
    answers, out = boot(device, [{"op": "identify"}, {"op": "keygen", "entropy": bytes(32)}],
                        button=True)
    assert answers[0]["state"] == "locked", out
    assert answers[1] == {"ok": False, "err": "locked", "msg": "badge is locked; wipe it first"}
    # unplugged: locked, so on to the badge loop
    assert b"TAG BUS USED" in out and b"Traceback" not in out
