"""Real HTTP server processes on 127.0.0.1: 8 parallel clients re-sending overlapping
batches record each check-in exactly once (PostgreSQL); SIGKILL mid-batch loses no
acknowledged check-in and leaves no half-written one."""
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest
from sqlalchemy import func, select, text

from host.wire import sample
from tests.verifier.conftest import Env, make_app, new_database
from hardware.sim.ports import free_port
from verifier.models import Attendance, Checkin, Tap
from verifier.services import rollup

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
N_BADGES = 16


class Server:
    def __init__(self, url, check_ms=None):
        self.url, self.port = url, free_port()
        extra = [] if check_ms is None else [str(check_ms)]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "testkit.verifier_server", url, str(self.port), str(N_BADGES),
             *extra],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1)
                return
            except OSError:
                time.sleep(0.05)
        self.kill()
        raise RuntimeError("server did not start")

    def post(self, token, items, timeout=60):
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/api/v1/checkins",
            data=json.dumps({"items": items}).encode(), method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.loads(r.read())

    def kill(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()


def setup(url, n_items):
    world = sample.World(n_agencies=2, n_badges=N_BADGES)
    env = Env(make_app(url, world), world)
    a = world.agencies[0].id
    mine = [i for i, b in enumerate(world.badges) if b.agency_id == a]
    items = [env.checkin_item(mine[k % len(mine)], t=world.now - 3000 + k)
             for k in range(n_items)]
    return env, a, items


def counts(env):
    """Check-ins, taps, the attendance counts' sum, the nonces; and the rollup the triggers
    kept (migration 0022) is what the raw rows count, whatever the batches' interleaving."""
    with env.x.db.session() as s:
        assert rollup.stored(s) == rollup.live(s)
        return (s.scalar(select(func.count()).select_from(Checkin)),
                s.scalar(select(func.count()).select_from(Tap)),
                s.scalar(select(func.coalesce(func.sum(Attendance.count), 0))),
                set(s.scalars(select(Checkin.nonce))))


def test_eight_clients_overlapping_batches_exactly_once(request, tmp_path):
    url = new_database("postgresql", request, tmp_path)
    env, a, items = setup(url, 240)
    server = Server(url)
    token = env.terminals[a][1]
    accepted, errors = [], []

    def client(seed):
        rnd = random.Random(seed)
        try:
            for _ in range(6):
                batch = rnd.sample(items, 60)
                batch += rnd.sample(batch, 10)              # duplicates inside the batch
                res = server.post(token, batch)["results"]
                accepted.extend(batch[r["index"]]["receipt"]["nonce"] for r in res
                                if r["result"] == "accepted")
                assert all(r["result"] in ("accepted", "duplicate") for r in res), res
            # finally every client sends everything once more
            res = server.post(token, items)["results"]
            accepted.extend(items[r["index"]]["receipt"]["nonce"] for r in res
                            if r["result"] == "accepted")
        except Exception as err:     # noqa: BLE001 - reported below
            errors.append(repr(err))

    threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        server.kill()
    assert errors == []
    n_checkins, n_taps, att, nonces = counts(env)
    all_nonces = {i["receipt"]["nonce"] for i in items}
    assert n_checkins == n_taps == att == len(items)
    assert nonces == all_nonces
    assert sorted(accepted) == sorted(all_nonces)        # each acknowledged as new once
    env.x.db.engine.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_sigkill_mid_batch_loses_nothing_acknowledged(kind, request, tmp_path):
    url = new_database(kind, request, tmp_path)
    env, a, items = setup(url, 1500)
    batches = [items[k:k + 250] for k in range(0, len(items), 250)]
    token = env.terminals[a][1]
    server = Server(url)
    acked, failed = [], []

    def sender():
        for k, batch in enumerate(batches):
            try:
                res = server.post(token, batch)["results"]
            except (urllib.error.URLError, ConnectionError, OSError):
                failed.append(k)
                return
            assert all(r["result"] == "accepted" for r in res)
            acked.append(k)

    t = threading.Thread(target=sender)
    t.start()
    while not acked and t.is_alive():
        time.sleep(0.005)
    time.sleep(random.Random(7).uniform(0.02, 0.1))
    server.kill()
    t.join()
    assert acked and failed, "the kill must land while a batch is in flight"
    n_checkins, n_taps, att, nonces = counts(env)
    for k in acked:
        assert {i["receipt"]["nonce"] for i in batches[k]} <= nonces
    in_flight = {i["receipt"]["nonce"] for i in batches[failed[0]]}
    assert not (in_flight & nonces) or in_flight <= nonces     # all or nothing
    assert n_checkins == n_taps == att                          # nothing half-written
    # after a restart, re-sending everything completes the set exactly once
    server = Server(url)
    try:
        for batch in batches:
            res = server.post(token, batch)["results"]
            assert {r["result"] for r in res} <= {"accepted", "duplicate"}
    finally:
        server.kill()
    n_checkins, n_taps, att, nonces = counts(env)
    assert n_checkins == n_taps == att == len(items)
    with env.x.db.session() as s:
        assert s.execute(text("SELECT count(DISTINCT token_hash) FROM checkins")).scalar() \
            == len(items)
    env.x.db.engine.dispose()
