"""Verified visits on the employer page: confirm arrival (`POST /t/<b64>/arrive`), end of
service (`POST /t/<b64>/depart`), the household's visits (`GET /visits`), a visit's receipt
page with its review form (`GET /visits/<id>`, `POST /visits/<id>/review`), its signed
receipt (`GET /visits/<id>/receipt.cose`), the verifier's receipt key
(`GET /api/v1/receipt-key`) and household recovery (`POST /visits/recover`). No JavaScript;
logic in services/visits.py, services/reviews.py."""
import logging

from flask import Blueprint, Response, current_app, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy import select

from host import wire
from host.wire.keys import PrivateKey

from ..i18n.visits import SERVICE_NAMES, VISIT_REFUSALS
from ..models import TapView
from ..services import employer, keys, reviews, signals, visits
from ..services.errors import ServiceError
from . import employer as employer_view
from .common import cookie_secure, ext, refused

log = logging.getLogger(__name__)
bp = Blueprint("visits", __name__)
api = Blueprint("visits_api", __name__)      # the receipt key: an API route (OpenAPI)

HOUSEHOLD_COOKIE = "xh"
COSE_TYPE = "application/cose; cose-type=\"cose-sign1\""


def receipt_key() -> PrivateKey | None:
    return keys.receipt_signing_key(current_app.config)


def _household_secret():
    return request.cookies.get(HOUSEHOLD_COOKIE) or None


def _set_household(resp, secret):
    cfg = current_app.config
    resp.set_cookie(HOUSEHOLD_COOKIE, secret, max_age=cfg["HOUSEHOLD_TTL_S"], httponly=True,
                    samesite="Lax", secure=cookie_secure(),
                    path="/")
    return resp


def offer_context(session, page, b64, viewer_secret, now):
    """What the tap page offers (template visits/offer.html), or None."""
    if page.decision.colour == "red" or not page.serial:
        return None
    h = employer.token_hash_of(b64)
    view = session.scalar(select(TapView).where(TapView.token_hash == h)) if h else None
    if view is None or view.viewer_hash != employer.viewer_hash(viewer_secret):
        return None
    cfg = current_app.config
    try:
        household = visits.household_of(session, _household_secret(), now,
                                        cfg["HOUSEHOLD_TTL_S"])
    except visits.VisitRefused as err:
        return {"kind": "household", "reason": err.reason}
    kind, visit = visits.offer(session, h, view.badge_kid, household, now, cfg["VISIT_MAX_S"])
    return {"kind": kind, "visit": visit, "b64": b64,
            "services": visits.catalogue(cfg, page.agency_id), "household": household}


def _refusal(err, status=None):
    reason = err.reason if err.reason in VISIT_REFUSALS else "bad_form"
    refused(reason, "visit")
    if getattr(err, "signal", None):
        x = ext()
        with x.db.session() as s:
            signals.record(s, x.now(), **err.signal)
    body = render_template("visits/result.html", ok=False, reason=reason,
                           VISIT_REFUSALS=VISIT_REFUSALS, SERVICE_NAMES=SERVICE_NAMES)
    return employer_view._finish(make_response(body, status or err.http_status))


@bp.errorhandler(CSRFError)
def _csrf_refused(err):
    """A visit form without this browser's CSRF token."""
    return _refusal(visits.VisitRefused(reason="bad_form"), 403)


def _tap_action(b64, action):
    x = ext()
    cfg = x.config
    secret = request.cookies.get(employer_view.VIEWER_COOKIE, "")
    now = x.now()
    if not employer_view._SECRET.fullmatch(secret):   # (the CSRF token: views/browser.py)
        return _refusal(visits.VisitRefused(reason="bad_form"), 403)
    token_hash = employer.token_hash_of(b64)
    new = None
    try:
        with x.db.session() as s:
            household = visits.household_of(s, _household_secret(), now,
                                            cfg["HOUSEHOLD_TTL_S"])
            visits.shown_to(s, token_hash, employer.viewer_hash(secret))
            page = employer.show(s, x.snapshot(s), b64, secret, now, x.policy, x.grading,
                                 cfg["RELOAD_WINDOW_S"], x.store.cache)
            if page.decision.colour == "red":
                raise visits.VisitRefused(f"page red: {page.decision.headline}", "red_page")
            if action == "arrive":
                visit, new = visits.arrive(
                    s, token_hash, employer.viewer_hash(secret), household,
                    request.form.get("service"), request.form.get("district"),
                    visits.catalogue(cfg, page.agency_id), page.serial, now,
                    cfg["VISIT_MAX_S"], signals.Thresholds.of(cfg))
            else:
                visit = visits.depart(s, token_hash, employer.viewer_hash(secret), household,
                                      now, cfg["VISIT_MAX_S"])
            hh = new.household if new else household
            body = render_template("visits/result.html", ok=True, action=action, visit=visit,
                                   household=hh, recovery=new.recovery_code if new else None,
                                   agency_name=page.agency_name, SERVICE_NAMES=SERVICE_NAMES,
                                   VISIT_REFUSALS=VISIT_REFUSALS)
    except ServiceError as err:
        return _refusal(err)
    resp = employer_view._finish(make_response(body, 201))
    return _set_household(resp, new.secret) if new else resp


@bp.post("/t/<b64>/arrive")
def arrive(b64):
    return _tap_action(b64, "arrive")


@bp.post("/t/<b64>/depart")
def depart(b64):
    return _tap_action(b64, "depart")


def _household(s, x):
    return visits.household_of(s, _household_secret(), x.now(), x.config["HOUSEHOLD_TTL_S"])


@bp.get("/visits")
def household_visits():
    """The visits of this phone's household, newest first (none without a household)."""
    x = ext()
    try:
        with x.db.session() as s:
            hh = _household(s, x)
            rows = visits.of_household(s, hh) if hh is not None else []
            reviewed = reviews.reviewed_visits(s, [v.id for v in rows])
            body = render_template("visits/household.html", household=hh, rows=rows,
                                   reviewed=reviewed, SERVICE_NAMES=SERVICE_NAMES)
    except ServiceError as err:
        return _refusal(err)
    return employer_view._finish(make_response(body, 200))


@bp.get("/visits/<int:visit_id>")
def receipt_page(visit_id):
    x = ext()
    try:
        with x.db.session() as s:
            hh = _household(s, x)
            v = visits.visit_for(s, visit_id, hh)
            review = reviews.for_visit(s, v.id)
            window = x.config["VISIT_REVIEW_WINDOW_S"]
            body = render_template("visits/receipt.html", visit=v, household=hh,
                                   claims=visits.receipt_claims(s, v),
                                   SERVICE_NAMES=SERVICE_NAMES, review=review,
                                   reviewable=review is None and
                                   reviews.visit_window_open(v, x.now(), window),
                                   review_days=window // 86400, categories=reviews.CATEGORIES)
    except ServiceError as err:
        return _refusal(err)
    return employer_view._finish(make_response(body, 200))


@bp.post("/visits/<int:visit_id>/review")
def review(visit_id):
    """The household's review (or complaint) of a visit it confirmed."""
    x = ext()
    f = request.form
    try:
        with x.db.session() as s:
            hh = _household(s, x)
            r = reviews.submit_for_visit(s, visit_id, hh, f.get("stars"), f.get("category"),
                                         f.get("comment"), x.now(),
                                         x.config["VISIT_REVIEW_WINDOW_S"])
            link = employer_view.file_complaint(s, r, f.get("severity"))
            v = visits.visit_for(s, visit_id, hh)
            body = render_template("visits/result.html", ok=True, action="review", visit=v,
                                   household=hh, recovery=None, agency_name=None,
                                   SERVICE_NAMES=SERVICE_NAMES, VISIT_REFUSALS=VISIT_REFUSALS,
                                   complaint_link=link)
    except ServiceError as err:
        return _refusal(err)
    return employer_view._finish(make_response(body, 201))


@bp.get("/visits/<int:visit_id>/receipt.cose")
def receipt_file(visit_id):
    x = ext()
    try:
        with x.db.session() as s:
            hh = _household(s, x)
            data = visits.receipt(s, visits.visit_for(s, visit_id, hh), receipt_key())
    except ServiceError as err:
        return _refusal(err)
    return Response(data, 200, {"Content-Type": COSE_TYPE, "Content-Disposition":
                                f'attachment; filename="visit-{visit_id}.cose"'})


@api.get("/api/v1/receipt-key")
def receipt_public_key():
    key = receipt_key()
    if key is None:
        return _refusal(ServiceError(reason="no_receipt_key"), 404)
    pub = wire.keys.public_key_of(key)
    return Response(wire.encode(wire.cose_key(pub)), 200,
                    {"Content-Type": "application/cose-key"})


@bp.post("/visits/recover")
def recover():
    x = ext()
    try:
        with x.db.session() as s:
            new = visits.recover(s, request.form.get("code", ""), x.now())
            body = render_template("visits/result.html", ok=True, action="recover",
                                   household=new.household, visit=None, recovery=None,
                                   SERVICE_NAMES=SERVICE_NAMES, VISIT_REFUSALS=VISIT_REFUSALS)
    except ServiceError as err:
        return _refusal(err)
    return _set_household(employer_view._finish(make_response(body, 200)), new.secret)
