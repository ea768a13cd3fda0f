"""Operations: health, readiness, metrics, the OpenAPI document, published status lists."""
import logging

from flask import Blueprint, Response, jsonify
from sqlalchemy import text

from ..openapi import document
from ..services import status as status_service
from .common import ext, rate_limited

bp = Blueprint("ops", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz():
    return jsonify(ok=True)


@bp.get("/readyz")
def readyz():
    x = ext()
    problems = []
    try:
        with x.db.session() as s:
            s.execute(text("SELECT 1"))
            snap = x.store.refresh(s, x.now(), force=True)
    except Exception as err:        # noqa: BLE001 - readiness reports any failure
        log.warning("not ready: database %s: %s", type(err).__name__, err)
        return jsonify(ready=False, problems=[f"database: {type(err).__name__}"]), 503
    now = x.now()
    if snap.trust is None:
        problems.append("no trust list loaded")
    for uri, lst in snap.lists.items():
        max_age = x.policy.max_age_s or lst.ttl
        if now - lst.iat > max_age or now > lst.exp:
            problems.append(f"status list {uri} is stale ({now - lst.iat} s old)")
    return jsonify(ready=not problems, problems=problems), 200 if not problems else 503


@bp.get("/metrics")
def metrics():
    x = ext()
    try:
        x.snapshot()                # the scrape-time gauges: this worker's lists, refreshed
    except Exception as err:        # noqa: BLE001 - a scrape still answers (readyz says why)
        log.warning("metrics: lists not refreshed: %s", type(err).__name__)
    body, ctype = x.metrics.render()
    return Response(body, content_type=ctype)


@bp.get("/api/v1/openapi.json")
def openapi():
    return jsonify(document())


@bp.get("/sl/<agency_id>")
@rate_limited
def status_list(agency_id):
    with ext().db.session() as s:
        token = status_service.latest_token(s, agency_id)
    if token is None:
        return jsonify(reason="not_found", message="no status list for this agency"), 404
    return Response(token, mimetype="application/statuslist+cwt")
