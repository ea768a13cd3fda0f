"""The agency console (`/console/…`): staff login, workers and badges with search and cursor
pagination, a worker's page, badge actions and 注销 with confirmation, complaint
resolution, terminals. Sessions on Flask-Login, CSRF on Flask-WTF (views/browser.py): every
POST, the login form's included, carries the session's CSRF token. Logic in
services/console.py, services/staff.py, services/registry.py.
"""
import flask_login
import segno
from flask import (Blueprint, abort, g, make_response, redirect, render_template, request,
                   session, url_for)
from flask_login import current_user, login_required  # sets g.staff (views/browser.py)
from flask_wtf.csrf import CSRFError
from markupsafe import Markup

from host import wire
from xinka import linkcode

from ..i18n.messages import N_
from ..models import Worker
from ..services import console, credit_rules, disclosures, links, registry, staff
from ..services.errors import ServiceError
from . import html
from .browser import ConsoleUser, login_manager
from .common import ext, rate_limited_post, refused, ticked_scope

bp = Blueprint("console", __name__, url_prefix="/console")

BADGE_ACTIONS = ("suspend", "reinstate", "lose", "revoke")
DONE = {"suspend", "reinstate", "lose", "revoke", "cancel", "appeal", "reply", "proposed",
        "identity", "issue_scope", "record", "verified", "withdrawn", "ban_proposed"}


def _page(template, status=200, **kw):
    resp = make_response(render_template(template, **kw), status)
    return html.security_headers(resp)


@login_manager.unauthorized_handler
def _to_login():
    refused("no_session", "sent to the login page")
    return redirect(url_for("console.login", next=request.full_path))


@bp.errorhandler(CSRFError)
def _csrf_refused(err):
    """A POST without this session's CSRF token: the login form is shown again, a signed-out
    browser goes to the login page, a signed-in one gets the refusal page."""
    if request.endpoint == "console.login":
        return _login_page("form_expired")
    if not current_user.is_authenticated:
        return _to_login()
    refused("csrf", f"console user {g.staff.id}: {err.description}")
    return _page("console/message.html", 403, title_msg=N_("Request refused"),
                 text_msg=N_("The form expired or came from elsewhere. Reload the "
                             "page and try again."))


def _safe_next(target, role="agency"):
    """Where a login goes: `target` when it is a page of the user's own console, else its
    first page."""
    own = "/bureau/" if role == "bureau" else "/console/"
    home = url_for("bureau_console.overview" if role == "bureau" else "console.workers")
    return target if target and target.startswith(own) and "//" not in target else home


def agency_staff_only():
    """Before every request of the agency console's blueprints: bureau staff see no agency's
    pages, a worker's least of all (403; the console's home sends them to their own)."""
    if request.endpoint in ("console.login", "console.logout") or \
            not current_user.is_authenticated or g.staff.role == "agency":
        return None
    if request.endpoint == "console.home":
        return redirect(url_for("bureau_console.overview"), 303)
    refused("wrong_role", f"console user {g.staff.id} ({g.staff.role}) on the agency console")
    return _page("console/message.html", 403, title_msg=N_("Request refused"),
                 text_msg=N_("This page is for agency staff."))


bp.before_request(agency_staff_only)


@bp.route("/login", methods=["GET", "POST"])
@rate_limited_post
def login():
    if request.method != "POST":
        return _login_page(None)
    x = ext()
    f = request.form
    with x.db.session() as s:
        user, error = staff.authenticate(s, f.get("username", "")[:64],
                                         f.get("password", "")[:256], x.now(),
                                         x.config["STAFF_SCRYPT_N"])
        if user is not None:
            secret = staff.start_session(s, user, x.now(), x.config["SESSION_TTL_S"])
            s.expunge(user)
    if error is not None:
        return _login_page(error)
    session.clear()                 # nothing from before the login carries over
    flask_login.login_user(ConsoleUser(user, secret))
    return html.security_headers(redirect(_safe_next(f.get("next"), user.role), 303))


def _login_page(error):
    if error:
        refused(error, "console login")
    return _page("console/login.html", 401 if error else 200, error=error,
                 next=request.values.get("next", ""))


@bp.post("/logout")
@login_required
def logout():
    x = ext()
    with x.db.session() as s:
        staff.end_session(s, current_user.secret)
    flask_login.logout_user()
    session.clear()
    return html.security_headers(redirect(url_for("console.login"), 303))


@bp.get("/")
@login_required
def home():
    return redirect(url_for("console.workers"))


def _cursor():
    value = request.args.get("after", "")
    return int(value) if value.isdigit() and len(value) < 19 else None


@bp.get("/workers")
@login_required
def workers():
    x = ext()
    q = request.args.get("q", "")
    with x.db.session() as s:
        rows, nxt = console.search_workers(s, g.agency_id, q, _cursor())
        badges = console.badges_by_worker(s, [w.id for w in rows])
        agency = registry.get_agency(s, g.agency_id)
    return _page("console/workers.html", rows=rows, badges=badges, q=q, next_cursor=nxt,
                 agency=agency, nav="workers")


@bp.get("/badges")
@login_required
def badges():
    x = ext()
    q, state = request.args.get("q", ""), request.args.get("state", "")
    if state not in registry.TRANSITIONS and state not in ("", "registered", "active",
                                                           "suspended", "lost", "revoked"):
        state = ""
    with x.db.session() as s:
        rows, nxt = console.search_badges(s, g.agency_id, q, state, _cursor())
        agency = registry.get_agency(s, g.agency_id)
    return _page("console/badges.html", rows=rows, q=q, state=state, next_cursor=nxt,
                 agency=agency, nav="badges")


@bp.get("/workers/<int:worker_id>")
@login_required
def worker(worker_id):
    x = ext()
    with x.db.session() as s:
        try:
            data = console.worker_page(s, g.agency_id, worker_id, x.now(), x.grading)
        except ServiceError:
            abort(404)
        disclosures.record(s, g.agency_id, data["worker"].worker_ref, x.now(), "staff",
                           g.actor)
        agency = registry.get_agency(s, g.agency_id)
        cancel_requested = links.cancel_requested(s, g.agency_id, data["worker"].worker_ref)
    done = request.args.get("done")
    return _page("console/worker.html", agency=agency, done=done if done in DONE else None,
                 actions=BADGE_ACTIONS, transitions=registry.TRANSITIONS, nav="workers",
                 complaint_limit=credit_rules.CURRENT.complaint_limit,
                 complaint_days=credit_rules.CURRENT.complaint_days,
                 cancel_requested=cancel_requested, issue_shown=_issue_shown(data["worker"]),
                 **data)


def _issue_shown(w):
    """Each scope name ticked or not on the worker's next-badge form (none set: all)."""
    bits = wire.SCOPE_ALL if w.issue_scope is None else w.issue_scope
    return {name: bool(bits & bit) for name, bit in wire.SCOPE_NAMES.items()}


@bp.post("/workers/<int:worker_id>/link-card")
@login_required
def link_card(worker_id):
    """A one-time link card for a worker at the desk (services/links.card): a random code
    for the worker's badge, valid 15 minutes, and the QR code of the /me/ link that carries
    it (inline SVG by segno: no script, no image request). Shown once; only its hash kept."""
    x = ext()
    try:
        with x.db.session() as s:
            w = registry.get_worker(s, g.agency_id, worker_id)
            card = links.card(s, g.agency_id, w.id, x.now(), g.actor)
            agency = registry.get_agency(s, g.agency_id)
            name, ref = w.name, w.worker_ref
    except ServiceError as err:
        return _error(err)
    url = url_for("me.enter", b=card.serial, c=card.code, _external=True)
    svg = segno.make(url, error="m").svg_inline(scale=5, border=2, title="QR")
    resp = _page("console/link_card.html", agency=agency, nav="workers", worker_id=worker_id,
                 name=name, worker_ref=ref, code=linkcode.show(card.code), serial=card.serial,
                 valid_until=card.valid_until, url=url, qr=Markup(svg))
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.post("/workers/<int:worker_id>/issue-scope")
@login_required
def issue_scope(worker_id):
    """What a consent tap of the worker's next badge shows: the ticked names, or the
    technician's profile default; `provision issue` writes it to the badge."""
    bits = None if request.form.get("default") else ticked_scope()
    x = ext()
    try:
        with x.db.session() as s:
            registry.set_issue_scope(s, g.agency_id, worker_id, bits, x.now(), g.actor)
    except ServiceError as err:
        return _error(err)
    return redirect(url_for("console.worker", worker_id=worker_id, done="issue_scope"), 303)


@bp.post("/workers/<int:worker_id>/identity")
@login_required
def identity(worker_id):
    """Record the worker's resident ID number: checked (the part that is wrong is named),
    kept sealed, the person's file in the bureau's registry found or made; a banned person
    is refused with the ban's end date."""
    x = ext()
    try:
        with x.db.session() as s:
            w = registry.get_worker(s, g.agency_id, worker_id)
            registry.enrol(s, x.sealer, x.hasher, g.agency_id, w.worker_ref,
                           request.form.get("id_number", ""), x.now(), g.actor,
                           x.config["TIMEZONE"])
    except ServiceError as err:
        return _error(err)
    return redirect(url_for("console.worker", worker_id=worker_id, done="identity"), 303)


def _republish(s, agency_id):
    """Sign the agency's next status list when this verifier holds its key."""
    return ext().republish(s, agency_id)


def _after_change():
    x = ext()
    with x.db.session() as s:
        x.store.refresh(s, x.now(), force=True)


def _error(err):
    refused(err.reason, "console")
    return _page("console/message.html", err.http_status, title_msg=N_("Not done"),
                 text_msg=None, detail=err.message)


def not_found(_err=None):
    return _page("console/message.html", 404, title_msg=N_("Not found"),
                 text_msg=N_("There is no such page, or it belongs to another agency."))


bp.register_error_handler(404, not_found)
bp.register_error_handler(ServiceError, _error)


@bp.route("/badges/<int:badge_id>/<action>", methods=["GET", "POST"])
@login_required
def badge_action(badge_id, action):
    if action not in BADGE_ACTIONS:
        abort(404)
    x = ext()
    with x.db.session() as s:
        try:
            b = registry.get_badge(s, g.agency_id, badge_id)
        except ServiceError:
            abort(404)
        w = s.get(Worker, b.worker_id) if b.worker_id else None
        s.expunge(b)
        if w is not None:
            s.expunge(w)
    back = url_for("console.worker", worker_id=w.id) if w else url_for("console.badges")
    error = None
    if request.method == "POST":
        reason = request.form.get("reason", "").strip()[:500]
        if request.form.get("confirm") != "yes" or not reason:
            error = "confirm_needed"
            refused(error, f"badge {badge_id} {action}")
        else:
            try:
                with x.db.session() as s:
                    registry.transition(s, g.agency_id, badge_id, action, x.now(), g.actor,
                                        reason)
                    _republish(s, g.agency_id)
            except ServiceError as err:
                return _error(err)
            _after_change()
            return redirect((back if w else url_for("console.badges")) +
                            f"?done={action}", 303)
    return _page("console/confirm.html", 400 if error else 200, action=action, badge=b,
                 worker=w, back=back, error=error, nav="badges",
                 allowed=b.state in registry.TRANSITIONS[action][0])


@bp.route("/workers/<int:worker_id>/cancel", methods=["GET", "POST"])
@login_required
def cancel(worker_id):
    x = ext()
    with x.db.session() as s:
        try:
            w = registry.get_worker(s, g.agency_id, worker_id)
        except ServiceError:
            abort(404)
        s.expunge(w)
    back = url_for("console.worker", worker_id=worker_id)
    error = None
    if request.method == "POST":
        reason = request.form.get("reason", "").strip()[:500]
        if request.form.get("confirm") != "yes" or not reason:
            error = "confirm_needed"
            refused(error, f"worker {worker_id} cancel")
        else:
            try:
                with x.db.session() as s:
                    revoked = registry.cancel_worker(s, g.agency_id, worker_id, x.now(),
                                                     g.actor, reason)
                    if revoked:
                        _republish(s, g.agency_id)
            except ServiceError as err:
                return _error(err)
            _after_change()
            return redirect(back + "?done=cancel", 303)
    return _page("console/confirm.html", 400 if error else 200, action="cancel", badge=None,
                 worker=w, back=back, error=error, nav="workers",
                 allowed=w.state != "cancelled")


@bp.get("/terminals")
@login_required
def terminals():
    x = ext()
    with x.db.session() as s:
        rows = console.terminals(s, g.agency_id, x.now())
        agency = registry.get_agency(s, g.agency_id)
    return _page("console/terminals.html", rows=rows, agency=agency, nav="terminals",
                 now=x.now())
