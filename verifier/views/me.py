"""The worker's own page (`/me/…`, docs/worker.md): opened with the badge number and the
one-time code a terminal showed after a check-in (or the console printed on a card), for 15
minutes, on any phone browser; Chinese first, no JavaScript (the employer pages' frame).

- `GET /me/` the form (`?b=<serial>&c=<code>`, what the desk terminal's QR code opens, fills
  it in; the code is used only by the POST, so that a link preview cannot use it up);
- `POST /me/` opens the page (services/links.redeem) or says why not, with its status;
- `GET /me/page` the page: badge, attendance, what an employer sees, who saw it, visits,
  reviews, complaints (a reply), appeals, the consent choice, my data, the 注销 request;
- `POST /me/scope`, `/me/reply/<complaint>`, `/me/appeal`, `/me/cancel`, `/me/logout`;
- `GET /me/data.json` and `/me/data` everything the service holds about the worker.

The session is a random secret in an HttpOnly cookie on /me/ (only its hash is stored). The
worker's own reading is not a disclosure to anyone. CSRF as every page's form; the POSTs share
the public rate limit, and the guesses per badge are counted by services/links.py.
"""
from flask import Blueprint, jsonify, make_response, redirect, render_template, request, \
    url_for
from flask_wtf.csrf import CSRFError

from host import wire
from xinka import linkcode

from ..i18n.messages import N_
from ..services import appeals, complaints, links, me
from ..services.errors import NotFound, ServiceError
from . import employer as employer_view
from . import html
from .common import cookie_secure, ext, rate_limited_post, refused, ticked_scope

bp = Blueprint("me", __name__, url_prefix="/me")

COOKIE = "xinka_me"
UNKNOWN_CODE = N_("This code is not known for this badge. If you checked in a moment ago at "
                  "a terminal without network, the code works once the terminal has sent "
                  "your check-in.")
# why a code did not open the page: (status, message)
REFUSALS = {
    "bad_code": (400, N_("A code has 8 letters and digits, as the terminal shows it "
                         "(XXXX-XXXX).")),
    "unknown_badge": (404, N_("No badge has this number. It is printed on the badge.")),
    "unknown_code": (404, UNKNOWN_CODE),
    "wrong_badge": (404, UNKNOWN_CODE),      # the same answer: it tells a guesser nothing
    "expired": (410, N_("This code has expired: a code works for 15 minutes after the "
                        "check-in. Check in again for a new one, or ask your agency.")),
    "used": (410, N_("This code has been used already: each code opens the page once. "
                     "Check in again for a new one.")),
    "locked": (429, N_("Too many wrong codes for this badge: its codes are locked for an "
                       "hour. Ask your agency if this was not you.")),
    "cancelled": (410, N_("This worker file has been cancelled.")),
}
DONE = {"scope": N_("Saved: a consent tap shows only what you ticked."),
        "reply": N_("Your reply was recorded."),
        "appeal": N_("Your appeal was filed. The agency, or the bureau, will decide."),
        "cancel": N_("Your request to cancel was sent to your agency."),
        "cancel_again": N_("You asked to cancel already; your agency has the request.")}


def _page(template, status=200, **kw):
    resp = make_response(render_template(template, **kw), status)
    return employer_view._finish(resp)


def _enter(status=200, serial="", code="", error=None):
    return _page("me/enter.html", status, serial=serial, code=code, error=error)


@bp.errorhandler(CSRFError)
def _csrf_refused(err):
    refused("csrf", f"worker page: {err.description}")
    return _enter(400, error=N_("The form expired. Open the page again and send it once "
                                "more."))


@bp.get("/")
def enter():
    serial = request.args.get("b", "")[:links.SERIAL_MAX]
    code = linkcode.normalise(request.args.get("c", "")) or ""
    return _enter(serial=serial, code=linkcode.show(code) if code else "")


@bp.post("/")
@rate_limited_post
def open_page():
    x = ext()
    serial, typed = request.form.get("serial", ""), request.form.get("code", "")
    with x.db.session() as s:
        got = links.redeem(s, serial, typed, x.now())
    if isinstance(got, links.Refused):
        status, message = REFUSALS[got.reason]
        refused(f"link_{got.reason}", f"worker page, badge {serial[:links.SERIAL_MAX]!r}")
        return _enter(status, serial[:links.SERIAL_MAX], typed[:20], message)
    resp = redirect(url_for(".page"), 303)
    resp.set_cookie(COOKIE, got.secret, max_age=links.SESSION_S, httponly=True,
                    samesite="Lax", secure=cookie_secure(), path="/me/")
    return resp


def _gone():
    refused("no_worker_session", "worker page")
    return _enter(401, error=N_("The page has closed (it stays open 15 minutes). Enter a new "
                                "code to open it again."))


def _for_worker(view):
    """`view(session, worker session, now)` for this browser's open worker page, in one
    transaction; the closed-page answer when it has none."""
    x = ext()
    with x.db.session() as s:
        ws = links.session_of(s, request.cookies.get(COOKIE), x.now())
        if ws is None:
            return _gone()
        return view(s, ws, x.now())


@bp.get("/page")
def page():
    def view(s, ws, now):
        data = me.page(s, ws.agency_id, ws.worker_ref, now, ext().grading, ws.expires_at)
        return _page("me/page.html", done=DONE.get(request.args.get("done", "")),
                     error=(request.args.get("error") or "")[:40] or None, **data)
    return _for_worker(view)


def _back(done=None, error=None):
    return redirect(url_for(".page", done=done, error=error) + "#" +
                    ("done" if done else "error"), 303)


def _as_worker(what, act):
    """`act(session, worker session, now)` for the open page's worker, then back to the page
    saying what was done (its return) or, on a refusal, its reason (nothing written)."""
    def view(s, ws, now):
        try:
            return _back(act(s, ws, now))
        except ServiceError as err:
            refused(err.reason, f"worker page {what}")
            s.rollback()
            return _back(error=err.reason)
    return _for_worker(view)


@bp.post("/scope")
def scope():
    bits = ticked_scope(wire.tap.SCOPE_AGENCY)

    def act(s, ws, now):
        links.set_scope(s, ws.agency_id, ws.worker_ref, bits, now)
        return "scope"
    return _as_worker("scope", act)


@bp.post("/reply/<int:complaint_id>")
def reply(complaint_id):
    def act(s, ws, now):
        if complaints.get(s, ws.agency_id, complaint_id).worker_ref != ws.worker_ref:
            raise NotFound("not this worker's complaint", reason="not_yours")
        complaints.reply(s, ws.agency_id, complaint_id, request.form.get("reply"), now,
                         "worker")
        return "reply"
    return _as_worker("reply", act)


@bp.post("/appeal")
def appeal():
    def act(s, ws, now):
        appeals.file(s, ws.agency_id, ws.worker_ref, request.form.get("target"),
                     request.form.get("grounds"), now, "worker")
        return "appeal"
    return _as_worker("appeal", act)


@bp.post("/cancel")
def cancel():
    def act(s, ws, now):
        new = links.request_cancel(s, ws.agency_id, ws.worker_ref, now)
        return "cancel" if new else "cancel_again"
    return _as_worker("cancel", act)


@bp.post("/logout")
def logout():
    x = ext()
    with x.db.session() as s:
        links.close(s, request.cookies.get(COOKIE))
    resp = _enter(200)
    resp.delete_cookie(COOKIE, path="/me/")
    return resp


@bp.get("/data.json")
def data_json():
    def view(s, ws, now):
        resp = jsonify(me.everything(s, ws.agency_id, ws.worker_ref, now))
        resp.headers["Content-Disposition"] = "attachment; filename=my-data.json"
        resp.headers["Cache-Control"] = "no-store"
        return html.security_headers(resp)
    return _for_worker(view)


@bp.get("/data")
def data_page():
    return _for_worker(lambda s, ws, now: _page(
        "me/data.html", data=me.everything(s, ws.agency_id, ws.worker_ref, now)))
