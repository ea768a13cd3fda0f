"""The console's verified visits (`/console/visits`, per worker or per agreement), service
agreements (`/console/agreements`: list, record, one agreement with its visits, name its
household), fraud signals (`/console/signals`), the agency's credit figures
(`/console/credit`) and a worker's credit records
(`/console/workers/<id>/records…`: enter, verify, withdraw) and appeals filed at the desk
for the worker (`/console/workers/<id>/appeals`). Staff of one agency see their agency only.
Logic in services/visits.py, agreements.py, signals.py, records.py, appeals.py."""
from flask import Blueprint, abort, g, redirect, request, url_for
from flask_wtf.csrf import CSRFError

from ..services import (agency_credit, agreements, appeals, ban_proposals, complaints, console,
                        records, registry, signals, visits)
from ..services.errors import ServiceError
from .console import _csrf_refused, _error, _page, agency_staff_only, login_required, not_found
from .common import ext

bp = Blueprint("casework", __name__, url_prefix="/console")
bp.before_request(agency_staff_only)
bp.register_error_handler(404, not_found)
bp.register_error_handler(ServiceError, _error)
bp.register_error_handler(CSRFError, _csrf_refused)


def _int_arg(name):
    value = request.args.get(name, "")
    return int(value) if value.isdigit() and len(value) < 19 else None


def _agency(s):
    return registry.get_agency(s, g.agency_id)


@bp.get("/visits")
@login_required
def visit_list():
    x = ext()
    worker = (request.args.get("worker") or "").strip()[:64] or None
    agreement = _int_arg("agreement")
    with x.db.session() as s:
        if agreement is not None:
            agreements.get(s, g.agency_id, agreement)
        rows, nxt = visits.for_worker(s, g.agency_id, worker, agreement, _int_arg("before"))
        agency = _agency(s)
    return _page("console/visits.html", rows=rows, next_cursor=nxt, worker=worker,
                 agreement=agreement, agency=agency, nav="visits")


@bp.get("/agreements")
@login_required
def agreement_list():
    x = ext()
    worker = (request.args.get("worker") or "").strip()[:64] or None
    with x.db.session() as s:
        rows = agreements.for_agency(s, g.agency_id, worker)
        agency = _agency(s)
    return _page("console/agreements.html", rows=rows, worker=worker, agency=agency,
                 services=visits.catalogue(x.config, g.agency_id), nav="agreements",
                 form=request.args)


@bp.post("/agreements")
@login_required
def agreement_create():
    x = ext()
    f = request.form
    try:
        with x.db.session() as s:
            a = agreements.create(s, g.agency_id, f.get("worker", "").strip(),
                                  f.get("household"), f.get("reference"), f.get("service"),
                                  f.get("first_day"), f.get("term_months"),
                                  f.get("hours_per_week"),
                                  visits.catalogue(x.config, g.agency_id), x.now(), g.actor,
                                  x.config["TIMEZONE"])
            aid = a.id
    except ServiceError as err:
        return _error(err)
    return redirect(url_for("casework.agreement", agreement_id=aid, done="created"), 303)


@bp.get("/agreements/<int:agreement_id>")
@login_required
def agreement(agreement_id):
    x = ext()
    with x.db.session() as s:
        row = agreements.one(s, g.agency_id, agreement_id)
        rows, nxt = visits.for_worker(s, g.agency_id, agreement_id=agreement_id)
        agency = _agency(s)
    done = request.args.get("done")
    return _page("console/agreement.html", row=row, a=row["agreement"], rows=rows,
                 next_cursor=nxt, agency=agency, nav="agreements",
                 done=done if done in ("created", "household") else None)


@bp.post("/agreements/<int:agreement_id>/household")
@login_required
def agreement_household(agreement_id):
    x = ext()
    try:
        with x.db.session() as s:
            agreements.name_household(s, g.agency_id, agreement_id,
                                      request.form.get("household", ""), x.now(), g.actor)
    except ServiceError as err:
        return _error(err)
    return redirect(url_for("casework.agreement", agreement_id=agreement_id,
                            done="household"), 303)


@bp.get("/signals")
@login_required
def signal_list():
    x = ext()
    with x.db.session() as s:
        rows = signals.for_agency(s, g.agency_id)
        agency = _agency(s)
    return _page("console/signals.html", rows=rows, agency=agency, nav="signals")


def _record_form(worker_id, kind, form, error=None, status=200):
    x = ext()
    spec = records.KINDS.get(kind)
    if spec is None:
        abort(404)
    with x.db.session() as s:
        w = registry.get_worker(s, g.agency_id, worker_id)
        agency = _agency(s)
        s.expunge(w)
    return _page("console/record.html", status, kind=spec, worker=w, form=form, error=error,
                 agency=agency, nav="workers")


@bp.get("/workers/<int:worker_id>/records/new")
@login_required
def record_new(worker_id):
    return _record_form(worker_id, request.args.get("kind", ""), {})


@bp.post("/workers/<int:worker_id>/records")
@login_required
def record_add(worker_id):
    """Enter a record; a wrong field shows the form again with its values and the field
    named (400), nothing written."""
    x = ext()
    f = request.form
    try:
        with x.db.session() as s:
            w = registry.get_worker(s, g.agency_id, worker_id)
            records.add(s, g.agency_id, w.worker_ref, f.get("kind", ""), f,
                        f.get("state", ""), x.now(), g.actor, x.config["TIMEZONE"])
    except ServiceError as err:
        if err.reason != "bad_record" or f.get("kind") not in records.KINDS:
            return _error(err)
        return _record_form(worker_id, f.get("kind"), f,
                            {"field": err.extra.get("field"), "message": err.message}, 400)
    return redirect(url_for("console.worker", worker_id=worker_id, done="record") +
                    "#records", 303)


@bp.post("/workers/<int:worker_id>/records/<int:record_id>/verify")
@login_required
def record_verify(worker_id, record_id):
    return _record_change(worker_id, record_id, "verified")


@bp.post("/workers/<int:worker_id>/records/<int:record_id>/withdraw")
@login_required
def record_withdraw(worker_id, record_id):
    return _record_change(worker_id, record_id, "withdrawn")


def _record_change(worker_id, record_id, done):
    x = ext()
    try:
        with x.db.session() as s:
            w = registry.get_worker(s, g.agency_id, worker_id)
            r = records.get(s, g.agency_id, record_id)
            if r.worker_ref != w.worker_ref:
                abort(404)
            if done == "verified":
                records.verify(s, g.agency_id, record_id, x.now(), g.actor)
            else:
                records.withdraw(s, g.agency_id, record_id, request.form.get("reason"),
                                 x.now(), g.actor)
    except ServiceError as err:
        return _error(err)
    return redirect(url_for("console.worker", worker_id=worker_id, done=done) + "#records",
                    303)


def _complaint_step(complaint_id, step):
    x = ext()
    f = request.form
    try:
        with x.db.session() as s:
            if step == "reply":
                c = complaints.reply(s, g.agency_id, complaint_id, f.get("reply"), x.now(),
                                     g.actor)
            else:
                c = complaints.propose(s, g.agency_id, complaint_id, f.get("outcome"),
                                       f.get("note"), x.now(), g.actor)
            wid = console.worker_id_for_ref(s, g.agency_id, c.worker_ref)
    except ServiceError as err:
        return _error(err)
    return redirect(url_for("console.worker", worker_id=wid, done=step) + "#complaints"
                    if wid else url_for("console.workers"), 303)


@bp.post("/complaints/<int:complaint_id>/reply")
@login_required
def complaint_reply(complaint_id):
    """The worker's reply, entered by staff for the worker."""
    return _complaint_step(complaint_id, "reply")


@bp.post("/complaints/<int:complaint_id>/propose")
@login_required
def complaint_propose(complaint_id):
    """The agency's outcome: final for a minor complaint, a proposal for a serious one."""
    return _complaint_step(complaint_id, "proposed")


@bp.get("/credit")
@login_required
def credit():
    """The agency's own credit figures (services/agency_credit.py)."""
    x = ext()
    with x.db.session() as s:
        data = agency_credit.figures(s, g.agency_id, x.now(), x.config["TIMEZONE"],
                                     x.config["PERIOD_START_DAY"])
        agency = _agency(s)
    return _page("console/credit.html", f=data, agency=agency, nav="credit")


@bp.post("/workers/<int:worker_id>/appeals")
@login_required
def appeal_file(worker_id):
    """The worker's appeal of the grade, a record, a complaint's outcome or a review, entered
    at the desk for the worker; the bureau decides it."""
    x = ext()
    with x.db.session() as s:
        w = registry.get_worker(s, g.agency_id, worker_id)
        appeals.file(s, g.agency_id, w.worker_ref, request.form.get("target"),
                     request.form.get("grounds"), x.now(), f"worker via {g.actor}")
    return redirect(url_for("console.worker", worker_id=worker_id, done="appeal") +
                    "#appeals", 303)


@bp.post("/workers/<int:worker_id>/ban-proposals")
@login_required
def ban_propose(worker_id):
    """The agency proposes that the bureau ban this (enrolled) worker; the bureau decides."""
    x = ext()
    with x.db.session() as s:
        ban_proposals.propose(s, g.agency_id, worker_id, request.form, x.now(), g.actor)
    return redirect(url_for("console.worker", worker_id=worker_id, done="ban_proposed") +
                    "#ban-proposals", 303)
