"""A revocation reaches every verifier process within the stated bound (docs/verifier.md,
"Status lists in several processes"): two server processes on one database serve fresh status
taps of a badge, without pause, while a third process revokes it; every tap sent later than
STATUS_CHECK_MS + the reload allowance after the revocation committed is refused as revoked,
by both processes."""
import json
import threading
import time
import urllib.error
import urllib.request

import pytest

from tests.verifier.conftest import Env, make_app, new_database
from tests.verifier.test_concurrency import N_BADGES, Server
from host.wire import sample

CHECK_MS = 500
BOUND_S = CHECK_MS / 1000 + 0.5       # the stated bound: one version read + one reload
AFTER = 15                            # taps per process after the bound before stopping


def tap(port, badge):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/verify",
                                 data=badge.tap("status") + badge.credential, method="POST",
                                 headers={"Content-Type": "application/cbor"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_revocation_reaches_both_processes_within_the_bound(kind, request, tmp_path):
    url = new_database(kind, request, tmp_path)
    world = sample.World(n_agencies=2, n_badges=N_BADGES)
    env = Env(make_app(url, world), world)
    a, badge = world.agencies[0].id, world.badges[0]
    assert badge.agency_id == a
    servers = [Server(url, check_ms=CHECK_MS) for _ in range(2)]
    started, committed = [], []         # perf_counter(): revocation sent / committed
    log = {0: [], 1: []}                # (sent, answered, status, reason) per process
    stop, one_at_a_time = threading.Event(), threading.Lock()   # the badge's counter rises

    def client(k):
        while not stop.is_set():
            with one_at_a_time:
                sent = time.perf_counter()
                status, body = tap(servers[k].port, badge)
            log[k].append((sent, time.perf_counter(), status, body.get("reason")))
            if committed and sum(1 for e in log[k] if e[0] > committed[0] + BOUND_S) >= AFTER:
                return

    threads = [threading.Thread(target=client, args=(k,)) for k in (0, 1)]
    try:
        for t in threads:
            t.start()
        while min(len(log[0]), len(log[1])) < 5:      # both serve valid taps first
            time.sleep(0.01)
        started.append(time.perf_counter())
        r = env.client.post(f"/api/v1/agencies/{a}/badges/{env.badge_ids[0]}/revoke",
                            json={"reason": "left"}, headers=env.auth(a))
        committed.append(time.perf_counter())
        assert r.status_code == 200 and r.json["status_list"] == "published", r.json
        for t in threads:
            t.join(120)
        stop.set()
    finally:
        stop.set()
        for s in servers:
            s.kill()
        env.x.db.engine.dispose()
    for k in (0, 1):
        before = [e for e in log[k] if e[1] < started[0]]     # answered before the revocation
        after = [e for e in log[k] if e[0] > committed[0] + BOUND_S]
        assert before and all(e[2] == 200 for e in before), before[:3]
        assert len(after) >= AFTER
        assert all((e[2], e[3]) == (422, "revoked") for e in after), \
            [e for e in after if e[2] != 422][:3]
        # every tap at all was either valid or revoked: nothing else went wrong
        assert {(e[2], e[3]) for e in log[k]} <= {(200, None), (422, "revoked")}
