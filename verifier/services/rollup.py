"""The per-(agency, month) check-in counts, read from the rollup tables the database keeps in
the writing transaction (models/rollups.py, migration 0022_attendance_partitions), never from
the raw rows:

- `month_table`: per agency, for one period, its active workers, those registered before the
  period ended, those of them who checked in, the missing (registered, not checked in), every
  worker with a check-in (a cancelled one's too) and the check-ins — the agencies' check-in
  table of the national export and the bureau console (services/agency_credit.py);
- `checked_in`: per agency and period, the active workers who checked in (the trends).

The counters know "active now" but not "registered before the period ended": a past period's
figures take off the workers registered after it ended, found through `ix_workers_created`
(none for the current period, so its table reads the counters only).

On PostgreSQL a transaction's own changes wait in `rollup_deltas` until it commits; every
read here adds the deltas it can see, so it counts its own writes too. `rebuild` counts the
counters again from the raw rows (after a bulk load with the triggers off, or to repair);
`live` is that count without storing it, for `flask attendance-rollup --check`.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import and_, delete, func, insert, select, text, true, union_all
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from ..models import Agency, Attendance, AttendanceRollup, RollupDelta, Worker, WorkerRollup
from .errors import BadRequest
from .periods import bounds


def _mine(col: Any, agency_id: str | None) -> Any:
    return col == agency_id if agency_id is not None else true()


def attendance_counts(session: Session, periods: list[str], agency_id: str | None = None
                      ) -> dict[tuple[str, str], tuple[int, int, int]]:
    """(agency, period) -> (workers with a check-in, of them active now, check-ins)."""
    r, d = AttendanceRollup, RollupDelta
    both = union_all(
        select(r.agency_id, r.period, r.workers_checked_in, r.active_checked_in, r.checkins)
        .where(r.period.in_(periods), _mine(r.agency_id, agency_id)),
        select(d.agency_id, d.period, d.workers_checked_in, d.active_checked_in, d.checkins)
        .where(d.period.in_(periods), _mine(d.agency_id, agency_id))).subquery()
    rows = session.execute(select(both.c.agency_id, both.c.period,
                                  func.sum(both.c.workers_checked_in),
                                  func.sum(both.c.active_checked_in), func.sum(both.c.checkins))
                           .group_by(both.c.agency_id, both.c.period))
    return {(a, p): (int(w), int(act), int(n)) for a, p, w, act, n in rows}


def active_workers(session: Session, agency_id: str | None = None) -> dict[str, int]:
    """agency -> its active workers (agencies with none may be missing or 0)."""
    r, d = WorkerRollup, RollupDelta
    both = union_all(
        select(r.agency_id, r.active_workers).where(_mine(r.agency_id, agency_id)),
        select(d.agency_id, d.active_workers).where(d.period.is_(None),
                                                    _mine(d.agency_id, agency_id))).subquery()
    return {a: int(n) for a, n in session.execute(
        select(both.c.agency_id, func.sum(both.c.active_workers))
        .group_by(both.c.agency_id))}


def _late(session: Session, period: str, end: int, agency_id: str | None
          ) -> dict[str, tuple[int, int]]:
    """agency -> (active workers registered at or after `end`, of them with an attendance
    row in `period`)."""
    a = Attendance
    rows = session.execute(
        select(Worker.agency_id, func.count(), func.count(a.id))
        .outerjoin(a, and_(a.agency_id == Worker.agency_id, a.worker_ref == Worker.worker_ref,
                           a.period == period))
        .where(Worker.created_at >= end, Worker.state == "active",
               _mine(Worker.agency_id, agency_id))
        .group_by(Worker.agency_id))
    return {ag: (int(n), int(c)) for ag, n, c in rows}


def month_table(session: Session, period: str, end: int, agency_id: str | None = None
                ) -> dict[str, dict[str, Any]]:
    """agency -> its check-in figures for `period` (ending at `end`, Unix seconds): every
    agency with a worker or a check-in (or only `agency_id`)."""
    counts = attendance_counts(session, [period], agency_id)
    active = active_workers(session, agency_id)
    late = _late(session, period, end, agency_id)
    out = {}
    for a in sorted(set(active) | {a for a, _ in counts}):
        workers, act, checkins = counts.get((a, period), (0, 0, 0))
        n = active.get(a, 0)
        late_n, late_in = late.get(a, (0, 0))
        registered, present = n - late_n, act - late_in
        out[a] = {"agency": a, "period": period, "active_workers": n,
                  "registered": registered, "checked_in": present,
                  "missing": registered - present, "workers_checked_in": workers,
                  "checkins": checkins,
                  "checkin_rate": round(present / registered, 3) if registered else None}
    return out


TABLE_COLUMNS = ("agency", "period", "active_workers", "registered", "checked_in", "missing",
                 "checkin_rate", "workers_checked_in", "checkins")


def table(session: Session, period: str, tz: str, start_day: int) -> list[dict[str, Any]]:
    """Every agency's check-in figures for `period` (YYYY-MM, else BadRequest), one row each
    (TABLE_COLUMNS), agencies with nothing at all too: `GET /api/v1/bureau/attendance`."""
    try:
        _, end = bounds(period, tz, start_day)
    except ValueError as err:
        raise BadRequest(str(err)) from err
    rows = month_table(session, period, end)
    empty = {"active_workers": 0, "registered": 0, "checked_in": 0, "missing": 0,
             "checkin_rate": None, "workers_checked_in": 0, "checkins": 0}
    return [rows.get(a) or {"agency": a, "period": period, **empty}
            for a in session.scalars(select(Agency.id).order_by(Agency.id))]


def checked_in(session: Session, periods: list[str], agency_id: str | None = None
               ) -> dict[str, dict[str, int]]:
    """agency -> period -> active workers who checked in in it."""
    out: dict[str, dict[str, int]] = {}
    for (a, p), (_, act, _) in attendance_counts(session, periods, agency_id).items():
        out.setdefault(a, {})[p] = act
    return out


# -- counting from the raw rows -------------------------------------------------------------

def live(session: Session) -> tuple[dict[tuple[str, str], tuple[int, int, int]],
                                    dict[str, int]]:
    """The counters as the raw rows give them: ((agency, period) -> (workers, active,
    check-ins), agency -> active workers); zero rows left out."""
    a = Attendance
    w = Worker
    att = {(ag, p): (int(n), int(act), int(c)) for ag, p, n, act, c in session.execute(
        select(a.agency_id, a.period, func.count(), func.count(w.id), func.sum(a.count))
        .outerjoin(w, and_(w.agency_id == a.agency_id, w.worker_ref == a.worker_ref,
                           w.state == "active"))
        .group_by(a.agency_id, a.period))}
    workers = {ag: int(n) for ag, n in session.execute(
        select(w.agency_id, func.count()).where(w.state == "active").group_by(w.agency_id))}
    return att, workers


def stored(session: Session) -> tuple[dict[tuple[str, str], tuple[int, int, int]],
                                      dict[str, int]]:
    """The counters as stored (with this transaction's pending deltas), zero rows left out."""
    r, d = AttendanceRollup, RollupDelta
    periods = {p for (p,) in session.execute(
        union_all(select(r.period), select(d.period).where(d.period.is_not(None))))
        if p is not None}
    counts = attendance_counts(session, sorted(periods))
    att = {k: v for k, v in counts.items() if v != (0, 0, 0)}
    return att, {a: n for a, n in active_workers(session).items() if n}


def rebuild(session: Session | Connection) -> tuple[int, int]:
    """Count the counters again from the raw rows, writers held off meanwhile (PostgreSQL:
    a SHARE lock on attendance and workers until the commit). (periods, agencies) stored."""
    bind = session.get_bind() if isinstance(session, Session) else session
    if bind.dialect.name == "postgresql":
        session.execute(text("LOCK TABLE attendance, workers IN SHARE MODE"))
    session.execute(delete(AttendanceRollup))
    session.execute(delete(WorkerRollup))
    a, w = Attendance, Worker
    session.execute(insert(AttendanceRollup).from_select(
        ["agency_id", "period", "workers_checked_in", "active_checked_in", "checkins"],
        select(a.agency_id, a.period, func.count(), func.count(w.id), func.sum(a.count))
        .outerjoin(w, and_(w.agency_id == a.agency_id, w.worker_ref == a.worker_ref,
                           w.state == "active"))
        .group_by(a.agency_id, a.period)))
    session.execute(insert(WorkerRollup).from_select(
        ["agency_id", "active_workers"],
        select(w.agency_id, func.count()).where(w.state == "active").group_by(w.agency_id)))
    periods = session.scalar(select(func.count()).select_from(AttendanceRollup)) or 0
    agencies = session.scalar(select(func.count()).select_from(WorkerRollup)) or 0
    return periods, agencies

