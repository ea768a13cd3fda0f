"""The ESP32 terminal's cool-down and clock (firmware/terminal/app.py, clock.py, sync.py) under
MicroPython, against a simulated badge and the verifier on 127.0.0.1.

Cool-down: a badge tapped again within `cooldown_s` is shown "already checked in" (amber) and
not journaled; after the window it is journaled again; the window is rebuilt from the journal at
boot, so a power cut inside it does not let a second check-in through.

Clock: the verifier's time (HTTP Date header of any answer, or "now" in a JSON answer) sets the
terminal's offset at each sync; two syncs at least clock.min_span apart give the RTC's drift,
which now() then applies between syncs. Tolerance: the RTC and the Date header count whole
seconds, so an offset is right to +-1 s (+-2 s with the harness's start-up slack); over a span
of G seconds the drift estimate is right to about 2e6 / G ppm.

The board's RTC keeps running while the terminal is off (a coin cell): a restart gets
start_time = what the RTC reads by then, which lets a test put hours between two syncs.
"""
import json
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from hardware.sim import terminal as simterminal
from tests.terminal.conftest import terminal_files
from tests.terminal.test_esp32_terminal import beeps
from tests.terminal.test_esp32_terminal import tap as _tap


def tap(t):
    """A tap as a worker does it: "badge moved away: tap again" (the badge was busy rewriting
    its tag, or moved) is followed by another tap; nothing is journaled for such a tap."""
    r = _tap(t)
    for _ in range(3):
        if r[0] != "tag_lost":
            break
        r = _tap(t)
    return r


def state(t):
    return dict(w.split("=", 1) for w in t.command("state"))


def restart(t, rtc_now):
    """Power cut (SIGKILL), then power up on the same flash image with the RTC at rtc_now."""
    t.kill()
    t.start_time = rtc_now
    t.start()
    return time.monotonic()


def challenge_times(t):
    return [int(ln.split()[3]) for ln in t.log if ln.startswith("EV CHALLENGE")]


# --- cool-down --------------------------------------------------------------------------------

def test_second_tap_within_cooldown_is_a_duplicate_even_after_a_power_cut(
        fleet, verifier, make_terminal, world):
    t = make_terminal(0, verifier, port=fleet.badges[0].port, cooldown_s=600)
    t0 = time.monotonic()
    assert tap(t)[0] == "ok", t.log[-10:]
    r = tap(t)
    assert r[0] == "duplicate", t.log[-10:]
    assert beeps(t)[-2:] == [["green", "ok"], ["amber", "duplicate"]]
    assert state(t)["pending"] == "1"                  # the duplicate was not journaled

    # power cut; back 60 s later (still inside the window): rebuilt from the journal
    restart(t, t.start_time + int(time.monotonic() - t0) + 60)
    assert tap(t)[0] == "duplicate", t.log[-10:]
    assert state(t)["pending"] == "1"

    # the verifier gets one check-in, once
    verifier.start()
    assert t.command("sync")[1:3] == ["1", "pending=0"]
    assert verifier.posts == 1
    assert len(verifier.checkins()) == 1
    assert t.command("sync")[1] == "0"                 # nothing more to send

    # back after 11 minutes (the window is over): a new check-in, journaled and uploaded
    restart(t, t.start_time + int(time.monotonic() - t0) + 660)
    assert tap(t)[0] == "ok", t.log[-10:]
    assert tap(t)[0] == "duplicate"
    assert state(t)["pending"] == "1"


def test_second_checkin_after_the_window_is_journaled(fleet, verifier, make_terminal, world):
    t = make_terminal(0, verifier, port=fleet.badges[0].port, cooldown_s=6)
    t0 = time.monotonic()
    assert tap(t)[0] == "ok", t.log[-10:]
    assert time.monotonic() - t0 < 5, "tap too slow for a 6 s window"
    assert tap(t)[0] == "duplicate"
    time.sleep(max(0.0, 7.5 - (time.monotonic() - t0)))
    assert tap(t)[0] == "ok", t.log[-10:]
    assert state(t)["pending"] == "2"
    verifier.start()
    assert t.command("sync")[1:3] == ["2", "pending=0"]
    assert len(verifier.checkins()) == 2


def test_cooldown_zero_journals_every_tap(fleet, verifier, make_terminal, world):
    t = make_terminal(0, verifier, port=fleet.badges[0].port, cooldown_s=0)
    assert tap(t)[0] == "ok"
    assert tap(t)[0] == "ok"
    assert state(t)["pending"] == "2"


# --- clock ------------------------------------------------------------------------------------

def _terminal(build, world, verifier, directory, port, start_time, badge=0):
    aid = world.badges[badge].agency_id
    tid, token = verifier.env.terminals[aid]
    t = simterminal.SimTerminal(directory, build, port, start_time)
    return t.provision(terminal_files(world, tid, verifier.port, token))


def _set_verifier_time(verifier, value):
    verifier.env.app.config["FIXED_NOW"] = value


def test_sync_sets_the_clock_from_the_date_header(fleet, verifier, build, world, tmp_path):
    """The verifier 1 h ahead of the RTC, then (another terminal) 5000 s behind: after one sync
    the offset is that, the next challenge carries the verifier's time, and so does the receipt
    the verifier gets."""
    verifier.start()
    for i, ahead in enumerate((3600, -5000)):
        s = world.now - ahead
        t0 = time.monotonic()
        t = _terminal(build, world, verifier, tmp_path / ("c%d" % i), fleet.badges[0].port,
                      s).start()
        try:
            assert state(t)["syncs"] == "0"
            # verifier clock = RTC + ahead (both run with real time from the start)
            _set_verifier_time(verifier, s + ahead + int(time.monotonic() - t0))
            assert t.command("sync")[1] == "0"            # nothing journaled: a time check
            st = state(t)
            assert st["syncs"] == "1"
            assert abs(int(st["clock_offset"]) - ahead) <= 2, st
            assert st["drift_ppm"] == "0"                 # one sync: no drift estimate yet
            assert any(ln.startswith("EV CLOCK step=") for ln in t.log)

            expect = s + ahead + int(time.monotonic() - t0)
            assert tap(t)[0] == "ok", t.log[-10:]
            ch = challenge_times(t)[-1]
            assert abs(ch - expect) <= 2, (ch, expect)
            _set_verifier_time(verifier, s + ahead + int(time.monotonic() - t0))
            assert t.command("sync")[1] == "1"
            seen = sorted(c[3] for c in verifier.checkins())
            assert ch in seen                             # the receipt's seen_at
        finally:
            t.stop()
        _set_verifier_time(verifier, world.now)


class _JsonNowVerifier:
    """An ingest API that acknowledges every item and says the time twice: "now" in the JSON
    answer and a different Date header. The terminal is to take the JSON one."""

    def __init__(self, port, now, date):
        self.now, self.date = now, date
        outer = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers["Content-Length"])
                items = json.loads(self.rfile.read(n))["items"]
                body = json.dumps({"results": [{"result": "accepted"}] * len(items),
                                   "now": outer.now()}).encode()
                self.send_response_only(200)
                self.send_header("Date", formatdate(outer.date, usegmt=True))
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)

        self.srv = ThreadingHTTPServer(("127.0.0.1", port), H)
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()


def test_sync_takes_the_json_now_field_over_the_date_header(fleet, verifier, make_terminal,
                                                            world):
    t = make_terminal(0, verifier, port=fleet.badges[0].port)     # RTC = world.now - 120
    t0 = time.monotonic()
    assert tap(t)[0] == "ok"
    s = t.start_time
    fake = _JsonNowVerifier(verifier.port, lambda: s + 7200 + int(time.monotonic() - t0),
                            world.now - 86400)
    try:
        assert t.command("sync")[1:3] == ["1", "pending=0"]
    finally:
        fake.stop()
    assert abs(int(state(t)["clock_offset"]) - 7200) <= 2


def test_drift_is_estimated_across_syncs_and_applied_between_them(fleet, verifier, build,
                                                                  world, tmp_path):
    """RTC slow by 150 ppm: sync, off for G = 200000 s (the RTC runs on its coin cell), sync
    again: drift_ppm ~ 150 (+-2e6/G = 10); off for G again, no sync: the challenge time is the
    verifier's to within a few seconds (without the drift it would be 30 s behind)."""
    ppm, gap = 150, 200000
    lag = gap * ppm // 1000000                       # 30 s the RTC loses per gap
    s = world.now - 300
    verifier.start()
    t0 = time.monotonic()

    def el():
        return int(time.monotonic() - t0)

    t = _terminal(build, world, verifier, tmp_path / "d", fleet.badges[0].port, s).start()
    try:
        # the verifier's true time: s + 300 + real time, plus what the RTC lost in the gaps
        _set_verifier_time(verifier, s + 300 + el())
        t.command("sync")
        st = state(t)
        assert abs(int(st["clock_offset"]) - 300) <= 2 and st["drift_ppm"] == "0", st

        restart(t, s + gap + el())
        assert int(state(t)["clock_offset"]) == int(st["clock_offset"])   # kept on flash
        _set_verifier_time(verifier, s + 300 + gap + lag + el())
        t.command("sync")
        st = state(t)
        assert abs(int(st["clock_offset"]) - (300 + lag)) <= 2, st
        assert abs(int(st["drift_ppm"]) - ppm) <= 2 * 1000000 // gap + 1, st

        restart(t, s + 2 * gap + el())
        st2 = state(t)
        assert st2["drift_ppm"] == st["drift_ppm"]                         # kept on flash
        expect = s + 300 + 2 * (gap + lag) + el()
        tap(t)                                 # the verdict does not matter: the challenge does
        ch = challenge_times(t)[-1]
        assert abs(ch - expect) <= 4, (ch, expect, st)
    finally:
        t.stop()
        _set_verifier_time(verifier, world.now)
