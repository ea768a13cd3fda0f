"""Fixtures for the ESP32 terminal: firmware build, simulated badges (hardware/sim/fleet.py),
a real verifier app served on 127.0.0.1 (tests/verifier/conftest.py's Env: trust list imported,
agencies, terminals with tokens, badges registered), and a provisioned SimTerminal."""
import json
import threading
from email.utils import formatdate

import pytest
from cryptography.hazmat.primitives import serialization
from werkzeug.serving import make_server

from hardware.sim import fleet as simfleet
from hardware.sim import terminal as simterminal
from hardware.sim.ports import free_port
from host.wire import compact, sample

N_BADGES = 3
REVOKED_BADGE = 2


@pytest.fixture(scope="session")
def world():
    return sample.World(n_agencies=2, n_badges=N_BADGES)


@pytest.fixture(scope="session")
def build(tmp_path_factory):
    """Badge and terminal firmware + simulation modules, compiled once (one build folder)."""
    out = tmp_path_factory.mktemp("term-mpy")
    simfleet.build(out)
    return simterminal.build(out)


@pytest.fixture(scope="session")
def fleet(build, world, tmp_path_factory):
    f = simfleet.Fleet(N_BADGES, tmp_path_factory.mktemp("badges"), build, world).start()
    yield f
    f.stop()


class Verifier:
    """The verifier app (tests/verifier/conftest.py make_app + Env) behind werkzeug on
    127.0.0.1:port; start()/stop() make it reachable or not. The Date header carries the
    app's clock (FIXED_NOW in tests), as a verifier's own clock would."""

    def __init__(self, env, port):
        self.env = env
        self.port = port
        self.server = None
        self.posts = 0
        app = env.app

        def wsgi(environ, start_response):
            if environ.get("PATH_INFO") == "/api/v1/checkins":
                self.posts += 1

            def sr(status, headers, exc=None):
                headers = [h for h in headers if h[0].lower() != "date"]
                headers.append(("Date", formatdate(env.x.now(), usegmt=True)))
                return start_response(status, headers, exc) if exc else \
                    start_response(status, headers)
            return app.wsgi_app(environ, sr)
        self.wsgi = wsgi

    def start(self):
        self.server = make_server("127.0.0.1", self.port, self.wsgi, threaded=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def checkins(self):
        from verifier.models import Checkin
        with self.env.x.db.session() as s:
            return [(c.nonce, c.terminal_id, c.badge_kid, c.seen_at)
                    for c in s.query(Checkin).all()]


@pytest.fixture
def verifier(tmp_path, world, request):
    from tests.verifier.conftest import Env, make_app
    from verifier.migrate import upgrade
    path = tmp_path / "verifier.sqlite"
    upgrade(f"sqlite:///{path}")
    app = make_app(f"sqlite:///{path}", world)
    v = Verifier(Env(app, world), free_port())
    yield v
    v.stop()
    v.env.x.db.engine.dispose()


def sec1(pub):
    return pub.public_bytes(serialization.Encoding.X962,
                            serialization.PublicFormat.UncompressedPoint)


def compact_files(world, agency_id, revoked=(), suspended=(), seq=1):
    """status/<agency>/manifest + chunks for the terminal, built by the host codec."""
    n = 64
    raw = bytearray(n // 4)
    for i in revoked:
        raw[i // 4] |= 1 << (2 * (i % 4))
    for i in suspended:
        raw[i // 4] |= 2 << (2 * (i % 4))
    man, chunks = compact.build(world.agency_keys[agency_id], world.status_uri(agency_id), seq,
                                world.now - 600, world.now + 86400, 3600, bytes(raw))
    return {f"status/{agency_id}/manifest": man,
            f"status/{agency_id}/chunks": b"".join(chunks)}


def terminal_files(world, terminal_id, verifier_port, token, cooldown_s=0, capacity=1000,
                   revoked=(REVOKED_BADGE,)):
    cfg = {"id": terminal_id, "authority": sec1(world.authority.public_key()).hex(),
           "verifier": {"host": "127.0.0.1", "port": verifier_port, "token": token},
           "cooldown_s": cooldown_s, "capacity": capacity, "batch": 20, "backoff_s": 1}
    files = {"terminal.json": json.dumps(cfg).encode(), "trust.cose": world.trust_list}
    for a in world.agencies:
        files.update(compact_files(world, a.id, [i for i in revoked
                                                 if world.badges[i].agency_id == a.id]))
    return files


@pytest.fixture
def make_terminal(build, world, tmp_path, request):
    """make_terminal(badge_index, verifier, **cfg) -> started SimTerminal at badge i's agency.
    `t.badge` is the simulated badge on `port` when the test has the fleet (see tap())."""
    made = []

    def make(i, verifier, name="t", port=None, **kw):
        aid = world.badges[i].agency_id
        tid, token = verifier.env.terminals[aid]
        t = simterminal.SimTerminal(tmp_path / name, build, port, world.now - 120)
        t.badge = None
        if port is not None and "fleet" in request.fixturenames:
            t.badge = next((b for b in request.getfixturevalue("fleet").badges
                            if b.port == port), None)
        t.provision(terminal_files(world, tid, verifier.port, token, **kw)).start()
        made.append(t)
        return t
    yield make
    for t in made:
        t.stop()
