"""The build's file set for the badge (host/build.py from firmware/badge/manifest.py) is what the
simulated badge runs: after a tap and a check-in, every module it has loaded from its flash's
/lib is one its manifest declares, and every module the manifest declares is loaded, but for
the ESP32-C3 board code, which only the chip runs (main_esp32.py -> board_esp32c3 ->
boot_select), and the modules the badge loads only in provisioning mode (tests/provisioning
run those under MicroPython)."""
import os

from host.wire import encode_challenge
from host.wire.sample import NOW
from testkit import tags as terminal
from testkit.device import runs
from testkit.tags import read_tap

ONLY_ON_THE_CHIP = {"board_esp32c3", "boot_select"}
ONLY_WHEN_PROVISIONING = {"provision", "serial_link", "identity", "xinka.frames"}


def test_the_badge_runs_exactly_its_manifests_files(badge, badge_build):
    read_tap(badge.path)
    kind, _ = terminal.checkin(badge.path, encode_challenge("T-1", NOW, os.urandom(16)))
    assert kind == terminal.K_RESPONSE
    loaded, declared = runs(badge.command("modules", "MODULES").split()[1:], badge_build, "badge")
    assert ONLY_ON_THE_CHIP | ONLY_WHEN_PROVISIONING <= declared
    assert declared - loaded == ONLY_ON_THE_CHIP | ONLY_WHEN_PROVISIONING
