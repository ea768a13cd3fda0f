"""The national export (docs/national-export.md): what the city reports to the national
platform — its agencies with their credit figures, badge counts and grade distribution, the
city's totals, and the bans in force by person hash only. No name, no worker reference, no ID
number, no household: only counts and the bureau's keyed hashes.

Versioned (`FORMAT`, `VERSION`); the JSON Schema is docs/national-export.schema.json, checked
by tests/web/test_national_export.py. The same figures as `GET
/api/v1/bureau/agencies/<id>/credit` (services/agency_credit.py), so the two never disagree.
"""
from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Agency
from . import aggregates, agency_credit, bans, credit_rules
from .periods import period_of

FORMAT = "xinka-national-export"
VERSION = 1
BADGE_STATES = ("active", "suspended", "lost", "revoked")
GRADES = credit_rules.GRADES + ("ungraded",)


def _badges(session: Session, now: int, tz: str, start_day: int) -> dict[str, dict[str, int]]:
    """agency -> badge state -> badges."""
    p = aggregates.Periods.of(now, tz, start_day)
    return {a: {state: sum(n) for state, n in by_state.items()}
            for a, by_state in aggregates.badges(session, p).items()}


def export(session: Session, now: int, tz: str, start_day: int) -> dict[str, Any]:
    """The export as of `now` (complaints past their deadline escalated first, as every read
    of complaints does)."""
    figures = agency_credit.by_agency(session, now, tz, start_day)
    grades, badges = aggregates.grades(session), _badges(session, now, tz, start_day)
    agencies = []
    for a in session.scalars(select(Agency).order_by(Agency.id)):
        f = figures[a.id]
        g = grades.get(a.id, {})
        graded = sum(g.values())
        agencies.append({
            "id": a.id, "name": a.name, "active_workers": f["active_workers"],
            "badges": {s: badges.get(a.id, {}).get(s, 0) for s in BADGE_STATES},
            "grades": {**{k: g.get(k, 0) for k in credit_rules.GRADES},
                       "ungraded": max(f["active_workers"] - graded, 0)},
            "compliance": f["compliance"], "service_quality": f["service_quality"],
            "performance": f["performance"],
            "social_responsibility": f["social_responsibility"]})
    in_force = [b for b in bans.listing(session, now) if b["state"] == "active"]
    registered = sum(a["performance"]["registered"] for a in agencies)
    present = sum(a["performance"]["checked_in"] for a in agencies)
    return {
        "format": FORMAT, "version": VERSION, "generated_at": now,
        "period": period_of(now, tz, start_day),
        "window_days": agency_credit.WINDOW_DAYS, "rules_version": credit_rules.CURRENT.version,
        "totals": {
            "agencies": len(agencies),
            "active_workers": sum(a["active_workers"] for a in agencies),
            "active_badges": sum(a["badges"]["active"] for a in agencies),
            "checkin_rate": round(present / registered, 3) if registered else None,
            "complaints": sum(a["service_quality"]["complaints"] for a in agencies),
            "overdue_complaints": sum(a["compliance"]["overdue_complaints"] for a in agencies),
            "bans_in_force": len(in_force),
            "grades": {k: sum(a["grades"][k] for a in agencies) for k in GRADES}},
        "agencies": agencies,
        "bans": [{"person_hash": b["person_hash"], "hash_key": b["hash_key"],
                  "category": b["category"], "starts_at": b["starts_at"],
                  "ends_at": b["ends_at"]} for b in in_force],
    }


CSV_COLUMNS = ("id", "name", "active_workers", *(f"badges_{s}" for s in BADGE_STATES),
               *(f"grade_{g}" for g in GRADES), "insurance_coverage", "overdue_complaints",
               "complaints", "complaints_per_100", "upheld_share", "median_handling_days",
               "checkin_rate", "training_hours_per_worker")


def to_csv(data: dict[str, Any]) -> str:
    """One row per agency, the columns of CSV_COLUMNS (docs/national-export.md)."""
    return rows_csv(CSV_COLUMNS, table(data))


def rows_csv(columns: tuple[str, ...], rows: list[dict[str, Any]]) -> str:
    """CSV of rows (a heading line of `columns`; no value: empty)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(columns)
    for r in rows:
        w.writerow(["" if r.get(c) is None else r[c] for c in columns])
    return buf.getvalue()


def _flat(a: dict[str, Any]) -> dict[str, Any]:
    return {"id": a["id"], "name": a["name"], "active_workers": a["active_workers"],
            **{f"badges_{k}": n for k, n in a["badges"].items()},
            **{f"grade_{g}": n for g, n in a["grades"].items()},
            **a["compliance"], **a["service_quality"],
            "checkin_rate": a["performance"]["checkin_rate"], **a["social_responsibility"]}


def table(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The agencies as flat rows (CSV_COLUMNS)."""
    return [_flat(a) for a in data["agencies"]]


def sort_rows(rows: list[dict[str, Any]], column: str, descending: bool = False
              ) -> list[dict[str, Any]]:
    """rows sorted by a column, rows without a value last whichever the direction."""
    known = sorted((r for r in rows if r.get(column) is not None),
                   key=lambda r: r[column], reverse=descending)
    return known + [r for r in rows if r.get(column) is None]


def to_xlsx(sheets: dict[str, tuple[tuple[str, ...], list[dict[str, Any]]]]) -> bytes:
    """A workbook of one sheet per entry: name -> (columns, rows); headings in bold."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    wb = Workbook()
    first = wb.active
    assert first is not None
    wb.remove(first)
    for name, (columns, rows) in sheets.items():
        ws = wb.create_sheet(name)
        ws.append(list(columns))
        for r in rows:
            ws.append([r.get(c) for c in columns])
        for cell in ws[1]:
            cell.font = Font(bold=True)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
