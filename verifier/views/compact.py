"""What terminals cache: the compact status lists (/sl/<agency>/compact/{manifest,chunk/<n>,
delta/<seq>}) and the trust list (GET /api/v1/trust-list)."""
from flask import Blueprint, Response, current_app, jsonify, request

from ..services import compact as service
from .common import ext, rate_limited

bp = Blueprint("compact", __name__)


def _trust(x, s):
    # the compact list is built from the newest stored status list, so the trust list must be
    # at least as new: refresh now rather than within the usual STATUS_CHECK_MS (a key rotation
    # followed at once by a publish would otherwise be refused as signed by an unknown key)
    return x.store.refresh(s, x.now(), force=True).trust


def _args(agency_id):
    x = ext()
    cache = current_app.extensions.setdefault("xinka_compact", service.CompactCache())
    return x, cache, x.signing_key(agency_id)


@bp.get("/sl/<agency_id>/compact/manifest")
@rate_limited
def manifest(agency_id):
    x, cache, key = _args(agency_id)
    with x.db.session() as s:
        c = service.current(s, cache, _trust(x, s), agency_id, key)
    return Response(c.manifest, mimetype="application/xk-compact+cwt",
                    headers={"X-Xinka-Seq": str(c.seq)})


@bp.get("/sl/<agency_id>/compact/chunk/<int:n>")
@rate_limited
def chunk(agency_id, n):
    x, cache, key = _args(agency_id)
    seq = request.args.get("seq", type=int)
    with x.db.session() as s:
        c = service.current(s, cache, _trust(x, s), agency_id, key, seq)
    if n >= len(c.chunks):
        return jsonify(reason="not_found", message=f"chunk {n} of {len(c.chunks)}"), 404
    return Response(c.chunks[n], mimetype="application/octet-stream",
                    headers={"X-Xinka-Seq": str(c.seq)})


@bp.get("/sl/<agency_id>/compact/delta/<int:from_seq>")
@rate_limited
def delta(agency_id, from_seq):
    x, cache, key = _args(agency_id)
    with x.db.session() as s:
        data, seq = service.delta(s, cache, _trust(x, s), agency_id, key, from_seq)
    if data is None:
        return Response(status=204, headers={"X-Xinka-Seq": str(seq)})
    return Response(data, mimetype="application/xk-compact-delta+cwt",
                    headers={"X-Xinka-Seq": str(seq)})


@bp.get("/api/v1/trust-list")
@rate_limited
def trust_list():
    """The newest imported trust list (signed by the authority), for terminals to cache."""
    from sqlalchemy import select

    from ..models import TrustListBlob
    with ext().db.session() as s:
        token = s.scalar(select(TrustListBlob.token).order_by(TrustListBlob.seq.desc())
                         .limit(1))
    if token is None:
        return jsonify(reason="not_found", message="no trust list imported"), 404
    return Response(token, mimetype="application/cose")
