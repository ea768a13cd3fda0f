"""The desk terminal end to end: simulated badges (firmware under MicroPython, NT3H2111 model)
over nfcpy `udp:`, the real verifier app over HTTP on 127.0.0.1, the terminal as a console
program. Offline check-ins, upload when the verifier is back, a kill in the middle of an
upload, a revoked badge red from the cached compact list."""
import io
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from hardware.sim import fleet as simfleet
from hardware.sim import reader
from hardware.sim.ports import free_port
from host import wire
from host.terminal.cli import main
from host.terminal.desk import Clock, DeskTerminal
from host.terminal.journal import Journal
from host.terminal.lists import Lists
from host.wire import sample
from tests.verifier.conftest import (Env, db_kind, make_app, new_database,  # noqa: F401
                                     pg_cluster, sqlite_template)
from verifier.migrate import upgrade
from verifier.models import Checkin

ROOT = simfleet.ROOT
AGENCY = "A330100"


@pytest.fixture(scope="module")
def world():
    return sample.World(n_agencies=2, n_badges=8)


@pytest.fixture(scope="module")
def fleet(world, tmp_path_factory):
    """Badges 0, 1, 2 of `world` (0 and 2 of agency A330100)."""
    f = simfleet.Fleet(3, tmp_path_factory.mktemp("desk-fleet"), world=world).start()
    yield f
    f.stop()


class Server:
    """The verifier app on 127.0.0.1:<port>, stopped and started on the same port; `delay_s`
    holds the answer to POST /api/v1/checkins after the batch was committed."""

    def __init__(self, app):
        # a port of this test worker's own range, not an ephemeral one: the server stops and
        # starts again on it, and in between an outgoing connection (Chromium's, another
        # test's) could take an ephemeral port (hardware/sim/ports.py)
        self.app, self.delay_s, self.srv, self.port = app, 0.0, None, free_port()
        self.ingested = threading.Event()

    def wsgi(self, environ, start_response):
        body = list(self.app(environ, start_response))
        if environ["PATH_INFO"] == "/api/v1/checkins":
            self.ingested.set()
            time.sleep(self.delay_s)
        return body

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        self.srv = make_server("127.0.0.1", self.port, self.wsgi, threaded=True)
        self.port = self.srv.server_port
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.srv is not None:
            self.srv.shutdown()
            self.srv.server_close()
            self.srv = None


def _served(url, world):
    e = Env(make_app(url, world), world)
    e.server = Server(e.app)
    yield e
    e.server.stop()
    e.x.db.engine.dispose()


@pytest.fixture
def env(world, tmp_path):
    url = f"sqlite:///{tmp_path / 'verifier.sqlite'}"
    upgrade(url)
    yield from _served(url, world)


@pytest.fixture
def env_on(db_kind, world, request, tmp_path):       # noqa: F811
    """`env` on SQLite and on PostgreSQL (the verifier tests' database fixtures)."""
    yield from _served(new_database(db_kind, request, tmp_path), world)


def authority_hex(world):
    return wire.encode(wire.cose_key(world.authority.public_key())).hex()


def desk_for(env, directory):
    """A DeskTerminal of agency A330100's terminal, trust list loaded, no status list yet."""
    os.makedirs(directory, exist_ok=True)
    clock = Clock(env.world.now)
    lists = Lists(directory, env.world.authority.public_key(), clock)
    lists.load_trust(env.world.trust_list)
    journal = Journal(str(directory / "journal.sqlite"))
    return DeskTerminal(env.terminals[AGENCY][0], AGENCY, journal, lists, clock)


def args(env, data, *extra):
    tid, token = env.terminals[AGENCY]
    return ["--verifier", env.server.url, "--token", token, "--terminal-id", tid,
            "--agency", AGENCY, "--authority-key", authority_hex(env.world), "--data",
            str(data), "--now", str(env.world.now), "--no-colour", *extra]


def tap(env, data, badge, *extra):
    out = io.StringIO()
    rc = main(args(env, data, "--device", badge.path, "--taps", "1", "--hold-s", "0.1",
                   "--cooldown-s", "0", *extra), out=out)
    assert rc == 0, out.getvalue()
    return out.getvalue()


def journal_rows(data):
    db = sqlite3.connect(str(data / "journal.sqlite"))
    try:
        return db.execute("SELECT id, token, verdict, state, result, reason FROM checkins "
                          "ORDER BY id").fetchall()
    finally:
        db.close()


def verifier_tokens(env):
    with env.x.db.session() as s:
        return sorted(bytes(t) for t in s.scalars(select(Checkin.token)))


def test_offline_checkins_arrive_exactly_once_despite_a_kill_mid_upload(env, fleet, tmp_path):
    data = tmp_path / "terminal"
    env.server.start()
    out = io.StringIO()
    assert main(args(env, data, "--sync-only", "--sync-wait-s", "20"), out=out) == 0
    assert (data / "lists" / AGENCY / "manifest.cose").exists(), out.getvalue()
    env.server.stop()                                      # the network goes away

    outs = [tap(env, data, fleet.badges[i]) for i in (0, 2, 0, 2)]
    for o in outs:
        assert "GREEN" in o and "list seq 1" in o, o
    rows = journal_rows(data)
    assert [(r[2], r[3]) for r in rows] == [("accepted", "pending")] * 4
    assert verifier_tokens(env) == []

    # the verifier is back but slow to answer; the terminal dies after batch 1 was committed
    env.server.delay_s = 5.0
    env.server.start()
    proc = subprocess.Popen([sys.executable, "-m", "host.terminal",
                             *args(env, data, "--sync-only", "--batch", "2",
                                   "--sync-wait-s", "30")],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert env.server.ingested.wait(30)
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert len(verifier_tokens(env)) == 2                  # batch 1 is in the verifier ...
    assert [r[3] for r in journal_rows(data)] == ["pending"] * 4   # ... but not marked

    env.server.delay_s = 0.0
    out = io.StringIO()
    assert main(args(env, data, "--sync-only", "--batch", "2", "--sync-wait-s", "30"),
                out=out) == 0, out.getvalue()
    rows = journal_rows(data)
    assert [r[3] for r in rows] == ["synced"] * 4
    assert sorted(r[4] for r in rows) == ["accepted", "accepted", "duplicate", "duplicate"]
    # exactly the journaled check-ins, each once, none invented
    assert verifier_tokens(env) == sorted(bytes(r[1]) for r in rows)


def test_revoked_badge_is_red_offline_from_the_cached_compact_list(env, fleet, tmp_path):
    data = tmp_path / "terminal"
    env.server.start()
    assert main(args(env, data, "--sync-only", "--sync-wait-s", "20")) == 0
    r = env.client.post(f"/api/v1/agencies/{AGENCY}/badges/{env.badge_ids[2]}/revoke",
                        json={"reason": "lost and replaced"}, headers=env.auth(AGENCY))
    assert r.status_code == 200, r.json
    assert main(args(env, data, "--sync-only", "--sync-wait-s", "20")) == 0  # takes the delta
    assert (data / "lists" / AGENCY / "delta.cose").exists()
    env.server.stop()

    o = tap(env, data, fleet.badges[2])
    assert "RED" in o and "revoked" in o and "list seq 2" in o, o
    o = tap(env, data, fleet.badges[0])
    assert "GREEN" in o, o
    rows = journal_rows(data)
    assert [(r[2], r[3]) for r in rows] == [("revoked", "local"), ("accepted", "pending")]


def test_wrong_agency_badge_is_red(env, fleet, tmp_path):
    desk = desk_for(env, tmp_path / "t")
    clf = reader.frontend(fleet.badges[1].path)
    try:
        v, _ = desk.tap(clf)
    finally:
        clf.close()
    assert (v.code, v.colour) == ("wrong_agency", "red")
    assert desk.journal.counts() == {"local": 1}


def test_a_bureau_ban_is_red_at_both_agencies_desks_after_their_list_update(env_on, fleet,
                                                                           tmp_path):
    """One person enrolled at A330100 (badge 0) and A330101 (badge 1), banned by the bureau:
    each agency's desk terminal takes its list's delta and shows the badge red offline."""
    from tests.host.test_idnumber import GOOD
    env = env_on

    other = "A330101"

    def args_of(agency, data, *extra):
        a = args(env, data, *extra)
        tid, token = env.terminals[agency]
        a[a.index("--token") + 1], a[a.index("--terminal-id") + 1] = token, tid
        a[a.index("--agency") + 1] = agency
        return a

    env.server.start()
    desks = {AGENCY: tmp_path / "desk-a", other: tmp_path / "desk-b"}
    for agency, data in desks.items():
        assert main(args_of(agency, data, "--sync-only", "--sync-wait-s", "20")) == 0
    ban = env.enrol_and_ban(((AGENCY, "W-0000000"), (other, "W-0000001")), GOOD)
    assert ban["badges_revoked"] == 2, ban
    for agency, data in desks.items():
        assert main(args_of(agency, data, "--sync-only", "--sync-wait-s", "20")) == 0
    env.server.stop()
    for agency, badge in ((AGENCY, fleet.badges[0]), (other, fleet.badges[1])):
        out = io.StringIO()
        rc = main(args_of(agency, desks[agency], "--device", badge.path, "--taps", "1",
                          "--hold-s", "0.1", "--cooldown-s", "0"), out=out)
        o = out.getvalue()
        assert rc == 0 and "RED" in o and "revoked" in o and "list seq 2" in o, o
