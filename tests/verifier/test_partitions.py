"""The monthly partitions of attendance (migration 0022; services/partitions.py; `flask
attendance-partitions`): months ahead created once (the second run has nothing to do), SQLite
has nothing to partition; on PostgreSQL a check-in of a month nobody created lands in the
default partition, and creating that month moves its rows into the new partition without
counting them twice in the rollup."""
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from host.wire import sample
from tests.verifier.conftest import Env, make_app, new_database
from verifier.services import partitions, rollup

SH = ZoneInfo("Asia/Shanghai")


def ts(*args):
    return int(datetime(*args, tzinfo=SH).timestamp())


def test_the_command_creates_the_months_ahead_once(db_url):
    app = make_app(db_url, sample.World(n_agencies=1, n_badges=1), FIXED_NOW=ts(2031, 11, 10))
    x = app.extensions["xinka"]
    run = app.test_cli_runner()
    out = run.invoke(args=["attendance-partitions", "--ahead", "2"])
    assert out.exit_code == 0, out.output
    if x.db.engine.dialect.name == "sqlite":
        assert "nothing to do" in out.output
        with x.db.session() as s:
            assert partitions.attached(s) == {}
        return
    assert out.output.splitlines() == ["attendance_2031_11 created", "attendance_2031_12 created",
                                       "attendance_2032_01 created"]
    with x.db.session() as s:
        parts = partitions.attached(s)
        assert parts["attendance_2032_01"] == "FOR VALUES IN ('2032-01')"
        assert parts[partitions.DEFAULT] == "DEFAULT"
    again = run.invoke(args=["attendance-partitions", "--ahead", "2"])
    assert again.exit_code == 0 and again.output.startswith(
        "nothing to do: 2031-11..2032-01 have their partitions"), again.output
    with x.db.session() as s:
        assert partitions.attached(s) == parts
    x.db.engine.dispose()


def where(env):
    """worker_ref -> the partition holding its January row."""
    with env.x.db.session() as s:
        return dict(s.execute(text("SELECT worker_ref, tableoid::regclass::text FROM attendance "
                                   "WHERE period = '2027-01'")).all())


def counters(env):
    with env.x.db.session() as s:
        got = rollup.stored(s)
        assert got == rollup.live(s)
        return got


def test_an_unforeseen_month_goes_to_the_default_then_into_its_partition(request, tmp_path):
    world = sample.World(n_agencies=2, n_badges=8)
    env = Env(make_app(new_database("postgresql", request, tmp_path), world), world)
    a = world.agencies[0].id
    with env.x.db.session() as s:                   # nobody created January 2027
        if "attendance_2027_01" in partitions.attached(s):
            s.execute(text("ALTER TABLE attendance DETACH PARTITION attendance_2027_01"))
            s.execute(text("DROP TABLE attendance_2027_01"))
    jan = ts(2027, 1, 1, 9)
    r = env.post_checkins(a, [env.checkin_item(0, t=jan), env.checkin_item(2, t=jan),
                              env.checkin_item(0, t=jan + 60)])
    assert r.json["summary"] == {"accepted": 3}        # the ingest did not fail
    assert where(env) == {"W-0000000": "attendance_default", "W-0000002": "attendance_default"}
    before = counters(env)
    assert before[0][(a, "2027-01")] == (2, 2, 3)
    out = env.app.test_cli_runner().invoke(args=["attendance-partitions", "--ahead", "0"])
    assert out.exit_code == 0, out.output
    assert "attendance_2027_01 created, 2 row(s) moved out of attendance_default" in out.output
    assert where(env) == {"W-0000000": "attendance_2027_01", "W-0000002": "attendance_2027_01"}
    assert counters(env) == before                    # moved, not counted again
    r = env.post_checkins(a, [env.checkin_item(4, t=jan + 5), env.checkin_item(2, t=jan + 9)])
    assert r.json["summary"] == {"accepted": 2}
    assert set(where(env).values()) == {"attendance_2027_01"}
    assert counters(env)[0][(a, "2027-01")] == (3, 3, 5)
    env.x.db.engine.dispose()


@pytest.mark.parametrize("period", ["2027-13", "x"])
def test_a_period_that_is_no_month_has_no_partition(period):
    with pytest.raises(ValueError):
        partitions.name(period)
