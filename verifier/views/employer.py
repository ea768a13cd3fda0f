"""The employer page: `GET /t/<b64>` (the badge's NDEF URL) and the review form it offers
after a consent view. Logic in services/employer.py, colours in services/colour.py."""
import re
import secrets

from flask import Blueprint, current_app, make_response, render_template, request, url_for
from flask_wtf.csrf import CSRFError

from ..i18n.visits import SERVICE_NAMES, VISIT_REFUSALS
from ..services import complaints, employer, reviews
from ..services.errors import ServiceError
from . import html, visits
from .common import cookie_secure, ext, rate_limited, refused

bp = Blueprint("employer", __name__)

VIEWER_COOKIE = "xv"
_SECRET = re.compile(r"[A-Za-z0-9_-]{32}")
STATUS = {"malformed": 400, "oversized": 414, "rate_limited": 429}


def _viewer():
    """(secret, is_new): the browser's viewer cookie, or a fresh one."""
    secret = request.cookies.get(VIEWER_COOKIE, "")
    if _SECRET.fullmatch(secret):
        return secret, False
    return secrets.token_urlsafe(24), True


def _finish(resp, secret=None):
    if secret is not None:
        resp.set_cookie(VIEWER_COOKIE, secret, max_age=30 * 86400, httponly=True,
                        samesite="Lax", secure=cookie_secure(), path="/t/")
    return html.security_headers(resp, current_app.extensions["xinka_inline_style"])


@bp.get("/t/", defaults={"b64": ""})
@bp.get("/t/<path:b64>")
@rate_limited
def tap_page(b64):
    x = ext()
    secret, new = _viewer()
    now = x.now()
    with x.db.session() as s:
        snap = x.snapshot(s)
        page = employer.show(s, snap, b64, secret, now, x.policy, x.grading,
                             x.config["RELOAD_WINDOW_S"], x.store.cache)
        offer = visits.offer_context(s, page, b64, secret, now)
    return _page_response(x, page, b64, secret, new, offer)


def _rate_limited_page():
    """The red page of a client over the rate limit (Flask-Limiter's breach response)."""
    x = ext()
    secret, new = _viewer()
    b64 = (request.view_args or {}).get("b64", "")
    return _page_response(x, employer.red("rate_limited", x.now()), b64, secret, new, None)


tap_page.xinka_rate_limit_breach = _rate_limited_page


def _page_response(x, page, b64, secret, new, offer):
    x.metrics.employer_pages.labels(colour=page.decision.colour,
                                    reason=page.decision.headline).inc()
    status = STATUS.get(page.decision.headline, 200)
    if page.decision.colour == "red":
        refused(page.decision.headline, f"red page, {page.purpose or 'unread'} tap"
                + (f", agency {page.agency_id}" if page.agency_id else ""))
    body = render_template("employer/page.html", page=page, b64=b64,
                           categories=reviews.CATEGORIES,
                           reload_min=x.config["RELOAD_WINDOW_S"] // 60, offer=offer,
                           SERVICE_NAMES=SERVICE_NAMES, VISIT_REFUSALS=VISIT_REFUSALS)
    return _finish(make_response(body, status), secret if new else None)


@bp.post("/t/<b64>/review")
def review(b64):
    x = ext()
    secret = request.cookies.get(VIEWER_COOKIE, "")
    f = request.form
    try:
        if _SECRET.fullmatch(secret) is None:       # (the form's CSRF token: views/browser.py)
            raise reviews.ReviewRefused("no viewer cookie", reason="not_viewer")
        with x.db.session() as s:
            r = reviews.submit(s, employer.token_hash_of(b64), employer.viewer_hash(secret),
                               f.get("agency", ""), f.get("worker", ""), f.get("stars"),
                               f.get("category"), f.get("comment"), x.now(),
                               x.config["REVIEW_WINDOW_S"])
            link = file_complaint(s, r, f.get("severity"))
    except ServiceError as err:
        return _review_refused(err.reason if err.reason in _REFUSALS else "bad_review",
                               err.http_status)
    body = render_template("employer/review_result.html", ok=True, reason=None,
                           complaint_link=link)
    return _finish(make_response(body, 201))


def file_complaint(s, review, severity):
    """The complaint process of a review with a category; the complainant's status link."""
    if review.category is None:
        return None
    x = ext()
    _, secret = complaints.file(s, review, severity, x.now(), x.calendar,
                                x.config["TIMEZONE"], "household")
    return url_for("complaints.status", secret=secret, _external=False)


def _review_refused(reason, status):
    refused(reason, "review")
    body = render_template("employer/review_result.html", ok=False, reason=reason)
    return _finish(make_response(body, status))


@bp.errorhandler(CSRFError)
def _csrf_refused(err):
    """A review form without this browser's CSRF token: the same refusal as a review from a
    browser that was not shown the tap."""
    return _review_refused("not_viewer", 403)


_REFUSALS = ("no_consent_tap", "not_viewer", "other_worker", "already_reviewed",
             "review_window", "bad_review")
