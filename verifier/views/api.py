"""Public verification and terminal check-in ingest."""
import base64
import binascii
import json
import logging

from flask import Blueprint, jsonify, request

from host import wire
from xinka import linkcode

from ..services import auth, ingest, ledger
from . import wire_status
from .common import bearer, ext, rate_limited, raw_body, refused

bp = Blueprint("api", __name__)
log = logging.getLogger(__name__)


def _b64(text):
    if not isinstance(text, str):
        raise wire.Malformed("expected base64url text")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as err:
        raise wire.Malformed("not base64url") from err


def _tap_from_request(limit):
    body = raw_body(limit)
    ctype = (request.mimetype or "").lower()
    if ctype in ("application/cbor", "application/cbor-seq", "application/octet-stream"):
        return wire.split_sequence(body)
    if ctype == "application/json":
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError) as err:
            raise wire.Malformed("body is not JSON") from err
        if not isinstance(data, dict):
            raise wire.Malformed("JSON body must be an object")
        if "tap" in data:
            return wire.split_sequence(_b64(data["tap"]))
        return _b64(data.get("token")), _b64(data.get("credential"))
    raise wire.Malformed("send application/cbor or application/json")


@bp.post("/api/v1/verify")
@rate_limited
def verify():
    x = ext()
    try:
        token, credential = _tap_from_request(x.config["VERIFY_MAX_BYTES"])
    except wire.WireError as err:
        x.metrics.verifications.labels(reason=err.reason).inc()
        return jsonify(valid=False, reason=err.reason, message=err.message), \
            wire_status(err.reason)
    # no ORM session on this path: the snapshot is in memory (its version read at most every
    # STATUS_CHECK_MS), the caller's role needs the database only with a key, and a verified
    # tap is booked on a pooled connection in its own short transaction
    verdict = ledger.record_view(x.db.engine, x.snapshot(), token, credential, x.now(),
                                 x.policy, x.store.cache, _caller())
    x.metrics.verifications.labels(reason=verdict.reason or "valid").inc()
    body = verdict.to_json()
    if not verdict.valid:
        badge = body.get("badge") or {}
        refused(verdict.reason, ", ".join(f"{k} {v}" for k, v in (
            ("purpose", body.get("purpose")), ("agency", body.get("agency")),
            ("badge", badge.get("kid")), ("counter", body.get("counter"))) if v is not None))
    return jsonify(body), 200 if verdict.valid else wire_status(verdict.reason)


def _caller():
    """The role /verify's caller has in the disclosure log: "api:<agency>" (or api:operator,
    api:bureau) with a valid API key, else "public" (the endpoint needs none)."""
    key = bearer()
    if not key:
        return "public"
    with ext().db.session() as s:
        ok, agency = auth.api_key_principal(s, key)
    if not ok:
        return "public"
    return "api:bureau" if agency == auth.BUREAU else f"api:{agency or 'operator'}"


@bp.post("/api/v1/checkins")
def checkins():
    x = ext()
    with x.db.session() as s:
        terminal = auth.terminal_for(s, bearer())
        if terminal is not None:
            s.expunge(terminal)
    if terminal is None:
        return jsonify(reason="unauthorized", message="terminal token required / 需要终端令牌"), 401
    refused_count = signals = 0
    body = raw_body(x.config["CHECKIN_MAX_BYTES"])
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        data = None
    items = data.get("items") if isinstance(data, dict) else None
    if not isinstance(items, list):
        refused("malformed", f"terminal {terminal.id}")
        return jsonify(reason="malformed", message='body must be {"items": [...]}'), 400
    if len(items) > x.config["CHECKIN_MAX_ITEMS"]:
        refused("oversized", f"terminal {terminal.id}, {len(items)} items")
        return jsonify(reason="oversized",
                       message=f"at most {x.config['CHECKIN_MAX_ITEMS']} items"), 413
    now = x.now()
    snap = x.snapshot()
    results = ingest.run_batch(x.db, snap, terminal, items, now, x.policy,
                               x.config["TIMEZONE"], x.config["PERIOD_START_DAY"],
                               x.store.cache, link_key=linkcode.link_key(bearer()))
    summary = {}
    for i, r in enumerate(results):
        r["index"] = i
        key = r["result"] if r["result"] != "refused" else r["reason"]
        summary[key] = summary.get(key, 0) + 1
        x.metrics.checkin_items.labels(result=key).inc()
        if r["result"] == "accepted":
            seen = _seen_at(items[i])
            if seen is not None:
                x.metrics.ingest_lag.set(now - seen)
                x.metrics.journal_lag.labels(terminal=str(terminal.id)).set(now - seen)
        if r["result"] == "refused":
            refused_count += 1
            log.info("check-in item %d from terminal %s refused: %s%s", i, terminal.id,
                     r.get("reason"), _badge(r))
        if r.get("clone_signal"):
            signals += 1
            log.warning("clone evidence recorded: check-in item %d from terminal %s (%s)%s", i,
                        terminal.id, r["result"] if r["result"] != "refused" else r.get("reason"),
                        _badge(r))
    x.metrics.checkin_batches.inc()
    log.info("check-in batch from terminal %s (agency %s): %d items, %d accepted, %d duplicate, "
             "%d refused, %d clone signals", terminal.id, terminal.agency_id, len(items),
             summary.get("accepted", 0), summary.get("duplicate", 0), refused_count, signals)
    return jsonify(results=results, summary=summary), 200


def _badge(r):
    if r.get("badge") is None:
        return ""
    return f", badge {r['badge']} counter {r.get('counter')}"


def _seen_at(item):
    try:
        return int(item["receipt"]["seen_at"])
    except (KeyError, TypeError, ValueError):
        return None
