"""Credit events: a service that changes an input of the credit rules (a review, a complaint's
step, a record, a visit, an appeal) calls `credit_changed`; when the transaction commits, the
worker's grade is recomputed once, in that same transaction (services/grades.py `Settler`,
registered on the session factory by the extension). Nothing is imported here so that every
service may call it."""
from __future__ import annotations

from typing import Any

KEY = "xinka.credit_events"


def credit_changed(session: Any, agency_id: str, worker_ref: str, now: int,
                   trigger: str) -> None:
    """Mark a worker file for recomputation at commit (the last trigger of a file wins)."""
    session.info.setdefault(KEY, {})[(agency_id, worker_ref)] = (now, trigger)


def take(session: Any) -> dict[tuple[str, str], tuple[int, str]]:
    """The marked files, cleared."""
    return session.info.pop(KEY, None) or {}
