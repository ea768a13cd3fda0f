"""Agency admission over HTTP (docs/verifier.md "Admission"): an agency applies (no account
yet; its application token, shown once, amends it), the bureau reviews (a bureau API key, or
the operator's: the review routes are `bureau_only(operator_too=True)`)."""
from flask import Blueprint, Response, g, jsonify, request

from ..services import admission
from ..services.errors import BadRequest
from .common import api_key_required, bearer, bureau_only as _bureau_only, ext, json_body, \
    rate_limited

bp = Blueprint("admission", __name__, url_prefix="/api/v1/admission")


def bureau_only():
    _bureau_only(operator_too=True)


@bp.post("/applications")
@rate_limited
def submit():
    x = ext()
    with x.db.session() as s:
        app, token = admission.submit(s, json_body(), x.now(),
                                      scrypt_n=x.config["STAFF_SCRYPT_N"])
        body = admission.to_json(app)
    return jsonify(application=body, token=token), 201


@bp.get("/applications/<int:app_id>/mine")
@rate_limited
def mine(app_id):
    with ext().db.session() as s:
        return jsonify(application=admission.to_json(admission.for_applicant(s, app_id,
                                                                             bearer())))


@bp.put("/applications/<int:app_id>")
@rate_limited
def amend(app_id):
    x = ext()
    with x.db.session() as s:
        app = admission.amend(s, app_id, bearer(), json_body(), x.now())
        return jsonify(application=admission.to_json(app))


@bp.get("/applications")
@api_key_required
def listing():
    bureau_only()
    with ext().db.session() as s:
        return jsonify(applications=admission.listing(s, request.args.get("state")))


def _note():
    note = json_body().get("note")
    if not isinstance(note, str):
        raise BadRequest("note is required / 请填写说明", reason="note_required")
    return note


@bp.post("/applications/<int:app_id>/request-changes")
@api_key_required
def request_changes(app_id):
    bureau_only()
    x = ext()
    note = _note()
    with x.db.session() as s:
        return jsonify(application=admission.to_json(
            admission.request_changes(s, app_id, note, x.now(), g.actor)))


@bp.post("/applications/<int:app_id>/refuse")
@api_key_required
def refuse(app_id):
    bureau_only()
    x = ext()
    note = _note()
    with x.db.session() as s:
        return jsonify(application=admission.to_json(
            admission.refuse(s, app_id, note, x.now(), g.actor)))


@bp.post("/applications/<int:app_id>/approve")
@api_key_required
def approve(app_id):
    bureau_only()
    x = ext()
    agency_id = json_body().get("agency_id")
    with x.db.session() as s:
        return jsonify(application=admission.to_json(
            admission.approve(s, app_id, agency_id, x.now(), g.actor)))


@bp.get("/applications/<int:app_id>/keys.pem")
@api_key_required
def keys_pem(app_id):
    """The approved agency's public keys, for `xinka-authority agency add --key`."""
    bureau_only()
    with ext().db.session() as s:
        agency_id, _name, pems = admission.keys_for_trust_list(s, app_id)
    return Response(pems, mimetype="application/x-pem-file",
                    headers={"X-Agency-Id": agency_id})
