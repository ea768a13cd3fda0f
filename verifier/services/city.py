"""The city's statistics beside the national export, for the bureau console: 12-month trends
(check-in rate, complaints filed, badges issued) for the city or one agency, and the active
workers by service type (the occupational title of their verified skill certificates) and by
district (the administrative division in the agency's 统一社会信用代码: its characters 3-8,
GB/T 2260, named from python-stdnum's division table). Counts only: nothing about a person.
"""
from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select, true
from sqlalchemy.orm import Session

from ..models import (Agency, AgencyApplication, Attendance, Badge, Ban, Checkin, Complaint,
                      CreditRecord, Worker)
from .periods import bounds, last_periods
from .records import TITLES

NO_CERTIFICATE = "none"         # the service-type row of workers without a verified certificate
UNKNOWN = "unknown"             # the district of an agency admitted before applications existed


def trends(session: Session, now: int, tz: str, start_day: int,
           agency_id: str | None = None, n: int = 12) -> list[dict[str, Any]]:
    """One row per period, oldest first, the current one last: workers registered (active,
    created before the period ended), checked in, the rate, complaints filed, badges issued."""
    periods = last_periods(now, tz, start_day, n)
    def mine(col: Any) -> ColumnElement[bool]:
        return col == agency_id if agency_id else true()
    present = dict(session.execute(
        select(Attendance.period, func.count()).join(Worker, and_(
            Worker.agency_id == Attendance.agency_id, Worker.worker_ref == Attendance.worker_ref))
        .where(Attendance.period.in_(periods), Worker.state == "active",
               mine(Attendance.agency_id)).group_by(Attendance.period)).all())
    rows = []
    for p in periods:
        start, end = bounds(p, tz, start_day)
        registered = session.scalar(select(func.count(Worker.id)).where(
            Worker.state == "active", Worker.created_at < end, mine(Worker.agency_id))) or 0
        filed = session.scalar(select(func.count(Complaint.id)).where(
            Complaint.filed_at >= start, Complaint.filed_at < end,
            mine(Complaint.agency_id))) or 0
        issued = session.scalar(select(func.count(Badge.id)).where(
            Badge.created_at >= start, Badge.created_at < end, mine(Badge.agency_id))) or 0
        checked = present.get(p, 0)
        rows.append({"period": p, "registered": registered, "checked_in": checked,
                     "checkin_rate": round(checked / registered, 3) if registered else None,
                     "complaints": filed, "badges_issued": issued})
    return rows


def service_types(session: Session, now: int) -> list[dict[str, Any]]:
    """Active workers per occupational title of a verified skill certificate in force (a
    worker with two titles counts in both), and those with none."""
    certified = (select(Worker.id, CreditRecord.data).join(CreditRecord, and_(
        CreditRecord.agency_id == Worker.agency_id,
        CreditRecord.worker_ref == Worker.worker_ref)).where(
        Worker.state == "active", CreditRecord.kind == "skill_certificate",
        CreditRecord.state == "verified",
        (CreditRecord.valid_until.is_(None)) | (CreditRecord.valid_until >= now)))
    by_title: dict[str, set[int]] = {t: set() for t in TITLES}
    for worker_id, data in session.execute(certified):
        title = _title(data)
        if title in by_title:
            by_title[title].add(worker_id)
    active = session.scalar(select(func.count(Worker.id)).where(Worker.state == "active")) or 0
    anyone = set().union(*by_title.values())
    return ([{"type": t, "workers": len(ids)} for t, ids in by_title.items()] +
            [{"type": NO_CERTIFICATE, "workers": active - len(anyone)}])


def _title(data: str | None) -> str | None:
    title = json.loads(data or "{}").get("title")
    return title if isinstance(title, str) else None


def division(uscc: str | None) -> tuple[str, str]:
    """(code, name) of the administrative division in a USCC (characters 3-8), named from
    python-stdnum's table; (UNKNOWN, "") without one."""
    if not uscc or len(uscc) != 18 or not uscc[2:8].isdigit():
        return UNKNOWN, ""
    from stdnum import numdb
    code = uscc[2:8]
    parts = []
    for _, info in numdb.get("cn/loc").info(code):
        for key in ("province", "prefecture", "county"):
            if key in info:
                name = re.sub(r"^\[[^\]]*\]", "", info[key])   # "[1983-]西湖区"
                if name not in parts:                               # 北京市 北京市
                    parts.append(name)
    return code, "".join(parts)


def districts(session: Session) -> list[dict[str, Any]]:
    """Agencies and their active workers per district, most workers first."""
    uscc = dict(session.execute(select(AgencyApplication.agency_id, AgencyApplication.uscc)
                                .where(AgencyApplication.state == "approved")).all())
    workers = dict(session.execute(select(Worker.agency_id, func.count()).where(
        Worker.state == "active").group_by(Worker.agency_id)).all())
    out: dict[str, dict[str, Any]] = {}
    for agency_id in session.scalars(select(Agency.id)):
        code, name = division(uscc.get(agency_id))
        d = out.setdefault(code, {"code": code, "name": name, "agencies": 0, "workers": 0})
        d["agencies"] += 1
        d["workers"] += workers.get(agency_id, 0)
    return sorted(out.values(), key=lambda d: (d["code"] == UNKNOWN, -d["workers"], d["code"]))


def agency_extras(session: Session, now: int) -> dict[str, dict[str, Any]]:
    """agency -> workers under a ban in force, badges revoked, the last terminal sync."""
    banned = dict(session.execute(
        select(Worker.agency_id, func.count(func.distinct(Worker.id)))
        .join(Ban, Ban.person_id == Worker.person_id)
        .where(Ban.lifted_at.is_(None), Ban.starts_at <= now, Ban.ends_at > now)
        .group_by(Worker.agency_id)).all())
    synced = dict(session.execute(select(Checkin.agency_id, func.max(Checkin.received_at))
                                  .group_by(Checkin.agency_id)).all())
    return {a: {"banned_workers": banned.get(a, 0), "last_sync": synced.get(a)}
            for a in session.scalars(select(Agency.id))}
