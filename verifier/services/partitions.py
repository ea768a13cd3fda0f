"""The monthly partitions of `attendance` on PostgreSQL (migration 0022_attendance_partitions):
one partition per period, `attendance_YYYY_MM` FOR VALUES IN ('YYYY-MM'), and the DEFAULT
partition `attendance_default`, which takes the rows of a period nobody created a partition
for, so an ingest never fails on an unforeseen month.

`ensure` creates the partitions of the current period and the `ahead` after it (`flask
attendance-partitions`, daily from xinka-attendance-partitions.timer), and of every period
found in the default partition: those rows are moved into their new partition. Idempotent: a
period that has its partition is left alone. On SQLite there is nothing to do.

Moving rows out of the default partition must not count them twice in the rollup
(services/rollup.py): the default partition is detached (the rollup's cloned triggers go with
it), the period's rows move into a plain table, and both are attached again, in one
transaction. Detaching holds an ACCESS EXCLUSIVE lock on `attendance` until the commit, so
ingest waits for the move (once per unforeseen period, for that period's rows only).
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from .periods import parse_period, period_of

log = logging.getLogger(__name__)

DEFAULT = "attendance_default"
_NAME = re.compile(r"attendance_(\d{4})_(\d{2})")


@dataclass
class Result:
    created: list[str] = field(default_factory=list)        # periods given a partition
    moved: dict[str, int] = field(default_factory=dict)     # period -> rows out of the default


def name(period: str) -> str:
    """The partition of a period ('2027-01' -> 'attendance_2027_01'); ValueError if the period
    is not YYYY-MM."""
    y, m = parse_period(period)
    return f"attendance_{y:04d}_{m:02d}"


def partitioned(conn: Connection | Session) -> bool:
    """True where `attendance` is a partitioned table (PostgreSQL after migration 0022)."""
    bind = conn.get_bind() if isinstance(conn, Session) else conn
    if bind.dialect.name != "postgresql":
        return False
    return conn.execute(text("SELECT relkind FROM pg_class WHERE oid = "
                             "to_regclass('attendance')")).scalar() == "p"


def attached(conn: Connection | Session) -> dict[str, str]:
    """partition name -> its bound ("FOR VALUES IN ('2027-01')", "DEFAULT"); empty where
    attendance is not partitioned. Also what tests/verifier/test_migrations.py leaves out of
    the models-vs-migrations comparison (the models know the parent table only)."""
    if not partitioned(conn):
        return {}
    return dict(conn.execute(text(
        "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
        "JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'attendance'::regclass ORDER BY c.relname")).all())


def not_a_partition(conn: Connection) -> Callable[[str | None, str, Any], bool]:
    """An Alembic `include_name` hook: every name but the tables attached to `attendance` as
    its partitions (the models map the parent only), so comparing the models with the
    database (autogenerate, tests/verifier/test_migrations.py) does not take them for tables
    to drop."""
    parts: list[set[str]] = []            # read at the first call: only autogenerate calls

    def include(name: str | None, type_: str, _parents: Any) -> bool:
        if not parts:
            parts.append(set(attached(conn)))
        return not (type_ == "table" and name in parts[0])
    return include


def periods_ahead(now: int, tz: str, start_day: int, ahead: int) -> list[str]:
    """The current period and the `ahead` after it."""
    y, m = parse_period(period_of(now, tz, start_day))
    out = []
    for _ in range(ahead + 1):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def in_default(session: Session) -> list[str]:
    """The well-formed periods with rows in the default partition."""
    found = session.execute(text(f"SELECT DISTINCT period FROM {DEFAULT}")).scalars()
    out = []
    for p in found:
        try:
            name(p)
        except ValueError:
            continue                    # a malformed period stays in the default
        out.append(p)
    return sorted(out)


def ensure(session: Session, periods: list[str]) -> Result:
    """Give each period (and each found in the default partition) its partition; the result
    says what was created and moved. Nothing on SQLite."""
    result = Result()
    if not partitioned(session):
        return result
    have = set(attached(session))
    for p in sorted(set(periods) | set(in_default(session))):
        part = name(p)
        if part in have:
            continue
        n = session.execute(text(f"SELECT count(*) FROM {DEFAULT} WHERE period = :p"),
                            {"p": p}).scalar_one()
        if n == 0:
            session.execute(text(f"CREATE TABLE {part} PARTITION OF attendance "
                                 f"FOR VALUES IN ('{p}')"))
        else:
            _move_out_of_default(session, p, part)
            result.moved[p] = n
        have.add(part)
        result.created.append(p)
        log.info("attendance partition %s created%s", part,
                 f", {n} row(s) moved out of {DEFAULT}" if n else "")
    return result


def _move_out_of_default(session: Session, period: str, part: str) -> None:
    cols = ("id, agency_id, period, worker_ref, first_at, last_at, first_terminal, "
            "last_terminal, count")
    for sql in (f"ALTER TABLE attendance DETACH PARTITION {DEFAULT}",
                f"CREATE TABLE {part} (LIKE attendance INCLUDING DEFAULTS INCLUDING "
                "CONSTRAINTS)",
                f"WITH moved AS (DELETE FROM {DEFAULT} WHERE period = '{period}' "
                f"RETURNING {cols}) INSERT INTO {part} ({cols}) SELECT {cols} FROM moved",
                f"ALTER TABLE attendance ATTACH PARTITION {part} FOR VALUES IN ('{period}')",
                f"ALTER TABLE attendance ATTACH PARTITION {DEFAULT} DEFAULT"):
        session.execute(text(sql))


def months(session: Session) -> list[str]:
    """The periods that have a partition, oldest first."""
    return sorted(f"{m.group(1)}-{m.group(2)}" for n in attached(session)
                  if (m := _NAME.fullmatch(n)))
