"""The national month in the verifier's PostgreSQL database (bench/bench_national.py): the
national platform's 15.35 million worker records from 19 000 agencies (MOFCOM 2023) as active
workers, sizes skewed (`sizes`: ten agencies of 50 000, then a falling Zipf tail, median ~260,
87 % under 1 000; the sum exact), a month of attendance for 92 % of them and, for a share of
the workers, the eleven months before (a worker's 12-month history), filled set-based: one
`INSERT … SELECT … generate_series` per table (and per earlier month), no ORM objects.

A bulk load: the rollup's row triggers are off for it (`session_replication_role = replica`:
an advisory lock and a delta per row do not fit millions of rows in one transaction) and the
counters are counted once at the end by `rollup.rebuild`, as migration 0022 backfills them;
the secondary indexes of `workers` are dropped for the load and built again after it (their
definitions read from the catalogue, so the schema is the migrations' own). Then VACUUM
ANALYZE, what autovacuum would have done by the time anyone reads the month.

Deterministic: numbers come from the worker id, no randomness. Scaled by `scale` (workers,
agencies and the largest size alike) for a smoke run.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from verifier.services import partitions, rollup
from verifier.services.periods import bounds, last_periods

DAY = 86400
WORKERS, AGENCIES, LARGEST, N_LARGEST = 15_350_000, 19_000, 50_000, 10
TZ, START_DAY = "Asia/Shanghai", 1
MISSING_PCT = 8                 # of the active workers, no check-in in the month


@dataclass
class Nation:
    agencies: list[tuple[str, int, int]]        # (id, first worker id, workers)
    period: str                                 # the national month
    months: list[str]                           # the 12 periods, oldest first
    history_every: int                          # 1 in this many workers has 12 months
    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def workers(self) -> int:
        return sum(n for _, _, n in self.agencies)

    def largest(self) -> tuple[str, int, int]:
        return max(self.agencies, key=lambda a: a[2])


def sizes(workers: int = WORKERS, n_agencies: int = AGENCIES, largest: int = LARGEST,
          n_largest: int = N_LARGEST) -> list[int]:
    """Workers per agency, largest first, summing to exactly `workers`: `n_largest` of
    `largest`, then largest·(1 + i/k)⁻¹ with k chosen so the sum comes out."""
    n_largest = min(n_largest, max(n_agencies - 1, 1))
    rest_n, rest = n_agencies - n_largest, workers - largest * n_largest
    if rest_n <= 0 or rest < rest_n:
        raise ValueError("too few workers for that many agencies of that size")

    def total(k: float) -> float:
        return sum(largest / (1 + i / k) for i in range(1, rest_n + 1))
    lo, hi = 1e-6, 1e9
    for _ in range(200):
        mid = (lo * hi) ** 0.5
        lo, hi = (lo, mid) if total(mid) > rest else (mid, hi)
    tail = [max(1, int(largest / (1 + i / lo))) for i in range(1, rest_n + 1)]
    short = rest - sum(tail)                 # the floors' remainder, one each from the top
    for i in range(abs(short)):
        tail[i % rest_n] += 1 if short > 0 else -1
    out = [largest] * n_largest + tail
    assert sum(out) == workers and min(out) >= 1
    return out


def _secondary_indexes(c: Session) -> list[tuple[str, str]]:
    """(name, definition) of workers' indexes other than its primary key and unique key."""
    return [(n, d) for n, d in c.execute(text(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'workers' "
        "AND indexname NOT IN ('workers_pkey', 'workers_agency_id_worker_ref_key')"))]


def fill(engine: Engine, now: int, scale: float = 1.0, history_share: float = 0.05,
         log: object = None) -> Nation:
    """Fill an empty, migrated PostgreSQL database (module docstring); the Nation."""
    assert engine.dialect.name == "postgresql", "the national month is built on PostgreSQL"

    def say(msg: str) -> None:
        if log is not None:
            print(msg, file=log, flush=True)        # type: ignore[call-overload]
    n_agencies, workers = max(3, round(AGENCIES * scale)), round(WORKERS * scale)
    counts = sizes(workers, n_agencies, min(LARGEST, workers // 4),
                   max(1, round(N_LARGEST * scale)))
    months = last_periods(now, TZ, START_DAY, 12)
    period = months[-1]
    every = max(1, round(1 / history_share)) if history_share > 0 else 0
    agencies, wid = [], 1
    for i, n in enumerate(counts):
        agencies.append((f"N{i:05d}", wid, n))
        wid += n
    nation = Nation(agencies, period, months, every)
    span = 730 * DAY

    def step(name: str, c: Session, sql: str, **params: object) -> None:
        t = time.perf_counter()
        c.execute(text(sql), params)
        nation.seconds[name] = nation.seconds.get(name, 0.0) + time.perf_counter() - t
        say(f"  {name}: {nation.seconds[name]:.1f} s")

    t0 = time.perf_counter()
    with Session(engine) as c, c.begin():
        c.execute(text("SET LOCAL session_replication_role = replica"))
        c.execute(text("SET LOCAL maintenance_work_mem = '1GB'"))
        c.execute(text("SET LOCAL synchronous_commit = off"))
        partitions.ensure(c, months)
        c.execute(text("INSERT INTO agencies (id, name, created_at) VALUES (:i, :n, :t)"),
                  [{"i": a, "n": f"家政服务机构{k}", "t": now - 900 * DAY}
                   for k, (a, _, _) in enumerate(agencies)])
        c.execute(text("CREATE TEMP TABLE nation_agencies (id varchar(32), lo int, hi int) "
                       "ON COMMIT DROP"))
        c.execute(text("INSERT INTO nation_agencies VALUES (:i, :lo, :hi)"),
                  [{"i": a, "lo": lo, "hi": lo + n - 1} for a, lo, n in agencies])
        dropped = _secondary_indexes(c)
        for name, _ in dropped:
            c.execute(text(f"DROP INDEX {name}"))
        # created over the two years before the month began, spread by id
        start, end = bounds(period, TZ, START_DAY)
        step("workers", c,
             "INSERT INTO workers (id, agency_id, worker_ref, state, created_at) "
             "SELECT g, a.id, 'W' || g, 'active', "
             f"{start - 1} - ((g::bigint * 2654435761) % {span}) "
             "FROM nation_agencies a, generate_series(a.lo, a.hi) g")
        for _name, definition in dropped:
            step("workers indexes", c, definition)
        at = start + 3 * DAY
        step(f"attendance {period}", c,
             "INSERT INTO attendance (agency_id, period, worker_ref, first_at, last_at, "
             f"first_terminal, last_terminal, count) SELECT agency_id, '{period}', "
             f"worker_ref, {at} + id % {5 * DAY}, {at} + id % {5 * DAY} + id % {15 * DAY}, "
             f"'T-' || agency_id, 'T-' || agency_id, 1 + id % 20 FROM workers "
             f"WHERE (id * 31) % 100 >= {MISSING_PCT}")
        if every:
            for p in months[:-1]:
                s, _ = bounds(p, TZ, START_DAY)
                step("attendance, earlier months", c,
                     "INSERT INTO attendance (agency_id, period, worker_ref, first_at, "
                     "last_at, first_terminal, last_terminal, count) SELECT agency_id, "
                     f"'{p}', worker_ref, {s + 2 * DAY}, {s + 20 * DAY}, 'T-' || agency_id, "
                     f"'T-' || agency_id, 1 + id % 20 FROM workers WHERE id % {every} = 0 "
                     f"AND created_at < {s + 2 * DAY}")
        c.execute(text("SELECT setval(pg_get_serial_sequence('workers', 'id'), "
                       "(SELECT max(id) FROM workers))"))
        c.execute(text("SET LOCAL session_replication_role = DEFAULT"))
        t = time.perf_counter()
        rollup.rebuild(c)
        nation.seconds["rollup rebuild"] = time.perf_counter() - t
        say(f"  rollup rebuild: {nation.seconds['rollup rebuild']:.1f} s")
        nation.rows = {t: c.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in (
            "agencies", "workers", "attendance", "attendance_rollup", "worker_rollup")}
    t = time.perf_counter()
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    nation.seconds["vacuum analyze"] = time.perf_counter() - t
    nation.seconds["total"] = time.perf_counter() - t0
    say(f"  vacuum analyze: {nation.seconds['vacuum analyze']:.1f} s")
    return nation
