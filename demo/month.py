"""The demo's month (demo/__main__.py): simulated tag badges check in at two terminals through one
month of simulated time.

- agency 1's desk terminal: the host program (host/terminal) on nfcpy `udp:`, its clock set to
  the simulated day;
- agency 2's ESP32 terminal: the terminal firmware under MicroPython with the PN532 model
  (hardware/sim/terminal.py), its RTC set to the simulated day; it works offline all month
  and syncs at the end, as a terminal at a client's site would. If its simulation cannot run
  here the desk program stands in for it.

Some workers miss the month; one badge is revoked mid-month (by the agency, through the API);
one badge's flash image is copied mid-month and the copy taps too (a clone: the verifier
records the evidence).
"""
import json
import os
import pathlib
import shutil
import urllib.request

from host.terminal.cli import load_authority_key
from host.terminal.desk import DeskTerminal
from host.terminal.http import Client
from host.terminal.journal import Journal
from host.terminal.lists import Lists
from host.terminal.sync import sync_once

DAY = 86400


class SimClock:
    def __init__(self, t):
        self.t = t

    def __call__(self):
        return self.t


class Desk:
    """The desk terminal program's parts, in this process, on a simulated clock."""

    kind = "desk"

    def __init__(self, d, verifier, aid, tid, token, clock):
        self.clock, self.aid, self.tid = clock, aid, tid
        d.mkdir(parents=True, exist_ok=True)
        self.client = Client(verifier.url, token)
        self.lists = Lists(d, load_authority_key(str(verifier.d / "authority.pem")), clock)
        self.journal = Journal(str(d / "journal.sqlite"))
        self.desk = DeskTerminal(tid, aid, self.journal, self.lists, clock, cooldown_s=120)
        self.refresh()

    def refresh(self):
        self.lists.refresh(self.client, [self.aid])

    def tap(self, badge, tries=4):
        """One check-in; a link error (the terminal says RETRY) is a worker tapping again."""
        from hardware.sim import reader
        from host.terminal.errors import TerminalError
        for n in range(tries):
            clf = reader.frontend(badge.path)
            try:
                v, _ = self.desk.tap(clf)
                return v.colour, v.code
            except TerminalError:
                if n == tries - 1:
                    raise
            finally:
                clf.close()

    def sync(self):
        total = 0
        while True:
            n = sync_once(self.journal, self.client, self.clock(), 100)
            total += n
            if n < 100:
                return total

    def results(self):
        return self.journal.counts()

    def close(self):
        self.journal.close()


class Esp32:
    """The ESP32 terminal firmware under MicroPython (hardware/sim/terminal.py)."""

    kind = "esp32"

    def __init__(self, d, verifier, aid, tid, token, clock, build):
        from cryptography.hazmat.primitives import serialization

        from hardware.sim import terminal as simterminal
        self.sim, self.d, self.clock, self.aid = simterminal, d, clock, aid
        self.build = build if (build / "tsim").exists() else simterminal.build(build)
        pub = load_authority_key(str(verifier.d / "authority.pem"))
        sec1 = pub.public_bytes(serialization.Encoding.X962,
                                serialization.PublicFormat.UncompressedPoint)
        cfg = {"id": tid, "authority": sec1.hex(),
               "verifier": {"host": "127.0.0.1", "port": verifier.port, "token": token},
               "cooldown_s": 120, "capacity": 1000, "batch": 20, "backoff_s": 1}
        files = {"terminal.json": json.dumps(cfg).encode(),
                 "trust.cose": (verifier.d / "trust.cwt").read_bytes()}
        files.update(_compact_files(verifier.url, aid))
        self.files = files
        self.t = None

    def _boot(self, port):
        if self.t is not None:
            self.t.stop()
        self.t = self.sim.SimTerminal(self.d / "flash", self.build, port, self.clock())
        if not (self.d / "flash" / "provision").exists():
            self.t.provision(self.files)
        self.t.start()

    def tap(self, badge, tries=4):
        self._boot(badge.port)              # powered up on the simulated day, badge on it
        for _ in range(tries):              # no answer: the worker taps again
            n = len(self.t.log)
            r = self.t.command("poll")
            beeps = [ln.split() for ln in self.t.log[n:] if ln.startswith("BEEP")]
            if beeps:
                return beeps[-1][1], r[0] if r else "none"
        return "none", r[0] if r else "none"

    def refresh(self):
        pass

    def sync(self):
        if self.t is None:
            self._boot(None)
        total = 0
        for _ in range(50):
            r = self.t.command("sync")
            total += int(r[1]) if len(r) > 1 and r[1].isdigit() else 0
            if len(r) > 2 and r[2] == "pending=0":
                break
        return total

    def close(self):
        if self.t is not None:
            self.t.stop()


def _compact_files(url, aid):
    with urllib.request.urlopen(f"{url}/sl/{aid}/compact/manifest", timeout=30) as r:
        man, seq = r.read(), r.headers.get("X-Xinka-Seq")
    chunks, n = [], 0
    while True:
        try:
            with urllib.request.urlopen(f"{url}/sl/{aid}/compact/chunk/{n}?seq={seq}",
                                        timeout=30) as r:
                chunks.append(r.read())
        except urllib.error.HTTPError:
            break
        n += 1
    return {f"status/{aid}/manifest": man, f"status/{aid}/chunks": b"".join(chunks)}


def plan_roles(n):
    """Badge roles for a fleet of n (n >= 4): 0 green, 1 revoked mid-month, 2 cloned, some
    miss the month. The first half belong to agency 1, the rest to agency 2."""
    missing = {n - 1} | ({4} if n >= 7 else set())
    return {"green": 0, "revoked": 1, "cloned": 2, "missing": sorted(missing)}


def schedule(n, roles):
    """(day, what, badge index) events of the month, in order."""
    ev = []
    for i in range(n):
        if i in roles["missing"] or i == roles["cloned"]:
            continue
        ev.append((3 + (i * 5) % 20, "checkin", i))
    r = roles["revoked"]
    ev += [(2, "checkin", r), (15, "revoke", r), (20, "checkin", r)]
    # The copy and the original start from one counter. The original checks in twice before the
    # copy does once: the copy's counter is then at most the original's second (each check-in
    # and each rewrite after it takes one), signed later, which is evidence under the rule of
    # docs/protocol.md "Replay and clone evidence", whatever order the terminals upload in.
    c = roles["cloned"]
    ev += [(5, "checkin", c), (10, "copy", c), (11, "checkin", c), (12, "checkin", c),
           (13, "checkin-clone", c)]
    return sorted(ev, key=lambda e: (e[0], e[1] != "revoke", e[2]))  # tap time grows with the index


def copy_badge(fleet_badges, i, d, start_badge):
    """Clone badge i: power it off, copy its flash and tag images, power both up."""
    b = fleet_badges[i]
    b.stop()
    clone_dir = d / "badges" / f"badge{i}-clone"
    if clone_dir.exists():
        shutil.rmtree(clone_dir)
    clone_dir.mkdir(parents=True)
    for name in ("flash.bin", "tag.bin"):
        if (b.dir / name).exists():
            shutil.copy2(b.dir / name, clone_dir / name)
    b.start()
    return start_badge(clone_dir)


def clone_evidence(verifier, aid, key):
    try:
        r = verifier.call("GET", f"/api/v1/agencies/{aid}/clone-evidence", key=key)
    except OSError:
        return []
    return r.get("evidence", r.get("items", [])) if isinstance(r, dict) else r


def env_no_esp32():
    return os.environ.get("XINKA_DEMO_NO_ESP32") == "1"


__all__ = ["Desk", "Esp32", "SimClock", "plan_roles", "schedule", "copy_badge",
           "clone_evidence", "env_no_esp32", "pathlib"]
