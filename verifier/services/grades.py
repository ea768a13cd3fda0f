"""Grades kept: the credit rules (services/credit_rules.py) applied to what the service holds
about a worker, and the history of every result (table `credit_grades`, docs/credit-rules.md
"Grade and colour").

The inputs are those of every agency file of the person when the worker is in the bureau's
registry (一人一档), else of this agency's file; inputs an upheld appeal set aside are left
out. A new history row is written:

- on an event (services/events.py): a review, a complaint's step, a record entered, verified
  or withdrawn, a visit ended, an appeal decided — once per worker, when the transaction
  commits (`Settler`);
- when the page or the console shows the grade and the result differs from the last row
  (a record expired overnight): trigger "recheck";
- by `flask credit-recompute` (the daily timer): "quarterly" for a worker without a row in
  the current quarter (the quarterly evaluation), "rules" when the last row was computed
  with another rule version, else only on a change ("daily").

"Differs": another rule version, grade, colour, set of warnings or set of reasons (the
points of a decaying complaint alone write no row; a row's points are those of its day).
Only active workers are graded; a cancelled (注销) file keeps its last row.

Check-ins are not events (ingest stays set-based): their regularity enters at the next
showing or daily run.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from ..models import Appeal, Attendance, Complaint, CreditGrade, Review, Worker
from . import credit_rules, events, records, visits
from .credit_rules import Decided, Inputs, Reason, Rules
from .periods import last_periods, period_of

log = logging.getLogger(__name__)

TRIGGERS = ("review", "complaint", "record", "visit", "appeal", "recheck", "daily",
            "quarterly", "rules", "migration")
BATCH = 500


@dataclass(frozen=True)
class Context:
    """What the rules need from the configuration."""
    tz: str = "Asia/Shanghai"
    start_day: int = 1
    rules: Rules = credit_rules.CURRENT


DEFAULT = Context()


def files_of(session: Session, worker: Worker) -> list[tuple[str, str]]:
    """(agency, worker_ref) of every file of the worker's person, or of the worker alone."""
    if worker.person_id is None:
        return [(worker.agency_id, worker.worker_ref)]
    return [(a, r) for a, r in session.execute(select(Worker.agency_id, Worker.worker_ref)
                                               .where(Worker.person_id == worker.person_id)
                                               .order_by(Worker.id))]


def set_aside(session: Session, files: list[tuple[str, str]]) -> set[str]:
    """The inputs upheld appeals took out of the rules ("review:9", …)."""
    out: set[str] = set()
    for text in session.scalars(select(Appeal.set_aside).where(
            tuple_(Appeal.agency_id, Appeal.worker_ref).in_(files),
            Appeal.state == "upheld")):
        out.update(json.loads(text or "[]"))
    return out


def inputs(session: Session, worker: Worker | None, now: int, ctx: Context,
           file: tuple[str, str] | None = None) -> Inputs:
    """The rules' inputs for a registered worker, or (worker None) for the `file` of a worker
    this registry does not hold: then only its reviews and complaints are known."""
    files = files_of(session, worker) if worker is not None else [file] if file else []
    gone = set_aside(session, files)
    rows: list[dict[str, Any]] = []
    for agency_id, ref in files if worker is not None else ():
        rows += [r for r in records.for_worker(session, agency_id, ref, now,
                                               include_withdrawn=False)
                 if f"record:{r['id']}" not in gone]
    of_files = tuple_(Review.agency_id, Review.worker_ref).in_(files)
    reviews = [(i, at, stars) for i, at, stars in session.execute(
        select(Review.id, Review.created_at, Review.stars).where(of_files))
        if f"review:{i}" not in gone]
    decided, unresolved = [], []
    for c in session.scalars(select(Complaint).where(
            tuple_(Complaint.agency_id, Complaint.worker_ref).in_(files))):
        if f"complaint:{c.id}" in gone:
            continue
        if c.state == "closed" and c.outcome and c.decided_at is not None:
            decided.append(Decided(c.id, c.severity, c.outcome, c.decided_at))
        elif c.state != "closed":
            unresolved.append(c.filed_at)
    i = Inputs(now=now, known=worker is not None, records=rows, reviews=reviews,
               decided=decided, unresolved=unresolved)
    if worker is not None:
        i.periods_due, i.periods_checked = _regularity(session, files, worker, now, ctx)
        history = visits.history(session, worker.agency_id, worker.worker_ref,
                                 worker.person_id)
        i.visits, i.first_visit_at = history["visits"], history["since"]
    return i


def warnings(session: Session, agency_id: str, worker_ref: str, worker: Worker | None,
             now: int, ctx: Context) -> tuple[CreditGrade | None, list[Reason]]:
    """For a page: the current grade row of a registered worker (None otherwise) and the
    credit warnings of the colour."""
    if worker is not None and worker.state != "active":
        return latest(session, worker.id), []          # cancelled: red, nothing to grade
    if worker is not None:
        row = current(session, worker, now, ctx)
        return row, [Reason.from_json(w) for w in json.loads(row.warnings or "[]")]
    i = inputs(session, None, now, ctx, (agency_id, worker_ref))
    return None, credit_rules.warnings_of(i, ctx.rules)


def _regularity(session: Session, files: list[tuple[str, str]], worker: Worker, now: int,
                ctx: Context) -> tuple[int, int]:
    """(periods due, periods with a check-in) over the last complete periods since the first
    file was registered (the current period is not yet due)."""
    n = ctx.rules.regularity_periods
    periods = last_periods(now, ctx.tz, ctx.start_day, n + 1)[:-1]
    first = session.scalar(select(func.min(Worker.created_at)).where(
        tuple_(Worker.agency_id, Worker.worker_ref).in_(files))) or worker.created_at
    from_period = period_of(first, ctx.tz, ctx.start_day)
    due = [p for p in periods if p >= from_period]
    if not due:
        return 0, 0
    seen = set(session.scalars(select(Attendance.period).distinct().where(
        tuple_(Attendance.agency_id, Attendance.worker_ref).in_(files),
        Attendance.period.in_(due))))
    return len(due), len(seen)


def latest(session: Session, worker_id: int, computed: bool = True) -> CreditGrade | None:
    """The worker's last history row (`computed`: not a staff-typed one from before 0014)."""
    q = select(CreditGrade).where(CreditGrade.worker_id == worker_id)
    if computed:
        q = q.where(CreditGrade.rule_version != "staff")
    return session.scalar(q.order_by(CreditGrade.id.desc()).limit(1))


def key_of(row: CreditGrade) -> tuple[Any, ...]:
    """credit_rules.result_key of a history row."""
    return credit_rules.result_key(
        row.rule_version, row.grade, row.colour,
        [Reason.from_json(r) for r in json.loads(row.reasons or "[]")],
        [Reason.from_json(w) for w in json.loads(row.warnings or "[]")])


def recompute(session: Session, worker: Worker, now: int, trigger: str, ctx: Context,
              force: bool = False) -> CreditGrade:
    """Assess the worker; write a history row when the result changed (or `force`)."""
    a = credit_rules.assess(inputs(session, worker, now, ctx), ctx.rules)
    last = latest(session, worker.id)
    if last is not None and not force and key_of(last) == a.key():
        return last
    row = CreditGrade(worker_id=worker.id, computed_at=now, rule_version=a.version,
                      grade=a.grade, score=a.score, colour=a.colour,
                      reasons=json.dumps([r.to_json() for r in a.reasons], ensure_ascii=False),
                      warnings=json.dumps([w.to_json() for w in a.warnings],
                                          ensure_ascii=False),
                      trigger=trigger)
    session.add(row)
    session.flush()
    log.info("worker %d graded %s (%s, rules %s, %s)", worker.id, a.grade, a.colour,
             a.version, trigger)
    return row


def current(session: Session, worker: Worker, now: int, ctx: Context) -> CreditGrade:
    """The grade to show now (written as "recheck" when it differs from the last row)."""
    return recompute(session, worker, now, "recheck", ctx)


def view(row: CreditGrade | None) -> dict[str, Any] | None:
    """A history row for pages and the API."""
    if row is None:
        return None
    return {"grade": row.grade, "score": row.score, "colour": row.colour,
            "rule_version": row.rule_version, "computed_at": row.computed_at,
            "trigger": row.trigger,
            "reasons": [Reason.from_json(r) for r in json.loads(row.reasons or "[]")],
            "warnings": [Reason.from_json(w) for w in json.loads(row.warnings or "[]")]}


def history(session: Session, worker_id: int, limit: int = 50) -> list[dict[str, Any]]:
    rows = session.scalars(select(CreditGrade).where(CreditGrade.worker_id == worker_id)
                           .order_by(CreditGrade.id.desc()).limit(limit))
    return [v for v in map(view, rows) if v is not None]


def quarter_start(now: int, tz: str) -> int:
    d = datetime.fromtimestamp(now, ZoneInfo(tz))
    q = datetime(d.year, 3 * ((d.month - 1) // 3) + 1, 1, tzinfo=ZoneInfo(tz))
    return int(q.timestamp())


def recompute_all(session: Session, now: int, ctx: Context) -> dict[str, int]:
    """The daily run: every active worker; counts of rows written by trigger."""
    since = quarter_start(now, ctx.tz)
    counts: dict[str, int] = dict.fromkeys(("quarterly", "rules", "daily", "unchanged"), 0)
    after = 0
    while True:
        batch = list(session.scalars(select(Worker).where(Worker.state == "active",
                                                          Worker.id > after)
                                     .order_by(Worker.id).limit(BATCH)))
        if not batch:
            return counts
        for w in batch:
            last = latest(session, w.id)
            if last is None or last.computed_at < since:
                trigger = "quarterly"
            elif last.rule_version != ctx.rules.version:
                trigger = "rules"
            else:
                trigger = "daily"
            row = recompute(session, w, now, trigger, ctx, force=trigger != "daily")
            counts[trigger if row is not last else "unchanged"] += 1
        after = batch[-1].id
        session.flush()


class Settler:
    """The session factory's `before_commit` listener: recompute each worker marked by
    `events.credit_changed` in the committing transaction (every file of the person)."""

    def __init__(self, ctx: Context):
        self.ctx = ctx

    def __call__(self, session: Session) -> None:
        marked = events.take(session)
        done: set[int] = set()
        for (agency_id, ref), (now, trigger) in marked.items():
            worker = session.scalar(select(Worker).where(Worker.agency_id == agency_id,
                                                         Worker.worker_ref == ref))
            if worker is None:
                continue
            for a, r in files_of(session, worker):
                w = worker if (a, r) == (agency_id, ref) else session.scalar(
                    select(Worker).where(Worker.agency_id == a, Worker.worker_ref == r))
                if w is not None and w.id not in done and w.state == "active":
                    done.add(w.id)
                    recompute(session, w, now, trigger, self.ctx)

    @staticmethod
    def discard(session: Session) -> None:
        """`after_rollback`: the marks of a rolled-back transaction are dropped."""
        events.take(session)

