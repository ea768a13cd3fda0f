"""The bureau console (`/bureau/…`, bureau staff only: role "bureau"): the city's totals, its
12-month trends (server-drawn SVG), active workers by service type and by district, every
agency's figures in one table (sortable by any column, each agency's own page with its trends
and terminals), the queues waiting for the bureau (escalated complaints, appeals, admission
applications, bans in force), and every table as CSV and the lot as XLSX. Aggregates and the
bureau's own cases only: no worker's name, reference or record. The agency figures are the
national export's (services/national.py), which are the bureau API's; the rest is
services/city.py. The bureau's decisions are taken here as over the bureau API, by the same
service calls (an admission application approved, sent back for changes or refused; an
escalated complaint or an appeal decided; a ban lifted), each in the hash-chained audit log
under the signed-in user ("staff:<username>")."""
import json

from flask import Blueprint, Response, abort, g, redirect, request, url_for
from flask_login import current_user, login_required
from flask_wtf.csrf import CSRFError

from ..i18n.messages import N_
from ..models import Appeal, CreditGrade
from ..services import (admission, appeals, ban_proposals, bans, city_figures, complaints,
                        console, national)
from ..services.credit_rules import Reason
from ..services.errors import ServiceError
from .bureau import _apply as republish_banned
from .common import ext, refused
from .console import _after_change, _csrf_refused, _error, _page, not_found
from .reports import XLSX, _download

bp = Blueprint("bureau_console", __name__, url_prefix="/bureau")
bp.register_error_handler(404, not_found)
bp.register_error_handler(ServiceError, _error)
bp.register_error_handler(CSRFError, _csrf_refused)
APPLICATION_ACTIONS = ("approve", "request-changes", "refuse")
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
           ("trusted_keys", N_("Keys in the trust list")),
           ("grade_A", "A"), ("grade_B", "B"), ("grade_C", "C"), ("grade_D", "D"))
TREND_COLUMNS = ("period", "registered", "checked_in", "checkin_rate", "complaints",
                 "badges_issued")
AGENCY_COLUMNS = national.CSV_COLUMNS + ("banned_workers", "last_sync", "trusted_keys")
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


def trusted_keys(s, now):
    """agency -> the number of its issuer keys in the trust list the verifier holds (an
    agency suspended or removed is absent: its badges are red everywhere)."""
    trust = ext().store.refresh(s, now).trust
    return {} if trust is None else {a.id: len(a.keys) for a in trust.agencies}


def _figures(s, now):
    x = ext()
    return city_figures.figures(s, now, x.config["TIMEZONE"], x.config["PERIOD_START_DAY"],
                                int(x.config["CITY_FIGURES_MAX_AGE_S"]))


def _city():
    """Everything the overview shows: (export, {table name: rows}, the figures' time). The
    counts are the stored figures while they are fresh (services/city_figures.py); the
    column of trusted keys is the verifier's trust list now."""
    x = ext()
    now = x.now()
    with x.db.session() as s:
        f = _figures(s, now)
        keys = trusted_keys(s, now)
    data = f["export"]
    extras = {a: dict(e, trusted_keys=keys.get(a, 0)) for a, e in f["extras"].items()}
    tables = {"agencies": [{**r, **extras.get(r["id"], {})} for r in national.table(data)],
              "trends": f["trends"], "service_types": f["service_types"],
              "districts": f["districts"]}
    return data, tables, f["as_of"]


@bp.get("/")
def overview():
    data, tables, as_of = _city()
    sort = request.args.get("sort", "name")
    sort = sort if sort in dict(COLUMNS) else "name"
    descending = request.args.get("dir") == "desc"
    return _page("bureau/overview.html", data=data, columns=COLUMNS, sort=sort,
                 descending=descending,
                 rows=national.sort_rows(tables["agencies"], sort, descending),
                 trends=tables["trends"], service_types=tables["service_types"],
                 districts=tables["districts"], as_of=as_of, now=ext().now(),
                 max_age=int(ext().config["CITY_FIGURES_MAX_AGE_S"]),
                 done=request.args.get("done"), nav="overview")


@bp.post("/refresh")
def refresh():
    """Count the city now (the timer does it every five minutes), then back to the page."""
    x = ext()
    with x.db.session() as s:
        city_figures.refresh(s, x.now(), x.config["TIMEZONE"], x.config["PERIOD_START_DAY"])
    return redirect(url_for(".overview", done="refreshed"), 303)


@bp.get("/agencies/<agency_id>")
def agency(agency_id):
    x = ext()
    now = x.now()
    with x.db.session() as s:
        f = _figures(s, now)
        data = f["export"]
        entry = next((a for a in data["agencies"] if a["id"] == agency_id), None)
        if entry is None:
            abort(404)
        extra = dict(f["extras"].get(agency_id, {}),
                     trusted_keys=trusted_keys(s, now).get(agency_id, 0))
        trends = f["agency_trends"].get(agency_id, [])
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
        proposals = [ban_proposals.to_json(s, p) for p in ban_proposals.waiting(s)]
    return _page("bureau/queues.html", complaints=waiting, appeals=open_appeals,
                 applications=applications, bans=in_force, proposals=proposals,
                 done=request.args.get("done"), nav="queues")


def _form_text(name):
    """A form field as typed (the service checks its length and refuses, never cuts)."""
    return request.form.get(name, "").strip()


@bp.get("/applications/<int:app_id>")
def application(app_id):
    x = ext()
    with x.db.session() as s:
        row = admission.get(s, app_id)
        a = dict(admission.to_json(row), public_keys=row.public_keys)
    return _page("bureau/application.html", a=a, done=request.args.get("done"),
                 nav="queues")


@bp.post("/applications/<int:app_id>/<action>")
def application_decision(app_id, action):
    """Approve (the agency's id, as it will stand in the trust list), ask for changes or
    refuse (a note the applicant reads)."""
    if action not in APPLICATION_ACTIONS:
        abort(404)
    x = ext()
    with x.db.session() as s:
        if action == "approve":
            admission.approve(s, app_id, _form_text("agency_id"), x.now(), g.actor)
        elif action == "refuse":
            admission.refuse(s, app_id, _form_text("note"), x.now(), g.actor)
        else:
            admission.request_changes(s, app_id, _form_text("note"), x.now(), g.actor)
    return redirect(url_for(".application", app_id=app_id, done=action), 303)


@bp.get("/applications/<int:app_id>/keys.pem")
def application_keys(app_id):
    """The approved agency's public keys, for `xinka-authority agency add --key`."""
    with ext().db.session() as s:
        agency_id, _name, pems = admission.keys_for_trust_list(s, app_id)
    return Response(pems, mimetype="application/x-pem-file", headers={
        "Content-Disposition": f'attachment; filename="{agency_id}.pem"',
        "X-Agency-Id": agency_id})


@bp.get("/complaints/<int:complaint_id>")
def complaint(complaint_id):
    x = ext()
    with x.db.session() as s:
        c = complaints.to_json(s, complaints.get(s, None, complaint_id))
    return _page("bureau/complaint.html", c=c, done=request.args.get("done"), nav="queues")


@bp.post("/complaints/<int:complaint_id>/decision")
def complaint_decision(complaint_id):
    x = ext()
    with x.db.session() as s:
        complaints.decide(s, complaint_id, request.form.get("outcome"), _form_text("note"),
                          x.now(), g.actor)
    _after_change()
    return redirect(url_for(".complaint", complaint_id=complaint_id, done="decided"), 303)


def _appeal(s, appeal_id):
    a = s.get(Appeal, appeal_id)
    if a is None:
        abort(404)
    reasons = []
    if a.target == "grade":
        row = s.get(CreditGrade, a.target_id)
        reasons = [Reason.from_json(r) for r in json.loads(row.reasons or "[]")
                   if r.get("ref")] if row is not None else []
    return appeals.to_json(a), reasons


@bp.get("/appeals/<int:appeal_id>")
def appeal(appeal_id):
    with ext().db.session() as s:
        a, reasons = _appeal(s, appeal_id)
    return _page("bureau/appeal.html", a=a, reasons=reasons, done=request.args.get("done"),
                 nav="queues")


@bp.post("/appeals/<int:appeal_id>/decision")
def appeal_decision(appeal_id):
    """Upheld (for an appeal of the grade: the reasons ticked are set aside) or rejected."""
    x = ext()
    with x.db.session() as s:
        appeals.decide(s, appeal_id, request.form.get("outcome"), _form_text("note"),
                       request.form.getlist("set_aside"), x.now(), g.actor)
    _after_change()
    return redirect(url_for(".appeal", appeal_id=appeal_id, done="decided"), 303)


@bp.get("/ban-proposals/<int:proposal_id>")
def ban_proposal(proposal_id):
    with ext().db.session() as s:
        p = ban_proposals.to_json(s, ban_proposals.get(s, proposal_id))
    return _page("bureau/ban_proposal.html", p=p, done=request.args.get("done"),
                 nav="queues")


@bp.post("/ban-proposals/<int:proposal_id>/decision")
def ban_proposal_decision(proposal_id):
    """Accept (the ban is made, by the bureau, with its appeal route) or reject (a note the
    agency reads)."""
    x = ext()
    f = request.form
    d = {"accept": f.get("accept") == "yes" if f.get("accept") in ("yes", "no") else None,
         "note": _form_text("note"), "decided_by": _form_text("decided_by"),
         "appeal_route": _form_text("appeal_route")}
    with x.db.session() as s:
        _p, change = ban_proposals.decide(s, proposal_id, d, x.now(), g.actor,
                                          x.config["TIMEZONE"])
        if change is not None:
            republish_banned(s, change)
    _after_change()
    return redirect(url_for(".ban_proposal", proposal_id=proposal_id, done="decided"), 303)


@bp.post("/bans/<int:ban_id>/lift")
def lift_ban(ban_id):
    """Lift a ban before its end (a court's or the bureau's own decision: the reason is
    kept); the person's agencies' status lists are republished in the same transaction."""
    x = ext()
    with x.db.session() as s:
        change = bans.lift(s, ban_id, {"reason": _form_text("reason")}, x.now(), g.actor)
        republish_banned(s, change)
    _after_change()
    return redirect(url_for(".queues", done="lifted"), 303)


@bp.get("/<table>.csv")
def export_csv(table):
    if table not in TABLES:
        abort(404)
    data, tables, _ = _city()
    return _download(national.rows_csv(TABLES[table], tables[table]), "text/csv",
                     f"{table}-{data['period']}.csv")


@bp.get("/city.xlsx")
def export_xlsx():
    data, tables, _ = _city()
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
