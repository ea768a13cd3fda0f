"""The build's file set for the terminal (host/build.py from firmware/terminal/manifest.py) is
what the simulated terminal runs: after a tap and a sync, every module it has loaded from its
flash's /lib is one its manifest declares, and every declared module is loaded, but for the
ESP32-S3 board code (main_esp32.py -> board_esp32s3), which only the chip runs. (The OLED's
driver, ssd1306, is loaded: display.py draws the verdicts and the link code.)"""
from testkit.device import runs
from tests.terminal.test_esp32_terminal import tap

ONLY_ON_THE_CHIP = {"board_esp32s3"}


def test_the_terminal_runs_exactly_its_manifests_files(fleet, verifier, make_terminal, build):
    t = make_terminal(0, verifier, port=fleet.badges[0].port)
    assert tap(t)[0] == "ok", t.log[-10:]
    verifier.start()
    assert t.command("sync")[1:3] == ["1", "pending=0"]
    loaded, declared = runs(t.command("modules"), build, "terminal")
    assert declared - loaded == ONLY_ON_THE_CHIP
