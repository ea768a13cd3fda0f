"""The missing-only attendance query: GET …/attendance/missing, keyset-paginated by worker id."""
from verifier.models import Attendance
from verifier.services import registry

PERIOD = "2027-01"


def _url(agency_id, **q):
    args = "&".join(f"{k}={v}" for k, v in {"period": PERIOD, **q}.items())
    return f"/api/v1/agencies/{agency_id}/attendance/missing?{args}"


def _present(env, agency_id, refs, period=PERIOD):
    with env.x.db.session() as s:
        for ref in refs:
            s.add(Attendance(agency_id=agency_id, period=period, worker_ref=ref, first_at=0,
                             last_at=0, first_terminal="T", last_terminal="T", count=1))


def _add_workers(env, agency_id, refs, created_at=None):
    now = env.world.now
    with env.x.db.session() as s:
        return [registry.create_worker(s, agency_id, ref, created_at or now - 86400, "test").id
                for ref in refs]


def _walk(env, agency_id, limit, auth=None):
    """Every page from the first; (worker ids in order, number of pages)."""
    ids, cursor, pages = [], None, 0
    while True:
        q = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        r = env.client.get(_url(agency_id, **q), headers=auth or env.auth(agency_id))
        assert r.status_code == 200, r.json
        assert len(r.json["missing"]) <= limit
        ids += [m["worker_id"] for m in r.json["missing"]]
        pages += 1
        cursor = r.json["next_cursor"]
        if cursor is None:
            return ids, pages


def test_missing_set_across_pages_matches_the_full_report(env):
    a = env.world.agencies[0].id                     # badges 0, 2, 4, 6
    extra = _add_workers(env, a, [f"X-{i:03d}" for i in range(20)])
    _present(env, a, [f"X-{i:03d}" for i in range(0, 20, 3)])   # 7 of the 20 present
    env.post_checkins(a, [env.checkin_item(2)])      # a real check-in in 2027-01 too
    ids, pages = _walk(env, a, 3)
    full = env.client.get(f"/api/v1/agencies/{a}/attendance?period={PERIOD}",
                          headers=env.auth(a)).json
    assert sorted({m["worker_id"] for m in full["missing"]}) == ids   # same set, id order
    assert len(ids) == len(set(ids)) == 3 + 13       # W-0, W-4, W-6 and 13 of the extras
    assert env.workers[2] not in ids and extra[0] not in ids and extra[1] in ids
    assert pages == 6                                # 16 in pages of 3
    one = env.client.get(_url(a, limit=16), headers=env.auth(a)).json
    assert [m["worker_id"] for m in one["missing"]] == ids and one["next_cursor"] is None
    assert one["missing"][0] == {"worker_id": env.workers[0], "worker_ref": "W-0000000",
                                 "name": "工人0"}


def test_cursor_is_stable_across_changes(env):
    a = env.world.agencies[0].id
    _add_workers(env, a, [f"X-{i:03d}" for i in range(6)])
    first = env.client.get(_url(a, limit=3), headers=env.auth(a)).json
    cursor = first["next_cursor"]
    second = env.client.get(_url(a, limit=3, cursor=cursor), headers=env.auth(a)).json
    again = env.client.get(_url(a, limit=3, cursor=cursor), headers=env.auth(a)).json
    assert again == second
    # a worker on the first page checks in and a new worker is registered: the page after
    # the cursor neither repeats nor skips anyone; the newcomer comes last
    _present(env, a, [first["missing"][0]["worker_ref"]])
    (newcomer,) = _add_workers(env, a, ["X-new"])
    assert env.client.get(_url(a, limit=3, cursor=cursor), headers=env.auth(a)).json == second
    ids, _ = _walk(env, a, 3)
    assert ids[-1] == newcomer and first["missing"][0]["worker_id"] not in ids
    # a cursor is bound to its period and must be one the server made
    r = env.client.get(f"/api/v1/agencies/{a}/attendance/missing?period=2027-02&cursor={cursor}",
                       headers=env.auth(a))
    assert (r.status_code, r.json["reason"]) == (400, "bad_cursor")
    for bad in ("%%%", "bm90LWEtY3Vyc29y", "MjAyNy0wMTp4"):    # not base64, no colon, not int
        r = env.client.get(_url(a, cursor=bad), headers=env.auth(a))
        assert (r.status_code, r.json["reason"]) == (400, "bad_cursor"), bad
    for bad in ("0", "5001", "ten"):
        assert env.client.get(_url(a, limit=bad), headers=env.auth(a)).status_code == 400


def test_cancelled_and_later_workers_are_excluded(env):
    a = env.world.agencies[0].id
    wid = env.workers[4]
    r = env.client.post(f"/api/v1/agencies/{a}/workers/{wid}/cancel", json={"reason": "注销"},
                        headers=env.auth(a))
    assert r.status_code == 200
    # registered after 2027-01 ended: not missing in 2027-01
    _add_workers(env, a, ["X-late"], created_at=env.world.now + 86400 * 40)
    ids, _ = _walk(env, a, 2)
    assert ids == sorted([env.workers[0], env.workers[2], env.workers[6]])


def test_another_agency_is_refused(env):
    a, b = env.world.agencies[0].id, env.world.agencies[1].id
    r = env.client.get(_url(a), headers=env.auth(b))
    assert (r.status_code, r.json["reason"]) == (403, "forbidden")
    assert env.client.get(_url(a)).status_code == 401
    cursor = env.client.get(_url(a, limit=1), headers=env.auth(a)).json["next_cursor"]
    assert env.client.get(_url(a, limit=1, cursor=cursor),
                          headers=env.auth(b)).status_code == 403
    ids, _ = _walk(env, a, 10, auth=env.auth())      # the operator reaches every agency
    assert ids == sorted(env.workers[i] for i in (0, 2, 4, 6))
    assert env.client.get(_url("NOPE"), headers=env.auth()).status_code == 404
    assert env.client.get(f"/api/v1/agencies/{a}/attendance/missing?period=2027-13",
                          headers=env.auth(a)).status_code == 400
