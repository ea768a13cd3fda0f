"""The agency's application pages (`/apply/…`, no account yet, docs/verifier.md "Admission"):
the application form, and the status page where the applicant, with the application's number
and its token (shown once, when it applied), reads the state and the bureau's note and, when
the bureau asked for changes, amends it. Thin: the form becomes the JSON API's dict and goes
to the same services/admission.py calls; a refusal shows the form again with what was entered
(never the password) and the service's message, which names the rule that failed. CSRF on
Flask-WTF (views/browser.py) as every page's POST; the POSTs share the public rate limit."""
from flask import Blueprint, make_response, render_template, request
from flask_wtf.csrf import CSRFError

from ..i18n.credit import APPLICATION_STATES
from ..i18n.messages import N_
from ..services import admission
from ..services.errors import NotFound, ServiceError
from . import html
from .common import ext, rate_limited_post, refused

bp = Blueprint("apply", __name__, url_prefix="/apply")

# the form's fields, as the JSON API names them (services/admission.py)
TEXT_FIELDS = admission.FIELDS + ("public_keys",)
# the field a refusal is about (its message is shown beside it); others above the form
REASON_FIELD = {"uscc_length": "uscc", "uscc_digits": "uscc", "uscc_charset": "uscc",
                "uscc_checksum": "uscc", "duplicate_application": "uscc",
                "pledge_required": "pledge", "bad_public_key": "public_keys",
                "private_key_refused": "public_keys", "bad_username": "username",
                "username_taken": "username", "weak_password": "password",
                "password_mismatch": "password2"}
NOT_FOUND = N_("No application has this number and token. Check both: the token was shown "
               "once, when the application was sent.")
NOT_NOW = N_("The application cannot be amended now: the bureau has not asked for changes.")
EXPIRED = N_("The form expired or came from elsewhere. Reload the page and try again.")


def _page(template, status=200, **kw):
    kw.setdefault("limits", admission.LIMITS)
    kw.setdefault("states", APPLICATION_STATES)
    return html.security_headers(make_response(render_template(template, **kw), status))


def _entered(form, login=False):
    """What the form sent, as the JSON API's dict (the pledge a checkbox); with `login`, the
    first staff login's username too."""
    data = {name: form.get(name, "") for name in TEXT_FIELDS + (("username",) if login else ())}
    data["pledge"] = form.get("pledge") == "yes"
    return data


def _form_page(status=200, values=None, error=None, detail=None, reason=None):
    """The application form; `values` what was entered (the passwords left out)."""
    values = {k: v for k, v in (values or {}).items() if k not in ("password", "password2")}
    return _page("apply/form.html", status, values=values, error=error, detail=detail,
                 reason=reason, field=REASON_FIELD.get(reason))


@bp.route("/", methods=["GET", "POST"])
@rate_limited_post
def form():
    if request.method != "POST":
        return _form_page()
    f = request.form
    data = dict(_entered(f, login=True), password=f.get("password", ""))
    if data["password"] != f.get("password2", ""):
        refused("password_mismatch", "admission application page")
        return _form_page(400, data, error=N_("The two passwords differ."),
                          reason="password_mismatch")
    x = ext()
    try:
        with x.db.session() as s:
            app, token = admission.submit(s, data, x.now(),
                                          scrypt_n=x.config["STAFF_SCRYPT_N"])
            number, name = app.id, app.name
    except ServiceError as err:
        refused(err.reason, "admission application page")
        return _form_page(err.http_status, data, detail=err.message, reason=err.reason)
    return _page("apply/sent.html", 201, number=number, token=token, name=name)


def _number(value):
    value = value.strip().lstrip("#")
    return int(value) if value.isdecimal() and len(value) <= 9 else None


def _mine(s, number, token):
    """The application as the applicant sees it (a dict: the page is rendered after the
    transaction); NotFound for a wrong number or token."""
    a = admission.for_applicant(s, number, token)
    return dict(admission.to_json(a), public_keys=a.public_keys)


def _status_page(status, a=None, token="", values=None, error=None, detail=None, reason=None,
                 done=None, number=""):
    if a is not None and values is None:
        values = {name: a[name] for name in TEXT_FIELDS + ("pledge",)}
    return _page("apply/status.html", status, a=a, token=token if a is not None else "",
                 values=values or {}, error=error, detail=detail, reason=reason,
                 field=REASON_FIELD.get(reason), done=done, number=number)


@bp.route("/status", methods=["GET", "POST"])
@rate_limited_post
def status():
    if request.method != "POST":
        return _status_page(200)
    f = request.form
    number, token = _number(f.get("number", "")), f.get("token", "").strip()[:100]
    amending = f.get("action") == "amend"
    x = ext()
    try:
        with x.db.session() as s:
            if number is None:
                raise NotFound("no such application")
            if amending:
                admission.amend(s, number, token, _entered(f), x.now())
            a = _mine(s, number, token)
    except NotFound:
        refused("not_found", "admission status page")
        return _status_page(404, error=NOT_FOUND, number=f.get("number", "")[:20])
    except ServiceError as err:             # the amendment refused: nothing changed
        refused(err.reason, "admission amend page")
        with x.db.session() as s:
            a = _mine(s, number, token)
        own = NOT_NOW if err.reason == "invalid_transition" else None
        return _status_page(err.http_status, a, token, values=_entered(f), error=own,
                            detail=err.message, reason=err.reason)
    return _status_page(200, a, token, done="amended" if amending else None)


@bp.errorhandler(CSRFError)
def _csrf_refused(err):
    """A POST without this browser's CSRF token: the page again (what was typed kept, never
    the password), nothing done."""
    refused("csrf", f"admission page: {err.description}")
    if request.endpoint == "apply.form":
        return _form_page(400, _entered(request.form, login=True), error=EXPIRED, reason="csrf")
    return _status_page(400, error=EXPIRED, reason="csrf")


def _rate_limited_page():
    """Flask-Limiter's breach response for these pages."""
    return _page("apply/message.html", 429, title_msg=N_("Request refused"),
                 text_msg=N_("Too many requests from this address. Wait a minute and try "
                             "again."))


form.xinka_rate_limit_breach = _rate_limited_page
status.xinka_rate_limit_breach = _rate_limited_page
