"""The ESP32 terminal (firmware under MicroPython, PN532 model, littlefs) against simulated
badges (hardware/sim/fleet.py) and the real verifier app on 127.0.0.1: revocation offline from
the cached compact list, replayed and foreign responses, bad input from the reader, a badge
pulled away, a full journal, a corrupt compact list."""
import pytest

from tests.terminal.conftest import REVOKED_BADGE


def tap(t, tries=10):
    """Poll until a badge answers (a badge that just left a field may take a moment to be
    found again), as the terminal's own loop does; the RESULT words. The badge is first given
    the moment it has between two workers to put a fresh token on its tag (settled)."""
    if getattr(t, "badge", None) is not None:
        settled(t.badge)
    for _ in range(tries):
        r = t.command("poll")
        if r[0] != "none":
            return r
    return r


def settled(badge):
    """Wait until the badge has put a fresh token on its tag after the last check-in, as a
    badge has by the time the next worker taps (the rewrite holds the tag for a moment)."""
    try:
        return badge.wait_state(lambda s: s["tag"].endswith(":%d" % s["ctr"]))
    except TimeoutError as err:
        raise TimeoutError("%s; badge log: %s" % (err, badge.log[-25:])) from None


def beeps(t):
    return [ln.split()[1:3] for ln in t.log if ln.startswith("BEEP")]


def test_checkin_offline_then_synced(fleet, verifier, make_terminal, world):
    t = make_terminal(0, verifier, port=fleet.badges[0].port)
    r = tap(t)
    assert r[0] == "ok", t.log[-10:]
    assert t.command("sync")[1] == "-1"               # verifier unreachable: kept, retried
    verifier.start()
    assert t.command("sync")[1:3] == ["1", "pending=0"]
    assert len(verifier.checkins()) == 1
    assert t.command("sync")[1] == "0"                # nothing left: a time check only


def test_revoked_badge_beeps_red_offline_from_cached_compact_list(fleet, verifier,
                                                                   make_terminal, world):
    t = make_terminal(REVOKED_BADGE, verifier, port=fleet.badges[REVOKED_BADGE].port)
    assert tap(t)[0] == "revoked"
    assert beeps(t)[-1] == ["red", "revoked"]
    assert t.command("state")[0] == "pending=0"        # nothing journaled
    assert verifier.posts == 0


def test_replayed_and_foreign_responses_are_refused(fleet, verifier, make_terminal, world):
    t = make_terminal(0, verifier, port=fleet.badges[0].port)
    assert tap(t)[0] == "ok"
    recorded = t.command("payload")[0]
    # the recorded answer, played back by an attacker's tag to a new challenge
    r = t.command("replay " + recorded)
    assert r[0] == "replayed" and r[1] == "challenges=1", r
    # a real answer the badge gave another terminal (its id, its nonce)
    foreign = t.command("other T-A330100-99")[0]
    assert len(foreign) > 200
    assert t.command("replay " + foreign)[0] == "wrong_terminal"
    # the same terminal's own answer from before, replayed again: still refused
    assert t.command("replay " + recorded)[0] == "replayed"
    assert t.command("state")[0] == "pending=1"        # only the real check-in


@pytest.mark.parametrize("fault,n", [("garbage", 1), ("nack", 2), ("timeout", 1),
                                     ("badsum", 1), ("noack", 1), ("error", 1)])
def test_pn532_faults_are_retried_or_reported_and_the_terminal_goes_on(
        fleet, verifier, make_terminal, world, fault, n):
    t = make_terminal(0, verifier, port=fleet.badges[0].port)
    assert tap(t)[0] == "ok"
    t.command("fault %s %d" % (fault, n))
    r = tap(t)
    assert r[0] in ("ok", "reader_fault", "tag_lost"), r
    for _ in range(3):
        r = tap(t)
        if r[0] == "ok":
            break
    assert r[0] == "ok", t.log[-20:]
    st = t.command("state")
    assert int(st[0].split("=")[1]) >= 2              # nothing journaled was lost


def test_pn532_drop_off_then_back(fleet, verifier, make_terminal, world):
    t = make_terminal(0, verifier, port=fleet.badges[0].port)
    assert tap(t)[0] == "ok"
    t.command("fault dropoff")
    assert tap(t)[0] == "reader_fault"
    assert tap(t)[0] == "reader_fault"
    assert any(ln.startswith("EV READER timeout") for ln in t.log)
    t.command("reboot")                                # power-cycled: the chip is back
    assert tap(t)[0] == "ok"
    assert t.command("state")[0] == "pending=2"


def test_badge_removed_mid_exchange(fleet, verifier, make_terminal, world):
    t = make_terminal(0, verifier, port=fleet.badges[0].port)
    t.command("remove_after 12")                       # during the challenge writes
    assert tap(t)[0] == "tag_lost"
    t.command("place %d" % fleet.badges[0].port)
    t.command("remove_after 30")                       # while the answer is read
    assert tap(t)[0] == "tag_lost"
    t.command("place %d" % fleet.badges[0].port)
    r = None
    for _ in range(5):                                 # the badge recovers within its window
        r = tap(t)
        if r[0] == "ok":
            break
    assert r[0] == "ok", t.log[-20:]
    assert t.command("state")[0] == "pending=1"


def test_full_journal_refuses_new_checkins_and_keeps_the_old(fleet, verifier, make_terminal,
                                                             world):
    t = make_terminal(0, verifier, port=fleet.badges[0].port, capacity=3)
    for _ in range(3):
        r = tap(t)
        assert r[0] == "ok", (r, t.log[-12:])
    assert tap(t)[0] == "journal_full"
    assert beeps(t)[-1] == ["red", "journal_full"]
    t.command("reboot")
    assert tap(t)[0] == "journal_full"
    verifier.start()
    assert t.command("sync")[1] == "3"
    assert len(verifier.checkins()) == 3
    assert tap(t)[0] == "ok"


def test_corrupt_compact_list_gives_status_unknown_and_keeps_working(
        fleet, verifier, make_terminal, world, tmp_path):
    aid = world.badges[0].agency_id
    t = make_terminal(0, verifier, port=fleet.badges[0].port)
    # damage the cached chunks on the terminal's flash image: write them again flipped
    t.stop()
    prov = tmp_path / "t" / "provision" / "status" / aid / "chunks"
    data = bytearray(prov.read_bytes())
    data[len(data) // 2] ^= 0x40
    prov.write_bytes(bytes(data))
    (tmp_path / "t" / "flash.bin").unlink()            # re-provision from the files
    t.start()
    r = tap(t)
    assert r[0] == "ok_status_unknown" and "status_corrupt" in t.log[-2], t.log[-5:]
    assert beeps(t)[-1] == ["amber", "ok_status_unknown"]
    assert tap(t)[0] == "ok_status_unknown"
    assert t.command("state")[0] == "pending=2"
    # a manifest with a bad signature: the whole list is refused, the terminal goes on
    t.stop()
    man = tmp_path / "t" / "provision" / "status" / aid / "manifest"
    m = bytearray(man.read_bytes())
    m[-5] ^= 1
    man.write_bytes(bytes(m))
    (tmp_path / "t" / "flash.bin").unlink()
    t.start()
    assert tap(t)[0] == "ok_status_unknown"
    assert "status_list_bad_signature" in t.log[-2], t.log[-3:]


def test_tap_to_verdict_figures(fleet, verifier, make_terminal, world):
    """Frames and time from InListPassiveTarget to the verdict, 10 taps (docs/performance.md
    "Terminal (ESP32)"). rf_frames: ISO 14443-A frames the PN532 model sent (activation + the
    pass-through exchange); uart_bytes: both directions on the 115200-baud HSU line."""
    t = make_terminal(0, verifier, port=fleet.badges[0].port)
    rows = []
    for _ in range(10):
        r = tap(t)
        assert r[0] == "ok", (r, t.log[-12:])
        rows.append(dict(kv.split("=") for kv in r[1:]))
    st = t.command("stats")
    frames = sorted(int(x["frames"]) for x in rows)
    uart = sorted(int(x["uart_bytes"]) for x in rows)
    ms = sorted(int(x["verdict_ms"]) for x in rows)
    line_ms = [u * 10 * 1000 // 115200 for u in uart]
    print("\nTAPFIG pass-through frames min/median/max %d/%d/%d; uart bytes median %d (%d ms "
          "at 115200 baud); tap-to-verdict ms min/median/max %d/%d/%d; %s"
          % (frames[0], frames[5], frames[-1], uart[5], line_ms[5], ms[0], ms[5], ms[-1],
             " ".join(st)))
    assert frames[-1] <= 60 and uart[-1] <= 3000
