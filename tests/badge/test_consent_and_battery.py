"""The badge's time-limited consent token and its low-battery LED, on a simulated badge
(firmware under MicroPython, 128 KiB heap budget, NT3H2111 model)."""
import time

import pytest

from hardware.sim import fleet as simfleet
from host.wire import verify_tap
from host.wire.sample import NOW
from testkit.tags import read_tap

CONSENT_MS = 1500      # the product's window is 60 s (main.CONSENT_MS); shortened for the test


@pytest.fixture(scope="module")
def quick_badge(badge_build, world, tmp_path_factory):
    f = simfleet.Fleet(1, tmp_path_factory.mktemp("consent"), badge_build, world,
                       consent_ms=CONSENT_MS).start()
    yield f.badges[0]
    f.stop()
    print("\n".join(f.badges[0].log[-40:]))


def test_unread_consent_token_expires_back_to_a_status_token(quick_badge, trust):
    before = quick_badge.state()["ctr"]
    quick_badge.press()
    quick_badge.wait_state(lambda s: s["ctr"] > before and s["tag"].startswith("2:"))
    time.sleep(CONSENT_MS / 1000 + 0.5)
    st = quick_badge.wait_state(lambda s: s["tag"].startswith("1:"))
    uri, token, cred = read_tap(quick_badge.path)
    tap = verify_tap(token, cred, trust, NOW)
    assert tap.purpose == "status" and tap.counter >= st["ctr"] > before


def test_consent_token_within_its_window_reads_as_consent(quick_badge, trust):
    before = quick_badge.state()["ctr"]
    quick_badge.press()
    quick_badge.wait_state(lambda s: s["ctr"] > before and s["tag"].startswith("2:"))
    uri, token, cred = read_tap(quick_badge.path)
    tap = verify_tap(token, cred, trust, NOW)
    assert tap.purpose == "consent" and tap.scope == 0x3F


def test_low_battery_shows_its_led_pattern_and_the_badge_keeps_working(quick_badge, trust):
    # the battery is measured at each wake (field detect or button): a phone tap wakes it
    quick_badge.command("battery 3300", "OK battery")
    mark = len(quick_badge.log)
    uri, token, cred = read_tap(quick_badge.path)
    assert verify_tap(token, cred, trust, NOW).purpose in ("status", "consent")
    quick_badge.expect("LED low_battery", timeout=10)
    assert "LED low_battery" in quick_badge.log[mark:]
    quick_badge.command("battery 3900", "OK battery")
