"""The monthly report in the console (table, calendar heat map, who is missing, CSV and
XLSX with Chinese headers) and its daily-counts API. The numbers come from
services/reports.py, which uses the same `attendance.report` as the attendance API."""
from flask import Blueprint, Response, g, jsonify, request

from ..i18n import t_zh
from ..services import attendance, disclosures, registry, reports
from ..services.errors import BadRequest
from ..services.periods import parse_period, period_of
from . import html
from .common import api_key_required, ext
from .console import _error, _page, agency_staff_only, login_required, not_found

bp = Blueprint("reports", __name__, url_prefix="/console/reports")
bp.before_request(agency_staff_only)
bp.register_error_handler(404, not_found)
bp.register_error_handler(BadRequest, _error)
api = Blueprint("reports_api", __name__, url_prefix="/api/v1")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _period(value, default=None):
    value = value or default
    try:
        parse_period(value)
    except (ValueError, AttributeError) as err:
        raise BadRequest("period must be YYYY-MM", reason="bad_period") from err
    return value


def _monthly(agency_id, period, exported_by=None):
    """The month's report; a download (`exported_by` its role) is an "export" disclosure of
    every worker in it, recorded in the same transaction."""
    x = ext()
    tz, start_day = x.config["TIMEZONE"], x.config["PERIOD_START_DAY"]
    with x.db.session() as s:
        registry.get_agency(s, agency_id)
        rep = reports.monthly(s, agency_id, period, tz, start_day)
        if exported_by is not None:
            disclosures.record_many(s, agency_id, attendance.report_refs(
                agency_id, period, tz, start_day), x.now(), "export", exported_by)
        return rep


@bp.get("/")
@login_required
def report():
    x = ext()
    current = period_of(x.now(), x.config["TIMEZONE"], x.config["PERIOD_START_DAY"])
    try:
        period = _period(request.args.get("period"), current)
    except BadRequest:
        period = current
    rep = _monthly(g.agency_id, period)
    with x.db.session() as s:
        agency = registry.get_agency(s, g.agency_id)
    y, m = map(int, period.split("-"))
    prev = f"{y - (m == 1):04d}-{(m - 2) % 12 + 1:02d}"
    nxt = f"{y + (m == 12):04d}-{m % 12 + 1:02d}"
    return _page("console/report.html", rep=rep, cal=reports.calendar(rep["daily"]),
                 period=period, prev=prev, next=nxt, agency=agency, nav="reports",
                 levels=reports.LEVELS)


def _download(data, mimetype, name):
    resp = Response(data, mimetype=mimetype)
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return html.security_headers(resp)


@bp.get("/<period>.csv")
@login_required
def export_csv(period):
    period = _period(period)
    rep = _monthly(g.agency_id, period, g.actor)
    data = reports.to_csv(rep, ext().config["TIMEZONE"], t_zh)
    return _download(data.encode("utf-8"), "text/csv",
                     f"attendance-{g.agency_id}-{period}.csv")


@bp.get("/<period>.xlsx")
@login_required
def export_xlsx(period):
    period = _period(period)
    rep = _monthly(g.agency_id, period, g.actor)
    return _download(reports.to_xlsx(rep, ext().config["TIMEZONE"], t_zh), XLSX,
                     f"attendance-{g.agency_id}-{period}.xlsx")


@api.get("/agencies/<agency_id>/attendance/daily")
@api_key_required
def daily(agency_id):
    registry.authorize(g.agency, agency_id)
    period = _period(request.args.get("period", ""))
    x = ext()
    with x.db.session() as s:
        registry.get_agency(s, agency_id)
        days = reports.daily(s, agency_id, period, x.config["TIMEZONE"],
                             x.config["PERIOD_START_DAY"])
    return jsonify(agency=agency_id, period=period, days=days,
                   checkins=sum(d["checkins"] for d in days))
