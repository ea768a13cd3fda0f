"""The city's statistics beside the national export, for the bureau console: 12-month trends
(check-in rate, complaints filed, badges issued) for the city or one agency, and the active
workers by service type (the occupational title of their verified skill certificates) and by
district (the administrative division in the agency's 统一社会信用代码: its characters 3-8,
GB/T 2260, named from python-stdnum's division table). Counts only: nothing about a person.
"""
from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import Agency, AgencyApplication, Ban, Checkin, Worker
from . import aggregates
from .records import TITLES

NO_CERTIFICATE = "none"         # the service-type row of workers without a verified certificate
UNKNOWN = "unknown"             # the district of an agency admitted before applications existed


def trends(session: Session, now: int, tz: str, start_day: int,
           agency_id: str | None = None, n: int = 12) -> list[dict[str, Any]]:
    """One row per period, oldest first, the current one last: workers registered (active,
    created before the period ended), checked in, the rate, complaints filed, badges issued."""
    p = aggregates.Periods.of(now, tz, start_day, n)
    def total(by_agency: dict[str, Any]) -> list[Any]:
        return list(by_agency.values()) if agency_id is None else \
            [by_agency[agency_id]] if agency_id in by_agency else []
    workers = total(aggregates.workers(session, p, agency_id))
    present = total(aggregates.attendance(session, p, agency_id))
    filed = total(aggregates.complaints_filed(session, p, agency_id))
    issued = [n for states in total(aggregates.badges(session, p, agency_id))
              for n in states.values()]
    rows = []
    for i, period in enumerate(p.names):
        registered = sum(w[i] for w in workers)
        checked = sum(a.get(period, 0) for a in present)
        rows.append({"period": period, "registered": registered, "checked_in": checked,
                     "checkin_rate": round(checked / registered, 3) if registered else None,
                     "complaints": sum(f[i] for f in filed),
                     "badges_issued": sum(b[i + 1] for b in issued)})
    return rows


def service_types(session: Session, now: int) -> list[dict[str, Any]]:
    """Active workers per occupational title of a verified skill certificate in force (a
    worker with two titles counts in both), and those with none."""
    by_title = {t: 0 for t in TITLES}
    for held in aggregates.records(session, now).values():
        for (kind, title), n in held.items():
            if kind == "skill_certificate" and title in by_title:
                by_title[title] += n
    active = sum(aggregates.active(session).values())
    return ([{"type": t, "workers": n} for t, n in by_title.items()] +
            [{"type": NO_CERTIFICATE, "workers": active - aggregates.certified(session, now)}])


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
    workers = aggregates.active(session)
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
    # one probe of ix_checkins_synced per agency, not a scan of every check-in
    last = (select(func.max(Checkin.received_at)).where(Checkin.agency_id == Agency.id)
            .correlate(Agency).scalar_subquery())
    return {a: {"banned_workers": banned.get(a, 0), "last_sync": synced}
            for a, synced in session.execute(select(Agency.id, last))}
