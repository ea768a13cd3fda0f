"""The monthly attendance report of an agency: the same present/missing numbers as
`GET /api/v1/agencies/<a>/attendance` (this module calls the same `attendance.report`), the
check-ins per day for the calendar heat map (also `GET .../attendance/daily`), and the CSV
and XLSX exports.

Column headers are msgids of the message catalogue (verifier/i18n); the caller passes the
translate function (the exports use Chinese).
"""
from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..i18n.messages import N_
from ..models import Checkin, Worker
from . import agreements, attendance
from .periods import bounds

HEADERS = (N_("Worker number"), N_("Name"), N_("Checked in"), N_("Check-ins"),
           N_("First check-in"), N_("First terminal"), N_("Last check-in"),
           N_("Last terminal"))
DAILY_HEADERS = (N_("Date"), N_("Check-ins"), N_("Workers"))
VISIT_HEADERS = (N_("Agreement"), N_("Worker number"), N_("Household or reference"),
                 N_("Service"), N_("Visits"), N_("Verified hours"), N_("Agreed hours"))
SHEETS = (N_("Attendance"), N_("Daily"), N_("Visits"))
YES, NO = N_("yes"), N_("no")
LEVELS = 5                     # heat map colour steps above zero

Translate = Callable[[str], str]


def monthly(session: Session, agency_id: str, period: str, tz: str,
            start_day: int) -> dict[str, Any]:
    """The API report plus names and the daily counts."""
    rep = attendance.report(session, agency_id, period, tz, start_day)
    ids = [r["worker_id"] for r in rep["present"] if r.get("worker_id")]
    names = {wid: name for wid, name in session.execute(
        select(Worker.id, Worker.name).where(Worker.id.in_(ids)))} if ids else {}
    for r in rep["present"]:
        r["name"] = names.get(r.get("worker_id"))
    rep["daily"] = daily(session, agency_id, period, tz, start_day)
    rep["agreements"] = agreements.period_summary(session, agency_id, period, tz, start_day)
    return rep


def daily(session: Session, agency_id: str, period: str, tz: str,
          start_day: int) -> list[dict[str, Any]]:
    """[{date, checkins, workers}] for every day of the period (zeros included)."""
    start, end = bounds(period, tz, start_day)
    zone = ZoneInfo(tz)
    counts: dict[str, list[Any]] = {}       # day -> [check-ins, {worker refs}]
    rows = session.execute(select(Checkin.seen_at, Checkin.worker_ref).where(
        Checkin.agency_id == agency_id, Checkin.period == period))
    for seen, ref in rows:
        day = datetime.fromtimestamp(seen, zone).date().isoformat()
        c = counts.setdefault(day, [0, set()])
        c[0] += 1
        c[1].add(ref)
    out = []
    d = datetime.fromtimestamp(start, zone).date()
    last = datetime.fromtimestamp(end - 1, zone).date()
    while d <= last:
        n, refs = counts.get(d.isoformat(), (0, ()))
        out.append({"date": d.isoformat(), "checkins": n, "workers": len(refs)})
        d += timedelta(days=1)
    return out


def count_checkins(session: Session, agency_id: str, period: str) -> int:
    return session.scalar(select(func.count(Checkin.id)).where(
        Checkin.agency_id == agency_id, Checkin.period == period)) or 0


def calendar(days: list[dict[str, Any]]) -> dict[str, Any]:
    """The heat map layout: weeks as rows (Monday first), each cell {date, day, checkins,
    workers, level 0..LEVELS, x, y} or None outside the period."""
    if not days:
        return {"weeks": [], "max": 0}
    top = max(d["checkins"] for d in days)
    first = datetime.fromisoformat(days[0]["date"]).weekday()
    cells = [None] * first + [dict(d, day=int(d["date"][8:]), level=_level(d["checkins"], top))
                              for d in days]
    cells += [None] * (-len(cells) % 7)
    weeks = [cells[i:i + 7] for i in range(0, len(cells), 7)]
    for y, week in enumerate(weeks):
        for x, c in enumerate(week):
            if c is not None:
                c["x"], c["y"] = x, y
    return {"weeks": weeks, "max": top}


def _level(n: int, top: int) -> int:
    if n == 0 or top == 0:
        return 0
    return max(1, -(-n * LEVELS // top))


def _when(ts: int | None, tz: str) -> str:
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts, ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


def rows(rep: dict[str, Any], tz: str, t: Translate) -> list[list[Any]]:
    """Export rows (present first, then missing), translated with `t`."""
    out = []
    for r in rep["present"]:
        out.append([r["worker_ref"], r.get("name") or "", t(YES), r["count"],
                    _when(r["first_at"], tz), r["first_terminal"], _when(r["last_at"], tz),
                    r["last_terminal"]])
    for r in rep["missing"]:
        out.append([r["worker_ref"], r.get("name") or "", t(NO), 0, "", "", "", ""])
    return out


def to_csv(rep: dict[str, Any], tz: str, t: Translate) -> str:
    """UTF-8 with a byte order mark, so spreadsheet programs read the Chinese headers."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([t(h) for h in HEADERS])
    for r in rows(rep, tz, t):
        w.writerow([_cell(v) for v in r])
    return "\ufeff" + buf.getvalue()


def _cell(v: object) -> object:
    """Neutralise spreadsheet formulas in text cells (=, +, -, @ at the start)."""
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + v
    return v


def to_xlsx(rep: dict[str, Any], tz: str, t: Translate) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    if ws is None:                  # a new Workbook has one sheet, and it is active
        ws = wb.create_sheet()
    ws.title = t(SHEETS[0])[:31]
    ws.append([t(h) for h in HEADERS])
    for r in rows(rep, tz, t):
        ws.append([_cell(v) for v in r])
    for c in ws[1]:
        c.font = Font(bold=True)
    ws.freeze_panes = "A2"
    for col, width in zip("ABCDEFGH", (14, 12, 10, 10, 18, 16, 18, 16), strict=True):
        ws.column_dimensions[col].width = width
    ws2 = wb.create_sheet(t(SHEETS[1])[:31])
    ws2.append([t(h) for h in DAILY_HEADERS])
    for d in rep["daily"]:
        ws2.append([d["date"], d["checkins"], d["workers"]])
    for c in ws2[1]:
        c.font = Font(bold=True)
    ws3 = wb.create_sheet(t(SHEETS[2])[:31])
    ws3.append([t(h) for h in VISIT_HEADERS])
    for r in rep.get("agreements", []):
        a = r["agreement"]
        ref = " · ".join(x for x in (r["household"], a.reference if a else None) if x)
        ws3.append([a.id if a else "", r["worker_ref"] or "", _cell(ref),
                    r["service_type"] or "", r["visits"], round(r["verified_min"] / 60, 1),
                    round(r["agreed_min"] / 60, 1) if a else ""])
    for c in ws3[1]:
        c.font = Font(bold=True)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
