"""The bureau's API (`/api/v1/bureau/…`, a bureau API key only: an agency's key or the
operator's gets 403): the ban list and the person registry. A ban in force revokes the
person's badges at every agency and republishes those agencies' status lists in the same
transaction (docs/protocol.md "The person registry and the ban list")."""
import csv
import io

from flask import Blueprint, Response, g, jsonify, request

from ..services import (agency_credit, appeals, ban_proposals, bans, complaints,
                        disclosures, national, persons, registry, rollup)
from ..services.errors import NotFound
from ..services.periods import period_of
from .common import api_key_required, bureau_only, ext, json_body

bp = Blueprint("bureau", __name__, url_prefix="/api/v1/bureau")


def _apply(s, change):
    """Republish the status list of every agency whose badges the change revoked."""
    x = ext()
    return {a: ("published" if x.republish(s, a) else "no_key")
            for a in sorted(change.agencies)}


def _ban_reply(s, change, now):
    """Republish the lists the change touched, then the changed ban as the API shows it,
    read in the transaction that changed it."""
    published = _apply(s, change)
    return dict(ban=bans.get(s, change.ban.id, now), badges_revoked=len(change.revoked),
                status_lists=published)


def _refresh():
    x = ext()
    with x.db.session() as s:
        x.store.refresh(s, x.now(), force=True)


@bp.post("/bans")
@api_key_required
def create_ban():
    bureau_only()
    d = json_body()
    x = ext()
    with x.db.session() as s:
        change = bans.create(s, d, x.now(), g.actor, x.config["TIMEZONE"])
        body = _ban_reply(s, change, x.now())
    _refresh()
    return jsonify(body), 201


@bp.post("/bans/<int:ban_id>/lift")
@api_key_required
def lift_ban(ban_id):
    bureau_only()
    d = json_body()
    x = ext()
    with x.db.session() as s:
        change = bans.lift(s, ban_id, d, x.now(), g.actor)
        body = _ban_reply(s, change, x.now())
    _refresh()
    return jsonify(body)


@bp.post("/sweep")
@api_key_required
def sweep():
    """Record the bans that started or ended since the last sweep (as `flask ban-sweep`)."""
    bureau_only()
    x = ext()
    with x.db.session() as s:
        change = bans.sweep(s, x.now(), g.actor)
        published = _apply(s, change)
    _refresh()
    return jsonify(badges_revoked=len(change.revoked), status_lists=published)


EXPORT_FIELDS = ("id", "person_hash", "hash_key", "category", "legal_basis", "starts_at",
                 "ends_at", "decided_by", "appeal_route", "state", "lifted_at",
                 "lifted_reason")


@bp.get("/bans")
@api_key_required
def list_bans():
    """The ban list; `?format=csv` is the export for the national platform: person hashes,
    never an ID number."""
    bureau_only()
    x = ext()
    with x.db.session() as s:
        rows = bans.listing(s, x.now())
    if request.args.get("format") != "csv":
        return jsonify(bans=rows)
    buf = io.StringIO()
    w = csv.DictWriter(buf, EXPORT_FIELDS, extrasaction="ignore")
    w.writeheader()
    w.writerows(rows)
    return Response("\ufeff" + buf.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=bans.csv"})


@bp.get("/bans/<int:ban_id>")
@api_key_required
def get_ban(ban_id):
    bureau_only()
    x = ext()
    with x.db.session() as s:
        return jsonify(ban=bans.get(s, ban_id, x.now()))


@bp.get("/persons/<person_hash>")
@api_key_required
def person_file(person_hash):
    bureau_only()
    x = ext()
    with x.db.session() as s:
        p = persons.by_hash(s, person_hash)
        if p is None:
            raise NotFound("no person with this hash in the registry / 登记中没有此人",
                           reason="unknown_person")
        disclosures.record_persons(s, [p.id], x.now(), "staff", "bureau")
        return jsonify(person=persons.file_json(s, p, x.now()))


@bp.get("/persons")
@api_key_required
def find_persons():
    """`?agency=A&serial=S`: the person holding that badge; `?multi_agency=1`: persons with
    live badges at two or more agencies."""
    bureau_only()
    x = ext()
    with x.db.session() as s:
        if request.args.get("multi_agency"):
            found = persons.multi_agency(s)
        else:
            p = persons.for_badge(s, request.args.get("agency"), request.args.get("serial"))
            if p is None:
                raise NotFound("no enrolled person holds this badge / 该徽章无登记人员",
                               reason="unknown_person")
            found = [p]
        disclosures.record_persons(s, [p.id for p in found], x.now(),
                                   "export" if request.args.get("multi_agency") else "staff",
                                   "bureau")
        return jsonify(persons=[persons.file_json(s, p, x.now()) for p in found])


@bp.get("/complaints")
@api_key_required
def escalated_complaints():
    """The complaints waiting for the bureau (serious ones, and any past its deadline)."""
    bureau_only()
    x = ext()
    with x.db.session() as s:
        complaints.escalate_overdue(s, x.now())
        rows = [complaints.to_json(s, c) for c in complaints.escalated(s)]
    return jsonify(complaints=rows)


@bp.post("/complaints/<int:complaint_id>/decision")
@api_key_required
def decide_complaint(complaint_id):
    """The bureau's final decision: {"outcome": upheld|partly_upheld|dismissed, "note"}."""
    bureau_only()
    d = json_body()
    x = ext()
    with x.db.session() as s:
        c = complaints.decide(s, complaint_id, d.get("outcome"), d.get("note"), x.now(),
                              g.actor)
        body = complaints.to_json(s, c)
    return jsonify(body)


@bp.get("/appeals")
@api_key_required
def waiting_appeals():
    """The workers' appeals waiting for the bureau, oldest first."""
    bureau_only()
    x = ext()
    with x.db.session() as s:
        rows = [appeals.to_json(a) for a in appeals.waiting(s)]
    return jsonify(appeals=rows)


@bp.post("/appeals/<int:appeal_id>/decision")
@api_key_required
def decide_appeal(appeal_id):
    """The bureau's final decision: {"outcome": upheld|rejected, "note", "set_aside": [refs]
    (for an appeal of the grade: which of its reasons)}."""
    bureau_only()
    d = json_body()
    x = ext()
    with x.db.session() as s:
        a = appeals.decide(s, appeal_id, d.get("outcome"), d.get("note"), d.get("set_aside"),
                           x.now(), g.actor)
        body = appeals.to_json(a)
    return jsonify(body)


@bp.get("/ban-proposals")
@api_key_required
def waiting_ban_proposals():
    """The agencies' ban proposals waiting for the bureau, oldest first."""
    bureau_only()
    with ext().db.session() as s:
        rows = [ban_proposals.to_json(s, p) for p in ban_proposals.waiting(s)]
    return jsonify(ban_proposals=rows)


@bp.post("/ban-proposals/<int:proposal_id>/decision")
@api_key_required
def decide_ban_proposal(proposal_id):
    """{"accept": true, "decided_by", "appeal_route", optional "starts_at"/"ends_at", "note"}
    makes the ban (and republishes the lists it touches); {"accept": false, "note"} rejects."""
    bureau_only()
    x = ext()
    with x.db.session() as s:
        p, change = ban_proposals.decide(s, proposal_id, json_body(), x.now(), g.actor,
                                         x.config["TIMEZONE"])
        body = {"ban_proposal": ban_proposals.to_json(s, p)}
        if change is not None:
            body.update(_ban_reply(s, change, x.now()))
    _refresh()
    return jsonify(body)


@bp.get("/export")
@api_key_required
def national_export():
    """The national export (docs/national-export.md): JSON, or ?format=csv (one row per
    agency). Counts and hashes only."""
    bureau_only()
    x = ext()
    with x.db.session() as s:
        data = national.export(s, x.now(), x.config["TIMEZONE"], x.config["PERIOD_START_DAY"])
    if request.args.get("format") == "csv":
        return Response(national.to_csv(data), mimetype="text/csv", headers={
            "Content-Disposition": f'attachment; filename="national-{data["period"]}.csv"'})
    return jsonify(data)


@bp.get("/attendance")
@api_key_required
def attendance_table():
    """Every agency's check-ins of a month (?period=YYYY-MM, the current one without),
    from the counters the database keeps (services/rollup.py); ?format=csv for a file."""
    bureau_only()
    x = ext()
    tz, start_day = x.config["TIMEZONE"], x.config["PERIOD_START_DAY"]
    period = request.args.get("period") or period_of(x.now(), tz, start_day)
    with x.db.session() as s:
        rows = rollup.table(s, period, tz, start_day)
    if request.args.get("format") == "csv":
        return Response(national.rows_csv(rollup.TABLE_COLUMNS, rows), mimetype="text/csv",
                        headers={"Content-Disposition":
                                 f'attachment; filename="attendance-{period}.csv"'})
    return jsonify({"period": period, "agencies": rows})


@bp.get("/agencies/<agency_id>/credit")
@api_key_required
def agency_credit_figures(agency_id):
    """An agency's credit figures on the four dimensions (docs/credit-rules.md)."""
    bureau_only()
    x = ext()
    with x.db.session() as s:
        registry.get_agency(s, agency_id)
        body = agency_credit.figures(s, agency_id, x.now(), x.config["TIMEZONE"],
                                     x.config["PERIOD_START_DAY"])
    return jsonify(body)
