"""`provision terminal flash` and the checks both flash commands make before writing: the exact
esptool / mpremote command lines (no USB port exists here: subprocess is replaced where it would
reach one, and the tests say so), a pin map or an image for another chip, a device esptool
detects as another chip, a manifest naming a missing file. Images are made by esptool's own
image classes; the detection output is in esptool's own format (esptool/__init__.py, cmds.py)."""
import dataclasses
import json
import subprocess

import pytest
from cryptography.hazmat.primitives import serialization
from esptool.bin_image import ESP32C3FirmwareImage, ESP32S3FirmwareImage

from host import build, wire
from host.wire import keys
from provisioning import flash, harden
from provisioning.cli import main

PORT = "/dev/ttyACM7"
TOKEN = "tok-3f9a7c0d51e2b6a8"
_run = subprocess.run                   # mpy-cross and anything not reaching a port run for real


def _image(path, cls):
    cls().save(str(path))
    return path


@pytest.fixture
def terminal_files(tmp_path):
    import time
    now = int(time.time())
    authority = keys.generate()
    agency = keys.generate()
    trust = wire.build_trust_list(authority, "CN-ZJ-HZ-COMMERCE",
                                  [wire.Agency("ZJ-HZ-01", "杭州", (agency,), now - 60,
                                               now + 86400)],
                                  seq=3, iat=now - 60, exp=now + 86400)
    (tmp_path / "trust.cose").write_bytes(trust)
    (tmp_path / "authority.pem").write_bytes(authority.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    (tmp_path / "token").write_text(TOKEN + "\n")
    _image(tmp_path / "s3.bin", ESP32S3FirmwareImage)
    _image(tmp_path / "c3.bin", ESP32C3FirmwareImage)
    return tmp_path


def _terminal_args(d, image="s3.bin", extra=()):
    return ["--port", PORT, "terminal", "flash", "--image", str(d / image), "--terminal-id",
            "T-0001", "--verifier", "http://10.0.0.5:8080", "--token-file", str(d / "token"),
            "--authority", str(d / "authority.pem"), "--trust-list", str(d / "trust.cose"),
            *extra]


class FakeUSB:
    """subprocess.run where a USB port would be: records every command; esptool's detection
    answers as a device with `chip` would (esptool 5's own lines)."""

    def __init__(self, chip_name, description):
        self.calls = []
        self.chip_name, self.description = chip_name, description

    def __call__(self, cmd, **kw):
        if not any(t in str(cmd[0]) for t in ("esptool", "mpremote")):
            return _run(cmd, **kw)
        self.calls.append(list(cmd))
        if "read-mac" in cmd:
            out = (f"esptool v5.6.0\nConnected to {self.chip_name} on {PORT}:\n"
                   f"{'Chip type:':<20}{self.description}\n"
                   f"{'Features:':<20}Wi-Fi, BT 5 (LE)\n"
                   f"{'MAC:':<20}a4:cf:12:00:00:01\n\nHard resetting via RTS pin...\n")
            return subprocess.CompletedProcess(cmd, 0, out, "")
        return subprocess.CompletedProcess(cmd, 0)

    def writes(self):
        return [c for c in self.calls if "read-mac" not in c]


def test_terminal_flash_command_lines_mock_usb_port(terminal_files, firmware_build, capsys,
                                                    caplog):
    caplog.set_level("DEBUG")
    d = terminal_files
    rc = main(_terminal_args(d, extra=["--build", str(firmware_build), "--dry-run"]))
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    steps = [ln for ln in cap.out.splitlines() if ln.startswith("[")]
    esptool, mpremote = harden._tool("esptool"), harden._tool("mpremote")
    n = len(steps)
    assert steps[0] == f"[1/{n}] {esptool} --port {PORT} --baud 115200 read-mac"
    assert steps[1] == (f"[2/{n}] {esptool} --chip esp32s3 --port {PORT} --baud 460800 "
                        "erase-flash")
    assert steps[2] == (f"[3/{n}] {esptool} --chip esp32s3 --port {PORT} --baud 460800 "
                        f"write-flash --flash-size detect 0x0 {d / 's3.bin'}")
    assert steps[3].startswith(f"[4/{n}] {mpremote} connect {PORT} exec import os")
    lib = next(s for s in steps if s.endswith(":/lib/"))
    assert "/app.mpy" in lib and "/pn532.mpy" in lib and "/board_esp32s3.mpy" in lib
    assert "/nt3h2111.mpy" not in lib and "/provision.mpy" not in lib   # the badge's
    xinka = next(s for s in steps if s.endswith(":/lib/xinka/"))
    assert "/verify.mpy" in xinka and "/revocation.mpy" in xinka
    assert "/ecdsa.mpy" not in xinka and "/ndef.mpy" not in xinka   # the badge's signing, tag
    assert any(s.endswith(f"{build.DEVICES['terminal'].board_json} :/board.json")
               for s in steps)
    cfg = next(s for s in steps if s.endswith(":/flash/"))
    assert "/terminal.json " in cfg and "/trust.cose " in cfg and "wifi.json" not in cfg
    assert "os.mkdir('/flash')" in flash.mpremote_commands(
        PORT, firmware_build, "terminal", extra=[(d / "token", "/flash/x")])[0][-1]
    assert steps[-1].endswith(":/main.py")              # the boot entry last
    # the token goes in a file, never on a command line or in a log line
    assert TOKEN not in cap.out and TOKEN not in cap.err and TOKEN not in caplog.text


def test_terminal_flash_writes_after_detecting_an_s3_mock_usb_port(terminal_files,
                                                                   firmware_build, capsys,
                                                                   monkeypatch):
    usb = FakeUSB("ESP32-S3", "ESP32-S3 (QFN56) (revision v0.2)")
    seen = {}

    def run(cmd, **kw):                   # read the configuration while it still exists
        for a in cmd:
            if a.endswith("terminal.json"):
                seen["cfg"] = json.loads(open(a).read())
        return usb(cmd, **kw)
    monkeypatch.setattr(flash.subprocess, "run", run)
    rc = main(_terminal_args(terminal_files, extra=["--build", str(firmware_build)]))
    assert rc == 0, capsys.readouterr().err
    assert "read-mac" in usb.calls[0] and "erase-flash" in usb.calls[1]
    assert all(TOKEN not in " ".join(c) for c in usb.calls)
    cfg = seen["cfg"]
    assert cfg["id"] == "T-0001" and cfg["verifier"] == {"host": "10.0.0.5", "port": 8080,
                                                         "token": TOKEN}
    pub = serialization.load_pem_public_key((terminal_files / "authority.pem").read_bytes())
    assert cfg["authority"] == keys.point(pub).hex()


@pytest.mark.parametrize("args,chip_name,description", [
    (None, "ESP32-C3", "ESP32-C3 (QFN32) (revision v0.4)"),      # a badge on the port
])
def test_terminal_flash_refuses_another_chip_writes_nothing_mock_usb_port(
        terminal_files, firmware_build, capsys, monkeypatch, args, chip_name, description):
    usb = FakeUSB(chip_name, description)
    monkeypatch.setattr(flash.subprocess, "run", usb)
    rc = main(_terminal_args(terminal_files, extra=["--build", str(firmware_build)]))
    err = capsys.readouterr().err
    assert rc == 26 and "wrong_chip" in err and "ESP32-C3" in err and "ESP32-S3" in err
    assert len(usb.calls) == 1 and usb.writes() == []


def test_badge_flash_refuses_an_s3_writes_nothing_mock_usb_port(tmp_path, firmware_build,
                                                                capsys, monkeypatch):
    usb = FakeUSB("ESP32-S3", "ESP32-S3 (QFN56) (revision v0.2)")
    monkeypatch.setattr(flash.subprocess, "run", usb)
    img = _image(tmp_path / "c3.bin", ESP32C3FirmwareImage)
    rc = main(["--port", PORT, "flash", "--image", str(img), "--build", str(firmware_build)])
    err = capsys.readouterr().err
    assert rc == 26 and "wrong_chip" in err and "ESP32-S3" in err
    assert usb.writes() == []


def test_flash_refuses_an_image_for_another_chip_mock_usb_port(terminal_files, firmware_build,
                                                               capsys, monkeypatch):
    usb = FakeUSB("ESP32-S3", "ESP32-S3")
    monkeypatch.setattr(flash.subprocess, "run", usb)
    rc = main(_terminal_args(terminal_files, image="c3.bin",
                             extra=["--build", str(firmware_build)]))
    err = capsys.readouterr().err
    assert rc == 27 and "image_mismatch" in err and "c3.bin" in err and "ESP32-C3" in err
    assert usb.calls == []


def test_flash_refuses_a_board_file_for_another_chip_mock_usb_port(terminal_files,
                                                                   firmware_build, capsys,
                                                                   monkeypatch):
    usb = FakeUSB("ESP32-S3", "ESP32-S3")
    monkeypatch.setattr(flash.subprocess, "run", usb)
    rc = main(_terminal_args(terminal_files, extra=[
        "--build", str(firmware_build), "--board", str(build.DEVICES["badge"].board_json)]))
    err = capsys.readouterr().err
    assert rc == 25 and "board_mismatch" in err and "badge/board.json" in err
    assert "esp32c3" in err and usb.calls == []


def test_flash_refuses_a_manifest_naming_a_missing_file_mock_usb_port(tmp_path, capsys,
                                                                      monkeypatch):
    usb = FakeUSB("ESP32-C3", "ESP32-C3")
    monkeypatch.setattr(flash.subprocess, "run", usb)
    broken = tmp_path / "manifest.py"
    broken.write_text(f"include({str(build.DEVICES['badge'].manifest)!r})\n"
                      "module('no_such_module.py')\n")
    monkeypatch.setitem(build.DEVICES, "badge",
                        dataclasses.replace(build.DEVICES["badge"], manifest=broken))
    img = _image(tmp_path / "c3.bin", ESP32C3FirmwareImage)
    rc = main(["--port", PORT, "flash", "--image", str(img)])
    err = capsys.readouterr().err
    assert rc == 24 and "manifest_broken" in err and "no_such_module.py" in err
    assert str(broken) in err and usb.calls == []


@pytest.mark.parametrize("cmd,chip,files", [
    (["terminal", "flash"], "ESP32-S3",
     ("terminal.json", "trust.cose", "firmware/terminal/manifest.py")),
    (["flash"], "ESP32-C3", ("firmware/badge/manifest.py",))])
def test_flash_help_explains_the_steps_in_chinese_and_english(capsys, cmd, chip, files):
    assert main(cmd + ["--help"]) == 0
    out = capsys.readouterr().out
    assert "esptool read-mac" in out and "esptool 自己识别芯片" in out
    assert "erase the whole flash" in out and "擦除整片闪存" in out
    assert "the boot entry to /main.py (the last step)" in out and "启动入口拷到 /main.py" in out
    assert "nothing is written to the device" in out and "设备不被改动" in out
    assert chip in out and all(f in out for f in files)
