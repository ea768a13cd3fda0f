"""The per-(agency, month) rollup (migration 0022; services/rollup.py) kept by triggers in the
writing transaction equals a count of the raw rows, in Python, after check-ins through the
real API: new ones in two months, the same batch again (duplicates), more check-ins of a
worker, a cancelled worker (its attendance stays, it is no longer active), a batch that fails
halfway (a row's insert refused by a trigger the test adds: nothing of it may be counted), a
worker registered after its check-ins; and the check-in table of the month read from it says
what the raw rows say. On PostgreSQL a transaction also reads its own pending changes. SQLite
and PostgreSQL."""
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from verifier.models import Attendance, Checkin, RollupDelta, Worker
from verifier.services import registry, rollup
from verifier.services.periods import bounds

SH = ZoneInfo("Asia/Shanghai")


def ts(*args):
    return int(datetime(*args, tzinfo=SH).timestamp())


DEC, JAN = ts(2026, 12, 20, 9), ts(2027, 1, 1, 9)   # world.now: 1 January 2027, 18:40


def raw(env):
    """The counters from the raw rows, counted in Python."""
    with env.x.db.session() as s:
        att = list(s.scalars(select(Attendance)))
        workers = list(s.scalars(select(Worker)))
    active = {(w.agency_id, w.worker_ref) for w in workers if w.state == "active"}
    out = {}
    for r in att:
        n, act, c = out.get((r.agency_id, r.period), (0, 0, 0))
        out[(r.agency_id, r.period)] = (n + 1, act + ((r.agency_id, r.worker_ref) in active),
                                        c + r.count)
    per_agency = {}
    for a, _ in active:
        per_agency[a] = per_agency.get(a, 0) + 1
    return out, per_agency


def stored(env):
    with env.x.db.session() as s:
        assert s.scalar(select(func.count()).select_from(RollupDelta)) == 0   # all folded
        return rollup.stored(s)


def fail_on(env, worker_ref):
    """A trigger that refuses the attendance row of `worker_ref`, so that a batch fails after
    its other rows were written."""
    with env.x.db.session() as s:
        if env.x.db.engine.dialect.name == "postgresql":
            s.execute(text(
                "CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"IF NEW.worker_ref = '{worker_ref}' THEN RAISE EXCEPTION 'refused by the "
                "test'; END IF; RETURN NEW; END $$"))
            s.execute(text("CREATE TRIGGER test_refuse BEFORE INSERT OR UPDATE ON attendance "
                           "FOR EACH ROW EXECUTE FUNCTION test_refuse()"))
        else:
            s.execute(text(
                "CREATE TRIGGER test_refuse BEFORE INSERT ON attendance "
                f"WHEN NEW.worker_ref = '{worker_ref}' BEGIN "
                "SELECT RAISE(ABORT, 'refused by the test'); END"))


def drop_fail(env):
    with env.x.db.session() as s:
        s.execute(text("DROP TRIGGER test_refuse ON attendance"
                       if env.x.db.engine.dialect.name == "postgresql"
                       else "DROP TRIGGER test_refuse"))


def test_the_rollup_equals_a_count_of_the_raw_rows(env):
    a = env.world.agencies[0].id                     # badges 0, 2, 4, 6
    first = [env.checkin_item(0, t=DEC), env.checkin_item(2, t=DEC + 60),
             env.checkin_item(0, t=JAN), env.checkin_item(4, t=JAN + 5)]
    r = env.post_checkins(a, first)
    assert r.json["summary"] == {"accepted": 4}
    counts = stored(env)
    assert counts == raw(env)
    assert counts[0][(a, "2026-12")] == (2, 2, 2) and counts[1][a] == 4
    # the same batch again: duplicates, nothing counted twice
    assert env.post_checkins(a, first).json["summary"] == {"duplicate": 4}
    assert stored(env) == counts
    # more check-ins of a worker in a month: one worker, more check-ins
    more = [env.checkin_item(0, t=JAN + 60), env.checkin_item(0, t=JAN + 120),
            env.checkin_item(6, t=JAN + 10)]
    assert env.post_checkins(a, more).json["summary"] == {"accepted": 3}
    counts = stored(env)
    assert counts == raw(env)
    assert counts[0][(a, "2027-01")] == (3, 3, 5)
    # a cancelled worker: its attendance stays, no longer an active worker's
    r = env.client.post(f"/api/v1/agencies/{a}/workers/{env.workers[0]}/cancel",
                        json={"reason": "注销"}, headers=env.auth(a))
    assert r.status_code == 200
    counts = stored(env)
    assert counts == raw(env)
    assert counts[0][(a, "2026-12")] == (2, 1, 2) and counts[0][(a, "2027-01")] == (3, 2, 5)
    assert counts[1][a] == 3
    # a batch that fails halfway: W-0000002's attendance row refused, the batch's other
    # rows written before it (key order) or not: nothing of it may count
    with env.x.db.session() as s:
        checkins_before = s.scalar(select(func.count()).select_from(Checkin))
    fail_on(env, "W-0000002")
    with pytest.raises(DBAPIError):
        env.post_checkins(a, [env.checkin_item(4, t=JAN + 200), env.checkin_item(6, t=DEC),
                              env.checkin_item(2, t=JAN + 300)])
    drop_fail(env)
    with env.x.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Checkin)) == checkins_before
    assert stored(env) == counts == raw(env)
    # a check-in of a reference with no worker yet, then the worker registered
    other = env.world.agencies[1].id
    with env.x.db.session() as s:
        s.execute(text("INSERT INTO attendance (agency_id, period, worker_ref, first_at, "
                       "last_at, first_terminal, last_terminal, count) VALUES (:a, '2027-01', "
                       "'W-later', :t, :t, 'T', 'T', 2)"), {"a": other, "t": JAN})
    assert stored(env)[0][(other, "2027-01")] == (1, 0, 2)
    with env.x.db.session() as s:
        registry.create_worker(s, other, "W-later", env.world.now, "test")
    counts = stored(env)
    assert counts == raw(env)
    assert counts[0][(other, "2027-01")] == (1, 1, 2)


def test_a_transaction_reads_its_own_changes(env):
    """PostgreSQL folds a transaction's deltas when it commits; until then it reads them
    beside the counters (and its rollback takes them away)."""
    a = env.world.agencies[0].id
    env.post_checkins(a, [env.checkin_item(0, t=JAN)])
    with env.x.db.Session() as s:
        w = s.scalar(select(Worker).where(Worker.agency_id == a, Worker.worker_ref == "W-0000000"))
        w.state = "cancelled"
        s.flush()
        assert rollup.stored(s)[0][(a, "2027-01")] == (1, 0, 1)
        assert rollup.active_workers(s, a) == {a: 3}
        s.rollback()
    assert stored(env)[0][(a, "2027-01")] == (1, 1, 1)


def test_the_month_table_says_what_the_raw_rows_say(env):
    """Registered before the period ended, of them checked in, missing; a past month takes
    off a worker registered after it ended."""
    a, b = env.world.agencies[0].id, env.world.agencies[1].id
    env.post_checkins(a, [env.checkin_item(0, t=DEC), env.checkin_item(2, t=JAN),
                          env.checkin_item(2, t=JAN + 1)])
    with env.x.db.session() as s:
        late = registry.create_worker(s, a, "W-new", JAN, "test")
        s.execute(text("INSERT INTO attendance (agency_id, period, worker_ref, first_at, "
                       "last_at, first_terminal, last_terminal, count) VALUES (:a, '2026-12', "
                       "'W-new', :t, :t, 'T', 'T', 1)"), {"a": a, "t": DEC})
    assert late.created_at >= bounds("2026-12")[1]
    with env.x.db.session() as s:
        dec = rollup.month_table(s, "2026-12", bounds("2026-12")[1])
        jan = rollup.month_table(s, "2027-01", bounds("2027-01")[1])
    keys = ("active_workers", "registered", "checked_in", "missing", "workers_checked_in",
            "checkins", "checkin_rate")
    # agency a: 5 active workers, W-new registered on 1 January with a December check-in
    # (not counted as registered in December, nor as checked in), W-0000000 checked in in
    # December, W-0000002 twice in January
    assert {k: dec[a][k] for k in keys} == {
        "active_workers": 5, "registered": 4, "checked_in": 1, "missing": 3,
        "workers_checked_in": 2, "checkins": 2, "checkin_rate": 0.25}
    assert {k: jan[a][k] for k in keys} == {
        "active_workers": 5, "registered": 5, "checked_in": 1, "missing": 4,
        "workers_checked_in": 1, "checkins": 2, "checkin_rate": 0.2}
    assert (dec[b]["registered"], dec[b]["checked_in"], dec[b]["checkin_rate"]) == (4, 0, 0.0)


def test_the_bureau_reads_the_table_of_a_month(env):
    """GET /api/v1/bureau/attendance: every agency's row (JSON or CSV), for the bureau only."""
    a, b = env.world.agencies[0].id, env.world.agencies[1].id
    env.post_checkins(a, [env.checkin_item(0, t=DEC), env.checkin_item(2, t=JAN)])
    with env.x.db.session() as s:
        key = registry.create_api_key(s, None, "bureau", env.world.now, "test", role="bureau")
    bureau = {"Authorization": f"Bearer {key}"}
    r = env.client.get("/api/v1/bureau/attendance?period=2026-12", headers=bureau)
    assert r.status_code == 200
    rows = {row["agency"]: row for row in r.json["agencies"]}
    assert r.json["period"] == "2026-12" and set(rows) == {a, b}
    assert (rows[a]["registered"], rows[a]["checked_in"], rows[a]["missing"],
            rows[a]["checkin_rate"]) == (4, 1, 3, 0.25)
    now = env.client.get("/api/v1/bureau/attendance", headers=bureau).json
    assert now["period"] == "2027-01"
    assert {row["agency"]: row["checked_in"] for row in now["agencies"]} == {a: 1, b: 0}
    csv = env.client.get("/api/v1/bureau/attendance?period=2026-12&format=csv",
                         headers=bureau).text.splitlines()
    assert csv[0] == ",".join(rollup.TABLE_COLUMNS)
    assert csv[1].startswith(f"{a},2026-12,4,4,1,3,0.25,1,1")
    assert env.client.get("/api/v1/bureau/attendance?period=2026-13",
                          headers=bureau).status_code == 400
    assert env.client.get("/api/v1/bureau/attendance", headers=env.auth(a)).status_code == 403
