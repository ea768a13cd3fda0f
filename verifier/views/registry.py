"""The agency-facing API: registry, badge lifecycle, attendance, exports, audit, list
imports. Every route takes an API key; an agency key reaches only its own agency."""
import base64
import binascii
import csv
import io

from flask import Blueprint, Response, g, jsonify, request

from ..services import (attendance, audit, disclosures, registry, reservations,
                        status as status_service)
from ..services.errors import BadRequest, NotFound
from ..services.periods import parse_period
from ..models import CloneEvidence, Worker, ctr_value
from .common import api_key_required, ext, json_body, operator_only, raw_body

bp = Blueprint("registry", __name__, url_prefix="/api/v1")


def _republish(s, agency_id):
    """Sign the agency's next status list when we hold its key; 'no_key' otherwise."""
    return "published" if ext().republish(s, agency_id) else "no_key"


def _after_list_change():
    x = ext()
    with x.db.session() as s:
        x.store.refresh(s, x.now(), force=True)


def _opt_b64(value):
    if value is None:
        return None
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError, TypeError) as err:
        raise BadRequest("credential is not base64url", reason="malformed") from err


@bp.post("/agencies")
@api_key_required
def create_agency():
    operator_only()
    d = json_body()
    if not isinstance(d.get("id"), str) or not isinstance(d.get("name"), str):
        raise BadRequest("id and name are required")
    x = ext()
    with x.db.session() as s:
        registry.create_agency(s, d["id"], d["name"], x.now(), g.actor)
    return jsonify(id=d["id"], name=d["name"]), 201


@bp.post("/agencies/<agency_id>/api-keys")
@api_key_required
def create_api_key(agency_id):
    registry.authorize(g.agency, agency_id)
    x = ext()
    with x.db.session() as s:
        secret = registry.create_api_key(s, agency_id, json_body().get("label", ""), x.now(),
                                         g.actor)
    return jsonify(api_key=secret), 201


@bp.post("/agencies/<agency_id>/terminals")
@api_key_required
def create_terminal(agency_id):
    registry.authorize(g.agency, agency_id)
    d = json_body()
    x = ext()
    with x.db.session() as s:
        secret = registry.create_terminal(s, agency_id, d.get("id"), d.get("label", ""),
                                          x.now(), g.actor)
    return jsonify(id=d.get("id"), token=secret), 201


@bp.get("/agencies/<agency_id>/workers")
@api_key_required
def list_workers(agency_id):
    registry.authorize(g.agency, agency_id)
    x = ext()
    with x.db.session() as s:
        out = [registry.worker_json(w) for w in registry.list_workers(s, agency_id)]
        disclosures.record_many(s, agency_id, registry.worker_refs(agency_id), x.now(),
                                "export", g.actor)
    return jsonify(workers=out)


@bp.post("/agencies/<agency_id>/workers")
@api_key_required
def create_worker(agency_id):
    """A worker; with `id_number`, enrolled in the person registry (as /workers/enrol)."""
    registry.authorize(g.agency, agency_id)
    d = json_body()
    if d.get("id_number") is not None:
        return _enrol(agency_id, d, created=True)
    x = ext()
    with x.db.session() as s:
        w = registry.create_worker(s, agency_id, d.get("worker_ref"), x.now(), g.actor,
                                   d.get("name"), d.get("phone"))
        return jsonify(registry.worker_json(w)), 201


def _enrol(agency_id, d, created=False):
    x = ext()
    with x.db.session() as s:
        e = registry.enrol(s, x.sealer, x.hasher, agency_id, d.get("worker_ref"),
                           d.get("id_number"), x.now(), g.actor, x.config["TIMEZONE"],
                           d.get("name"), d.get("phone"))
        body = e.to_json()
    if created:
        return jsonify(dict(body["worker"], person_new=body["person_new"],
                            elsewhere=body["elsewhere"])), 201
    return jsonify(body), 200


@bp.post("/agencies/<agency_id>/workers/enrol")
@api_key_required
def enrol_worker(agency_id):
    """Take the worker's ID number at issuance: checked, sealed, the person's file found or
    made; 403 person_banned (with the ban's end date) for a banned person."""
    registry.authorize(g.agency, agency_id)
    return _enrol(agency_id, json_body())


@bp.get("/agencies/<agency_id>/workers/<int:worker_id>")
@api_key_required
def get_worker(agency_id, worker_id):
    registry.authorize(g.agency, agency_id)
    x = ext()
    with x.db.session() as s:
        w = registry.get_worker(s, agency_id, worker_id)
        disclosures.record(s, agency_id, w.worker_ref, x.now(), "staff", g.actor)
        return jsonify(registry.worker_json(w, registry.badges_of(s, w.id)))


@bp.post("/agencies/<agency_id>/workers/<int:worker_id>/cancel")
@api_key_required
def cancel_worker(agency_id, worker_id):
    registry.authorize(g.agency, agency_id)
    d = json_body()
    x = ext()
    with x.db.session() as s:
        revoked = registry.cancel_worker(s, agency_id, worker_id, x.now(), g.actor,
                                         d.get("reason") or "注销")
        published = _republish(s, agency_id) if revoked else "unchanged"
    _after_list_change()
    return jsonify(cancelled=worker_id, revoked_badges=revoked, status_list=published)


@bp.get("/agencies/<agency_id>/issue-scope")
@api_key_required
def get_issue_scope(agency_id):
    """The consent scope set in the console for the next badge of `?worker_ref=`: {worker_ref,
    scope: 0..63 or null (the technician's profile default)}; `provision issue` asks it."""
    registry.authorize(g.agency, agency_id)
    ref = request.args.get("worker_ref")
    with ext().db.session() as s:
        return jsonify(worker_ref=ref, scope=registry.issue_scope(s, agency_id, ref))


@bp.put("/agencies/<agency_id>/workers/<int:worker_id>/issue-scope")
@api_key_required
def put_issue_scope(agency_id, worker_id):
    """Set {scope: 0..63 or null} for the worker's next badge (as the console's form does)."""
    registry.authorize(g.agency, agency_id)
    x = ext()
    with x.db.session() as s:
        w = registry.set_issue_scope(s, agency_id, worker_id, json_body().get("scope"),
                                     x.now(), g.actor)
        return jsonify(worker_ref=w.worker_ref, scope=w.issue_scope)


@bp.get("/agencies/<agency_id>/workers/<int:worker_id>/attendance")
@api_key_required
def worker_history(agency_id, worker_id):
    registry.authorize(g.agency, agency_id)
    x = ext()
    with x.db.session() as s:
        out = attendance.history(s, agency_id, worker_id)
        disclosures.record(s, agency_id, out["worker_ref"], x.now(), "staff", g.actor)
    return jsonify(out)


def _checks(s, agency_id):
    """What a credential offered for registration is checked against."""
    x = ext()
    return {"trust": x.snapshot(s).trust, "verify": True, "tz": x.config["TIMEZONE"],
            "status_uri": status_service.status_uri(x.config["STATUS_BASE_URL"], agency_id)}


@bp.get("/agencies/<agency_id>/status-indices")
@api_key_required
def list_status_indices(agency_id):
    registry.authorize(g.agency, agency_id)
    with ext().db.session() as s:
        registry.get_agency(s, agency_id)
        rows = reservations.listing(s, agency_id, request.args.get("state"))
        return jsonify(indices=[reservations.reservation_json(r) for r in rows])


@bp.post("/agencies/<agency_id>/status-indices")
@api_key_required
def reserve_status_index(agency_id):
    """Reserve a status index for a badge key being provisioned (no status list change: an
    index no badge holds reads as valid until its badge is registered)."""
    registry.authorize(g.agency, agency_id)
    d = json_body()
    x = ext()
    with x.db.session() as s:
        registry.get_agency(s, agency_id)
        row, created = reservations.reserve(s, agency_id, d.get("kid"), d.get("serial"),
                                            x.now(), g.actor)
        out = {"status_idx": row.idx,
               "uri": status_service.status_uri(x.config["STATUS_BASE_URL"], agency_id),
               "state": row.state, "kid": row.kid, "serial": row.serial}
    return jsonify(out), 201 if created else 200


@bp.delete("/agencies/<agency_id>/status-indices/<int:status_idx>")
@api_key_required
def release_status_index(agency_id, status_idx):
    """Give a reservation back: free, or retired (and revoked in the status list)."""
    registry.authorize(g.agency, agency_id)
    d = request.get_json(silent=True) if request.content_length else {}
    if not isinstance(d, dict):
        raise BadRequest("a JSON object body is required", reason="malformed")
    x = ext()
    try:
        with x.db.session() as s:
            registry.get_agency(s, agency_id)
            row = reservations.release(s, agency_id, status_idx, d.get("retire", True),
                                       d.get("reason"), x.now(), g.actor)
            out = {"status_idx": row.idx, "state": row.state}
            out["status_list"] = (_republish(s, agency_id) if row.state == "retired"
                                  else "unchanged")
    except reservations.IndexRegistered as err:
        return jsonify(reason=err.reason, message=err.message, badge_id=err.badge_id,
                       kid=err.kid), err.http_status
    _after_list_change()
    return jsonify(out)


@bp.get("/agencies/<agency_id>/badges")
@api_key_required
def badges_with_serial(agency_id):
    """The badges of one physical badge (?serial=, required; &live=1: not revoked)."""
    registry.authorize(g.agency, agency_id)
    with ext().db.session() as s:
        rows = registry.badges_with_serial(s, agency_id, request.args.get("serial"),
                                           request.args.get("live") in ("1", "true"))
        return jsonify(badges=[registry.badge_json(b) for b in rows])


@bp.post("/agencies/<agency_id>/badges")
@api_key_required
def register_badge(agency_id):
    """From a credential (verified: this agency's trusted key, its status uri; consumes the
    reservation of its index) or from kid/serial; for worker_id or worker_ref."""
    registry.authorize(g.agency, agency_id)
    d = json_body()
    x = ext()
    with x.db.session() as s:
        b = registry.register_badge(s, agency_id, x.now(), g.actor, d.get("worker_id"),
                                    _opt_b64(d.get("credential")), d.get("kid"),
                                    d.get("serial"), d.get("status_idx"), d.get("worker_ref"),
                                    **_checks(s, agency_id))
        published = _republish(s, agency_id)
        out = registry.badge_json(b)
        out["worker_ref"] = s.get(Worker, b.worker_id).worker_ref if b.worker_id else None
    _after_list_change()
    return jsonify({**out, "status_list": published}), 201


@bp.post("/agencies/<agency_id>/badges/<int:badge_id>/<action>")
@api_key_required
def badge_action(agency_id, badge_id, action):
    registry.authorize(g.agency, agency_id)
    d = json_body()
    x = ext()
    with x.db.session() as s:
        if action == "reissue":
            old, new = registry.reissue(s, agency_id, badge_id, x.now(), g.actor,
                                        d.get("reason"), _opt_b64(d.get("credential")),
                                        d.get("kid"), d.get("serial"), d.get("status_idx"),
                                        d.get("worker_ref"), **_checks(s, agency_id))
            out = {"old": registry.badge_json(old), "new": registry.badge_json(new)}
        elif action in registry.TRANSITIONS:
            out = registry.badge_json(registry.transition(s, agency_id, badge_id, action,
                                                          x.now(), g.actor, d.get("reason")))
        else:
            raise NotFound(f"unknown badge action {action}")
        out["status_list"] = _republish(s, agency_id)
    _after_list_change()
    return jsonify(out)


def _period_arg():
    period = request.args.get("period", "")
    try:
        parse_period(period)
    except ValueError as err:
        raise BadRequest(str(err)) from err
    return period


@bp.get("/agencies/<agency_id>/attendance")
@api_key_required
def agency_attendance(agency_id):
    registry.authorize(g.agency, agency_id)
    period = _period_arg()
    x = ext()
    with x.db.session() as s:
        registry.get_agency(s, agency_id)
        out = attendance.report(s, agency_id, period, x.config["TIMEZONE"],
                                x.config["PERIOD_START_DAY"])
        _exported(s, agency_id, period)
    return jsonify(out)


@bp.get("/agencies/<agency_id>/attendance/missing")
@api_key_required
def agency_missing(agency_id):
    """Missing workers only, a page at a time (keyset cursor, ordered by worker id)."""
    registry.authorize(g.agency, agency_id)
    period = _period_arg()
    try:
        limit = int(request.args.get("limit", 500))
    except ValueError as err:
        raise BadRequest("limit must be an integer") from err
    x = ext()
    with x.db.session() as s:
        registry.get_agency(s, agency_id)
        return jsonify(attendance.missing_page(s, agency_id, period, x.config["TIMEZONE"],
                                               x.config["PERIOD_START_DAY"], limit,
                                               request.args.get("cursor")))


def _exported(s, agency_id, period):
    """One "export" disclosure per worker of the period's report, in one statement."""
    x = ext()
    disclosures.record_many(s, agency_id, attendance.report_refs(
        agency_id, period, x.config["TIMEZONE"], x.config["PERIOD_START_DAY"]), x.now(),
        "export", g.actor)


@bp.get("/agencies/<agency_id>/export")
@api_key_required
def export(agency_id):
    """CSV of one period: worker_ref, present, first/last check-in and where."""
    registry.authorize(g.agency, agency_id)
    period = _period_arg()
    x = ext()
    with x.db.session() as s:
        registry.get_agency(s, agency_id)
        rep = attendance.report(s, agency_id, period, x.config["TIMEZONE"],
                                x.config["PERIOD_START_DAY"])
        _exported(s, agency_id, period)
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["worker_ref", "present", "first_at", "first_terminal", "last_at",
                "last_terminal", "count"])
    for r in rep["present"]:
        w.writerow([r["worker_ref"], 1, r["first_at"], r["first_terminal"], r["last_at"],
                    r["last_terminal"], r["count"]])
    for r in rep["missing"]:
        w.writerow([r["worker_ref"], 0, "", "", "", "", 0])
    return Response(out.getvalue(), mimetype="text/csv")


@bp.get("/agencies/<agency_id>/clone-evidence")
@api_key_required
def clone_evidence(agency_id):
    registry.authorize(g.agency, agency_id)
    from sqlalchemy import select
    from ..models import Badge
    with ext().db.session() as s:
        rows = s.execute(select(CloneEvidence).join(Badge, Badge.kid == CloneEvidence.badge_kid)
                         .where(Badge.agency_id == agency_id)
                         .order_by(CloneEvidence.id)).scalars()
        return jsonify(evidence=[{"badge_kid": e.badge_kid, "kind": e.kind,
                                  "counter": str(ctr_value(e.ctr_key)), "source": e.source,
                                  "at": e.at} for e in rows])


@bp.get("/audit")
@api_key_required
def audit_log():
    with ext().db.session() as s:
        return jsonify(entries=audit.entries(s, g.agency, int(request.args.get("limit", 100))))


@bp.post("/trust-list")
@api_key_required
def import_trust_list():
    operator_only()
    x = ext()
    data = raw_body(64 * 1024)
    with x.db.session() as s:
        t = x.store.import_trust_list(s, data, x.now(), g.actor)
    _after_list_change()
    return jsonify(seq=t.seq, agencies=len(t)), 201


@bp.post("/status-lists")
@api_key_required
def import_status_list():
    operator_only()
    x = ext()
    data = raw_body(8 * 1024 * 1024)
    with x.db.session() as s:
        x.store.refresh(s, x.now(), force=True)
        lst = x.store.import_status_list(s, data, x.now(), g.actor)
    _after_list_change()
    return jsonify(uri=lst.uri, seq=lst.seq), 201
