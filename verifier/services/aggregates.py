"""The city's counts behind the agencies' credit figures (agency_credit), the national export
(national) and the bureau console's statistics (city): one set-based query per table, grouped
by agency (and period), instead of a query per agency per figure.

Each function answers for every agency, or for one (`agency_id`); within one transaction a
result is computed once and shared by every caller (a page that shows the export, the trends
and the distributions asks for the workers' counts three times and pays once). The memo is
dropped on any write in the session (a flush, a statement that is not a SELECT) and at the
end of every transaction, so nobody reads a count older than their own writes.

Periods are the last `n` attendance periods up to the current one (`periods.last_periods`):
a worker is registered in a period when created before it ended, a badge issued in one when
created inside it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from sqlalchemy import (JSON, ColumnElement, and_, case, cast, event, exists, func, or_, select,
                        true)
from sqlalchemy.orm import Session, aliased

from ..models import Badge, Complaint, CreditGrade, CreditRecord, Worker
from . import rollup
from .periods import bounds, last_periods

_MEMO = "xinka.aggregates"
TREND_PERIODS = 12
RECORD_KINDS = ("insurance", "training", "skill_certificate")


@dataclass(frozen=True)
class Periods:
    names: tuple[str, ...]          # oldest first, the current one last
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    @classmethod
    def of(cls, now: int, tz: str, start_day: int, n: int = TREND_PERIODS) -> "Periods":
        names = tuple(last_periods(now, tz, start_day, n))
        b = [bounds(p, tz, start_day) for p in names]
        return cls(names, tuple(s for s, _ in b), tuple(e for _, e in b))


def _forget(session: Session, *_: Any) -> None:
    session.info.get(_MEMO, {}).clear()


def _forget_unless_select(state: Any) -> None:
    if not state.is_select:
        _forget(state.session)


def _memo(session: Session, key: tuple[Any, ...], agency_id: str | None,
          compute: Callable[[str | None], dict[str, Any]]) -> dict[str, Any]:
    """agency -> value, computed once per transaction for the city (or the one agency: then
    sliced from the city's when that was computed already)."""
    memo = session.info.get(_MEMO)
    if memo is None:
        memo = session.info[_MEMO] = {}
        for name in ("after_flush", "after_transaction_end"):
            event.listen(session, name, _forget)
        event.listen(session, "do_orm_execute", _forget_unless_select)
    city = memo.get((key, None))
    if city is not None:
        return city if agency_id is None else {agency_id: city[agency_id]} \
            if agency_id in city else {}
    got = memo.get((key, agency_id))
    if got is None:
        got = memo[(key, agency_id)] = compute(agency_id)
    return got


def mine(col: Any, agency_id: str | None) -> ColumnElement[bool]:
    """`col` is the agency (every agency: true)."""
    return col == agency_id if agency_id is not None else true()


def _bucket(col: Any, ends: tuple[int, ...]) -> Any:
    """The index of the first period that ended after `col` (len(ends) if none did)."""
    return case(*((col < e, i) for i, e in enumerate(ends)), else_=len(ends))


def json_field(session: Session, col: Any, key: str, as_float: bool = False) -> Any:
    """A field of a JSON text column (the `data` of a record) in SQL: NULL when absent."""
    if session.get_bind().dialect.name == "postgresql":
        field = cast(col, JSON)[key]
        return field.as_float() if as_float else field.as_string()
    return func.json_extract(col, f'$."{key}"')


def workers(session: Session, p: Periods, agency_id: str | None = None) -> dict[str, list[int]]:
    """agency -> active workers registered in each period of `p` (cumulative), then the
    active workers in all (the last entry)."""
    def compute(agency_id: str | None) -> dict[str, list[int]]:
        bucket = _bucket(Worker.created_at, p.ends).label("b")
        out: dict[str, list[int]] = {}
        for a, b, n in session.execute(
                select(Worker.agency_id, bucket, func.count())
                .where(Worker.state == "active", mine(Worker.agency_id, agency_id))
                .group_by(Worker.agency_id, bucket)):
            out.setdefault(a, [0] * (len(p.ends) + 1))[b] += n
        for counts in out.values():
            for i in range(1, len(counts)):
                counts[i] += counts[i - 1]
        return out
    return _memo(session, ("workers", p), agency_id, compute)


def active(session: Session) -> dict[str, int]:
    """agency -> active workers (from the workers' counts when this transaction has them,
    else from the rollup the triggers keep: services/rollup.py)."""
    for (key, agency_id), counts in session.info.get(_MEMO, {}).items():
        if key[0] == "workers" and agency_id is None:
            return {a: c[-1] for a, c in counts.items()}
    return _memo(session, ("active",), None, lambda _: rollup.active_workers(session))


def attendance(session: Session, p: Periods,
               agency_id: str | None = None) -> dict[str, dict[str, int]]:
    """agency -> period -> active workers who checked in (the rollup: services/rollup.py)."""
    return _memo(session, ("attendance", p), agency_id,
                 lambda a: rollup.checked_in(session, list(p.names), a))


def month(session: Session, p: Periods, agency_id: str | None = None
          ) -> dict[str, dict[str, Any]]:
    """agency -> the check-in table of the current period of `p` (`rollup.month_table`:
    active workers, registered before the period ended, of them checked in, …)."""
    return _memo(session, ("month", p), agency_id,
                 lambda a: rollup.month_table(session, p.names[-1], p.ends[-1], a))


def badges(session: Session, p: Periods,
           agency_id: str | None = None) -> dict[str, dict[str, list[int]]]:
    """agency -> badge state -> badges created before the first period, in each period of
    `p`, after the last; a list of len(p.names) + 2."""
    def compute(agency_id: str | None) -> dict[str, dict[str, list[int]]]:
        bucket = case((Badge.created_at < p.starts[0], 0),
                      *((Badge.created_at < e, i + 1) for i, e in enumerate(p.ends)),
                      else_=len(p.ends) + 1).label("b")
        out: dict[str, dict[str, list[int]]] = {}
        for a, state, b, n in session.execute(
                select(Badge.agency_id, Badge.state, bucket, func.count())
                .where(mine(Badge.agency_id, agency_id))
                .group_by(Badge.agency_id, Badge.state, bucket)):
            out.setdefault(a, {}).setdefault(state, [0] * (len(p.ends) + 2))[b] += n
        return out
    return _memo(session, ("badges", p), agency_id, compute)


def complaints_filed(session: Session, p: Periods,
                     agency_id: str | None = None) -> dict[str, list[int]]:
    """agency -> complaints filed in each period of `p`."""
    def compute(agency_id: str | None) -> dict[str, list[int]]:
        bucket = case(*((and_(Complaint.filed_at >= s, Complaint.filed_at < e), i)
                        for i, (s, e) in enumerate(zip(p.starts, p.ends, strict=True)))).label("b")
        out: dict[str, list[int]] = {}
        for a, b, n in session.execute(
                select(Complaint.agency_id, bucket, func.count())
                .where(Complaint.filed_at >= p.starts[0], Complaint.filed_at < p.ends[-1],
                       mine(Complaint.agency_id, agency_id))
                .group_by(Complaint.agency_id, bucket)):
            out.setdefault(a, [0] * len(p.ends))[b] += n
        return out
    return _memo(session, ("complaints", p), agency_id, compute)


def records(session: Session, now: int,
            agency_id: str | None = None) -> dict[str, dict[tuple[str, str | None], Any]]:
    """agency -> the verified records of its active workers: ("insurance", None) -> workers
    insured (valid until now or later), ("training", None) -> the hours of every training,
    ("skill_certificate", title) -> workers holding a certificate of the title in force."""
    def compute(agency_id: str | None) -> dict[str, dict[tuple[str, str | None], Any]]:
        from .records import TITLES
        title = json_field(session, CreditRecord.data, "title")
        hours = json_field(session, CreditRecord.data, "hours", as_float=True)
        in_force = {
            "insurance": CreditRecord.valid_until >= now,
            "training": true(),
            "skill_certificate": and_((CreditRecord.valid_until.is_(None)) |
                                      (CreditRecord.valid_until >= now), title.in_(TITLES))}
        key = case((CreditRecord.kind == "skill_certificate", title)).label("title")
        out: dict[str, dict[tuple[str, str | None], Any]] = {}
        for a, kind, t, n, h in session.execute(
                select(Worker.agency_id, CreditRecord.kind, key,
                       func.count(func.distinct(Worker.id)),
                       func.sum(case((CreditRecord.kind == "training", hours))))
                .join(CreditRecord, and_(CreditRecord.agency_id == Worker.agency_id,
                                         CreditRecord.worker_ref == Worker.worker_ref))
                .where(Worker.state == "active", CreditRecord.state == "verified",
                       mine(Worker.agency_id, agency_id),
                       or_(*(and_(CreditRecord.kind == k, c) for k, c in in_force.items())))
                .group_by(Worker.agency_id, CreditRecord.kind, key)):
            out.setdefault(a, {})[(kind, t)] = float(h or 0) if kind == "training" else n
        return out
    return _memo(session, ("records", now), agency_id, compute)


def certified(session: Session, now: int) -> int:
    """Active workers holding a verified skill certificate of a known title in force."""
    def compute(_: str | None) -> dict[str, int]:
        from .records import TITLES
        title = json_field(session, CreditRecord.data, "title")
        n = session.scalar(
            select(func.count(func.distinct(Worker.id)))
            .join(CreditRecord, and_(CreditRecord.agency_id == Worker.agency_id,
                                     CreditRecord.worker_ref == Worker.worker_ref))
            .where(Worker.state == "active", CreditRecord.kind == "skill_certificate",
                   CreditRecord.state == "verified",
                   (CreditRecord.valid_until.is_(None)) | (CreditRecord.valid_until >= now),
                   title.in_(TITLES)))
        return {"": n or 0}
    return _memo(session, ("certified", now), None, compute)[""]


def grades(session: Session, agency_id: str | None = None) -> dict[str, dict[str, int]]:
    """agency -> grade -> active workers whose latest computed grade (not one typed by staff
    before migration 0014) it is."""
    def compute(agency_id: str | None) -> dict[str, dict[str, int]]:
        later = aliased(CreditGrade)
        out: dict[str, dict[str, int]] = {}
        for a, grade, n in session.execute(
                select(Worker.agency_id, CreditGrade.grade, func.count())
                .join(Worker, Worker.id == CreditGrade.worker_id)
                .where(CreditGrade.rule_version != "staff", Worker.state == "active",
                       mine(Worker.agency_id, agency_id),
                       ~exists().where(later.worker_id == CreditGrade.worker_id,
                                       later.id > CreditGrade.id,
                                       later.rule_version != "staff"))
                .group_by(Worker.agency_id, CreditGrade.grade)):
            out.setdefault(a, {})[grade] = n
        return out
    return _memo(session, ("grades",), agency_id, compute)
