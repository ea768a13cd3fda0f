"""The bureau console (`/bureau/…`, bureau staff only: role "bureau"): the city's totals, its
12-month trends (server-drawn SVG), active workers by service type and by district, every
agency's figures in one table (sortable by any column, each agency's own page with its trends
and terminals), the queues waiting for the bureau (escalated complaints, appeals, admission
applications, bans in force), and every table as CSV and the lot as XLSX. Aggregates and the
bureau's own cases only: no worker's name, reference or record. The agency figures are the
national export's (services/national.py), which are the bureau API's; the rest is
services/city.py. Decisions are taken through the bureau API (docs/credit-rules.md)."""
from flask import Blueprint, abort, g, request
from flask_login import current_user, login_required

from ..i18n.messages import N_
from ..services import admission, appeals, bans, city, complaints, console, national
from .common import ext, refused
from .console import _page, not_found
from .reports import XLSX, _download

bp = Blueprint("bureau_console", __name__, url_prefix="/bureau")
bp.register_error_handler(404, not_found)
# the overview's columns: (column of national.CSV_COLUMNS, heading)
COLUMNS = (("name", N_("Agency")), ("active_workers", N_("Active workers")),
           ("badges_active", N_("Active badges")), ("badges_revoked", N_("Revoked badges")),
           ("checkin_rate", N_("Check-in rate")),
           ("insurance_coverage", N_("Insurance coverage")),
           ("complaints_per_100", N_("Complaints per 100 workers")),
           ("upheld_share", N_("Upheld share")),
           ("median_handling_days", N_("Median handling (days)")),
           ("overdue_complaints", N_("Overdue complaints")),
           ("banned_workers", N_("Workers banned")), ("last_sync", N_("Last terminal sync")),
           ("grade_A", "A"), ("grade_B", "B"), ("grade_C", "C"), ("grade_D", "D"))
TREND_COLUMNS = ("period", "registered", "checked_in", "checkin_rate", "complaints",
                 "badges_issued")
AGENCY_COLUMNS = national.CSV_COLUMNS + ("banned_workers", "last_sync")
# the CSV downloads: name -> columns
TABLES = {"agencies": AGENCY_COLUMNS, "trends": TREND_COLUMNS,
          "service_types": ("type", "workers"),
          "districts": ("code", "name", "agencies", "workers")}


@bp.before_request
@login_required
def bureau_staff_only():
    """Agency staff never see the bureau console (403)."""
    if g.staff.role != "bureau":
        refused("wrong_role", f"console user {g.staff.id} (agency) on the bureau console")
        return _page("console/message.html", 403, title_msg=N_("Request refused"),
                     text_msg=N_("This page is for the commerce bureau."))
    return None


def _export():
    x = ext()
    with x.db.session() as s:
        return national.export(s, x.now(), x.config["TIMEZONE"],
                               x.config["PERIOD_START_DAY"])


def _city():
    """Everything the overview shows, as of now: (export, {table name: rows})."""
    x = ext()
    tz, start_day, now = x.config["TIMEZONE"], x.config["PERIOD_START_DAY"], x.now()
    with x.db.session() as s:
        data = national.export(s, now, tz, start_day)
        extras = city.agency_extras(s, now)
        tables = {"agencies": [{**r, **extras.get(r["id"], {})} for r in national.table(data)],
                  "trends": city.trends(s, now, tz, start_day),
                  "service_types": city.service_types(s, now),
                  "districts": city.districts(s)}
    return data, tables


@bp.get("/")
def overview():
    data, tables = _city()
    sort = request.args.get("sort", "name")
    sort = sort if sort in dict(COLUMNS) else "name"
    descending = request.args.get("dir") == "desc"
    return _page("bureau/overview.html", data=data, columns=COLUMNS, sort=sort,
                 descending=descending,
                 rows=national.sort_rows(tables["agencies"], sort, descending),
                 trends=tables["trends"], service_types=tables["service_types"],
                 districts=tables["districts"], nav="overview")


@bp.get("/agencies/<agency_id>")
def agency(agency_id):
    x = ext()
    tz, start_day, now = x.config["TIMEZONE"], x.config["PERIOD_START_DAY"], x.now()
    with x.db.session() as s:
        data = national.export(s, now, tz, start_day)
        entry = next((a for a in data["agencies"] if a["id"] == agency_id), None)
        if entry is None:
            abort(404)
        extra = city.agency_extras(s, now).get(agency_id, {})
        trends = city.trends(s, now, tz, start_day, agency_id)
        terminals = console.terminals(s, agency_id, now)
        waiting = [complaints.to_json(s, c) for c in complaints.escalated(s)
                   if c.agency_id == agency_id]
        open_appeals = [appeals.to_json(a) for a in appeals.waiting(s)
                        if a.agency_id == agency_id]
    return _page("bureau/agency.html", a=entry, extra=extra, data=data, trends=trends,
                 terminals=terminals, waiting=waiting, appeals=open_appeals, now=now,
                 nav="overview")


@bp.get("/queues")
def queues():
    x = ext()
    with x.db.session() as s:
        complaints.escalate_overdue(s, x.now())
        waiting = [complaints.to_json(s, c) for c in complaints.escalated(s)]
        open_appeals = [appeals.to_json(a) for a in appeals.waiting(s)]
        applications = [a for a in admission.listing(s, None) if a["state"] in admission.OPEN]
        in_force = [b for b in bans.listing(s, x.now()) if b["state"] in ("active", "pending")]
    return _page("bureau/queues.html", complaints=waiting, appeals=open_appeals,
                 applications=applications, bans=in_force, nav="queues")


@bp.get("/<table>.csv")
def export_csv(table):
    if table not in TABLES:
        abort(404)
    data, tables = _city()
    return _download(national.rows_csv(TABLES[table], tables[table]), "text/csv",
                     f"{table}-{data['period']}.csv")


@bp.get("/city.xlsx")
def export_xlsx():
    data, tables = _city()
    totals = [{"name": k, "value": v} for k, v in data["totals"].items() if k != "grades"]
    totals += [{"name": f"grade_{k}", "value": n} for k, n in data["totals"]["grades"].items()]
    totals += [{"name": "period", "value": data["period"]},
               {"name": "rules_version", "value": data["rules_version"]}]
    sheets = {name: (TABLES[name], tables[name]) for name in TABLES}
    sheets["totals"] = (("name", "value"), totals)
    return _download(national.to_xlsx(sheets), XLSX, f"city-{data['period']}.xlsx")


def is_bureau():
    """For templates: the signed-in user is bureau staff."""
    return current_user.is_authenticated and getattr(g, "staff", None) is not None and \
        g.staff.role == "bureau"
