"""Helpers shared by the blueprints: the extension, auth, rate-limit marks, JSON bodies, and
what the request log says about a refusal (`refused(reason, detail)`, `log_path`)."""
import functools
import hashlib
import re

from flask import abort, current_app, g, jsonify, request

from host import wire

from ..services import auth
from ..services.errors import BadRequest, Forbidden


def ext():
    return current_app.extensions["xinka"]


_TAP = re.compile(r"/t/[^/?#\s\"']*")


def log_path(path):
    """A request path fit for a log line: the token of a tap URL (/t/<b64>, which carries the
    worker's credential) becomes "…" and 8 hex digits of its SHA-256, enough to tell requests
    for one tap apart from another."""
    if not path.startswith("/t/"):
        return path
    b64, slash, rest = path[3:].partition("/")
    if not b64:
        return path
    return "/t/…" + hashlib.sha256(b64.encode()).hexdigest()[:8] + slash + rest


def redact_taps(text):
    """Every tap URL path in a text (an access log line) cut to /t/…"""
    return _TAP.sub("/t/…", text)


def cookie_secure():
    """Cookies of the pages are Secure with COOKIE_SECURE, and on any request over HTTPS."""
    return bool(current_app.config.get("COOKIE_SECURE")) or request.is_secure


def refused(reason, detail=None):
    """Name the reason (and context, never personal data) of this request's refusal for the
    request log: one INFO line per refused request (views/__init__.py)."""
    g.log_reason = reason
    if detail:
        g.log_detail = detail


def bearer():
    h = request.headers.get("Authorization", "")
    if h.startswith("Bearer "):
        return h[7:].strip()
    return request.headers.get("X-Api-Key")


def rate_limited(view):
    """Mark a public view for the per-client rate limit (applied by verifier/limits.py)."""
    view.xinka_rate_limit = {"methods": None}
    return view


def rate_limited_post(view):
    """The rate limit on POST only (a login form: the page itself is free to load)."""
    view.xinka_rate_limit = {"methods": ["POST"]}
    return view


def api_key_required(view):
    """Sets g.agency (None for an operator key, auth.BUREAU for the bureau's) and g.actor."""
    @functools.wraps(view)
    def wrapper(*a, **kw):
        with ext().db.session() as s:
            ok, agency = auth.api_key_principal(s, bearer())
        if not ok:
            return jsonify(reason="unauthorized", message="API key required / 需要 API 密钥"), 401
        g.agency = agency
        g.actor = "api:bureau" if agency == auth.BUREAU else f"api:{agency or 'operator'}"
        return view(*a, **kw)
    return wrapper


def operator_only():
    if g.agency is not None:
        raise Forbidden("operator key required / 需要运营方密钥")


def bureau_only(operator_too=False):
    """The bureau's key (and, with operator_too, the operator's)."""
    if g.agency == auth.BUREAU or (operator_too and g.agency is None):
        return
    raise Forbidden("a bureau key is required / 需要商务局密钥", reason="bureau_only")


def json_body():
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise BadRequest("a JSON object body is required", reason="malformed")
    return data


def raw_body(limit):
    if request.content_length is not None and request.content_length > limit:
        abort(413)
    data = request.stream.read(limit + 1)
    if len(data) > limit:
        abort(413)
    return data


def ticked_scope(base=0):
    """The consent scope bits of a form's ticked "show" boxes (host.wire SCOPE_NAMES; a name
    it does not know adds nothing), on top of `base`."""
    bits = base
    for name in request.form.getlist("show"):
        bits |= wire.SCOPE_NAMES.get(name, 0)
    return bits
