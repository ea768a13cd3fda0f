"""The national month on PostgreSQL, one run, ratios to each goal printed (docs/performance.md,
"The national month").

    .venv/bin/python bench/bench_national.py [--scale 1.0] [--rounds 5]
                                             [--history-share 0.05] [--explain]

Builds, in the throw-away cluster of testkit/pg.py, 15.35 M active workers in 19 000 agencies
(testkit/national.py: ten of 50 000, most under 1 000), a month of attendance for 92 % of them
and the eleven months before for `--history-share` of them, with the rollup counted once after
the load, then measures through the services, in rounds (each round asks every question once;
median and worst):

- the per-agency check-in table of the month, every agency (`rollup.month_table`, what the
  national export's and the bureau console's agency rows read): goal < 1 s; once beside it,
  the same table counted from the raw rows (as it was counted before migration 0022), which
  must agree;
- one agency's missing list, first page of 500 (`attendance.missing_page`), in the largest
  agency (50 000 workers): goal < 50 ms;
- that agency's whole missing list, page after page: goal < 1 s;
- one worker's 12-month history (`attendance.history`): goal < 10 ms;

and the bench process's resident memory. Where a goal is missed (or with --explain) it prints
EXPLAIN (ANALYZE, BUFFERS) of every statement the question ran. `--scale 0.001` is a smoke
run.
"""
import argparse
import pathlib
import statistics
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from sqlalchemy import and_, event, func, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from host.wire import sample  # noqa: E402
from testkit import national  # noqa: E402
from testkit.pg import Cluster  # noqa: E402
from verifier.db import make_engine  # noqa: E402
from verifier.migrate import upgrade  # noqa: E402
from verifier.models import Attendance, Worker  # noqa: E402
from verifier.services import attendance, rollup  # noqa: E402
from verifier.services.periods import bounds  # noqa: E402

NOW = sample.NOW + 25 * national.DAY          # 25 days into the national month ("2027-01")
TZ, START = national.TZ, national.START_DAY
PAGE = 500
GOALS = {"table": 1.0, "page": 0.050, "whole": 1.0, "history": 0.010}
LABELS = {"table": "check-in table of the month, every agency",
          "page": "missing list, first page of 500 (largest agency)",
          "whole": "missing list, every page (largest agency)",
          "history": "one worker's 12-month history"}


def rss():
    """(VmRSS, VmHWM) of this process in MB."""
    got = {}
    for line in pathlib.Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            got[key] = int(value.split()[0]) / 1024
    return got.get("VmRSS", 0.0), got.get("VmHWM", 0.0)


class Questions:
    def __init__(self, engine, nation):
        self.engine, self.nation = engine, nation
        self.period = nation.period
        self.end = bounds(self.period, TZ, START)[1]
        self.agency, self.lo, self.size = nation.largest()
        with Session(engine) as s:
            # a worker of the largest agency with all twelve months
            self.worker = s.scalar(
                select(Worker.id).where(Worker.agency_id == self.agency,
                                        Worker.created_at < bounds(nation.months[0], TZ,
                                                                   START)[0])
                .where(Worker.id % max(nation.history_every, 1) == 0,
                       (Worker.id * 31) % 100 >= national.MISSING_PCT)
                .order_by(Worker.id).limit(1))
        self.expect = {}

    def table(self, s):
        got = rollup.month_table(s, self.period, self.end)
        assert len(got) == len(self.nation.agencies), len(got)
        return got

    def page(self, s):
        got = attendance.missing_page(s, self.agency, self.period, TZ, START, PAGE)
        assert len(got["missing"]) == min(PAGE, self.expect["missing"])
        return got

    def whole(self, s):
        n, cursor = 0, None
        while True:
            got = attendance.missing_page(s, self.agency, self.period, TZ, START, PAGE, cursor)
            n += len(got["missing"])
            cursor = got["next_cursor"]
            if cursor is None:
                break
        assert n == self.expect["missing"], (n, self.expect["missing"])
        return n

    def history(self, s):
        got = attendance.history(s, self.agency, self.worker)
        assert len(got["periods"]) == (12 if self.nation.history_every else 1), got
        return got


def raw_table(s, period, end):
    """The month's table counted from the raw rows, the way aggregates counted it before the
    rollup: agency -> (registered, checked in)."""
    a, w = Attendance, Worker
    registered = dict(s.execute(select(w.agency_id, func.count())
                                .where(w.state == "active", w.created_at < end)
                                .group_by(w.agency_id)).all())
    present = dict(s.execute(select(a.agency_id, func.count())
                             .join(w, and_(w.agency_id == a.agency_id,
                                           w.worker_ref == a.worker_ref))
                             .where(a.period == period, w.state == "active",
                                    w.created_at < end)
                             .group_by(a.agency_id)).all())
    return {k: (n, present.get(k, 0)) for k, n in registered.items()}


def explain(engine, fn):
    """EXPLAIN (ANALYZE, BUFFERS) of every SELECT `fn(session)` runs, as text."""
    seen = []

    def record(_conn, _cursor, statement, parameters, _context, _many):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            seen.append((statement, parameters))
    event.listen(engine, "before_cursor_execute", record)
    try:
        with Session(engine) as s:
            fn(s)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    out = []
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        for statement, parameters in seen[:6]:
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
            out.append("\n".join(r[0] for r in cur.fetchall()))
        raw.rollback()
    finally:
        raw.close()
    return out


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--scale", type=float, default=1.0,
                   help="of 15.35 M workers and 19 000 agencies (0.001: a smoke run)")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--history-share", type=float, default=0.05,
                   help="workers with the eleven months before too (0.05)")
    p.add_argument("--explain", action="store_true", help="query plans for every question")
    args = p.parse_args(argv)
    cluster = Cluster().start()
    try:
        cluster.admin("CREATE DATABASE xk_bench_national")
        url = cluster.url("xk_bench_national")
        upgrade(url)
        engine = make_engine(url)
        print(f"building the national month, scale {args.scale} ...", flush=True)
        nation = national.fill(engine, NOW, args.scale, args.history_share, log=sys.stdout)
        with engine.connect() as c:
            size = c.execute(text("SELECT pg_database_size(current_database())")).scalar()
        sizes = sorted((n for _, _, n in nation.agencies), reverse=True)
        print(f"built: {nation.workers} active workers in {len(nation.agencies)} agencies "
              f"(largest {sizes[0]}, median {sizes[len(sizes) // 2]}, "
              f"{sum(n < 1000 for n in sizes) / len(sizes):.0%} under 1 000); "
              + ", ".join(f"{t} {n}" for t, n in nation.rows.items())
              + f"; {size / 2**30:.1f} GiB; in {nation.seconds['total']:.0f} s "
              f"(set-based INSERT … SELECT generate_series)", flush=True)
        q = Questions(engine, nation)
        with Session(engine) as s:
            t = time.perf_counter()
            raw = raw_table(s, q.period, q.end)
            raw_s = time.perf_counter() - t
            table = q.table(s)
        assert {a: (r["registered"], r["checked_in"]) for a, r in table.items()} == raw, \
            "the rollup's table differs from the raw rows'"
        q.expect["missing"] = table[q.agency]["missing"]
        print(f"the same table counted from the raw rows (once): {raw_s * 1000:.0f} ms; "
              f"the rollup's agrees; largest agency {q.agency}: {q.size} workers, "
              f"{q.expect['missing']} missing", flush=True)
        with Session(engine) as s:                     # one warm-up of every question
            for name in GOALS:
                getattr(q, name)(s)
        times = {name: [] for name in GOALS}
        for _ in range(args.rounds):
            for name in GOALS:
                with Session(engine) as s:
                    t = time.perf_counter()
                    getattr(q, name)(s)
                    times[name].append(time.perf_counter() - t)
        now_rss, peak = rss()
        print(f"\nnational month {q.period}: {nation.workers} workers, "
              f"{len(nation.agencies)} agencies; {args.rounds} interleaved rounds after a "
              "warm-up")
        print(f"  {'question':50} {'median ms':>10} {'worst ms':>10} {'goal ms':>8} "
              f"{'worst/goal':>10}")
        missed = []
        for name, goal in GOALS.items():
            ts = times[name]
            med, worst = statistics.median(ts), max(ts)
            mark = "ok" if worst < goal else "MISSED"
            if worst >= goal:
                missed.append(name)
            print(f"  {LABELS[name]:50} {med * 1000:10.1f} {worst * 1000:10.1f} "
                  f"{goal * 1000:8.0f} {worst / goal:10.3f}  {mark}")
        print(f"  bench process: VmRSS {now_rss:.0f} MB, peak {peak:.0f} MB")
        for name in GOALS:
            if name in missed or args.explain:
                print(f"\nEXPLAIN ANALYZE: {LABELS[name]}")
                for plan in explain(engine, getattr(q, name)):
                    print(plan + "\n")
        print("\nRESULT " + " ".join(
            f"{name}_median_ms={statistics.median(times[name]) * 1000:.1f}"
            for name in GOALS) + f" build_s={nation.seconds['total']:.0f} "
            f"rss_mb={peak:.0f}" + (f" missed={','.join(missed)}" if missed else ""))
        engine.dispose()
    finally:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
