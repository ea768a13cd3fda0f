"""What the HTML pages share: the message catalogue, Jinja filters (local times in the
configured time zone), the employer page's inline stylesheet and the security headers.

Pages set a strict Content-Security-Policy: nothing from other origins, no scripts, the
employer page's one inline <style> allowed by its hash. Tap URLs carry the token, so no
page sends a Referer.
"""
import base64
import hashlib
import pathlib
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
import flask_babel
from markupsafe import Markup

from .. import i18n
from ..i18n import credit as credit_texts
from ..i18n.messages import REASONS
from ..i18n.visits import CLOSED_BY, SERVICE_NAMES, SIGNAL_KINDS

STATIC = pathlib.Path(__file__).resolve().parents[1] / "static"
INLINE_CSS = "employer.css"


def _zone():
    return ZoneInfo(current_app.config["TIMEZONE"])


def when(ts, fmt="%Y-%m-%d %H:%M"):
    if ts is None:
        return ""
    return datetime.fromtimestamp(int(ts), _zone()).strftime(fmt)


def day(ts):
    return when(ts, "%Y-%m-%d")


def month(ts):
    return when(ts, "%Y-%m")


def service_name(code):
    """A service type code in the page's language (unknown codes as they are)."""
    return i18n.t(SERVICE_NAMES[code]) if code in SERVICE_NAMES else code


def hours(minutes):
    """Minutes as hours with one decimal: 90 -> 1.5."""
    return "" if minutes is None else f"{minutes / 60:.1f}"


def duration(seconds):
    """A short, translated duration: 45 s, 12 min, 3 h, 2 d."""
    if seconds is None:
        return ""
    s = int(seconds)
    if s < 120:
        return i18n.t("%(n)d s", n=s)
    if s < 7200:
        return i18n.t("%(n)d min", n=s // 60)
    if s < 2 * 86400:
        return i18n.t("%(n)d h", n=s // 3600)
    return i18n.t("%(n)d d", n=s // 86400)


class InlineStyle:
    """The employer page's stylesheet, inlined (one request, no layout shift) and allowed
    by its hash in the CSP."""

    def __init__(self, path):
        self.text = path.read_text(encoding="utf-8")
        digest = hashlib.sha256(self.text.encode()).digest()
        self.csp = "'sha256-" + base64.b64encode(digest).decode() + "'"

    def markup(self):
        return Markup(self.text)


def security_headers(resp, inline_style=None):
    style = "'self'" + (" " + inline_style.csp if inline_style else "")
    resp.headers["Content-Security-Policy"] = (
        f"default-src 'none'; style-src {style}; img-src 'self' data:; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'")
    resp.headers["Referrer-Policy"] = "no-referrer"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Cache-Control"] = "no-store"
    return resp


def explain(code, params=None):
    """The text of a colour or grade reason (services/credit_rules.Reason) with its figures:
    dates as local days, codes as their texts."""
    values = dict(params or {})
    for key in ("since", "on"):
        if isinstance(values.get(key), int):
            values[key] = day(values[key])
    for key, table in (("outcome", credit_texts.COMPLAINT_OUTCOMES),
                       ("severity", credit_texts.COMPLAINT_SEVERITIES),
                       ("kind", credit_texts.RECORD_KINDS)):
        if key in values and values[key] in table:
            values[key] = flask_babel.gettext(table[values[key]])
    text = credit_texts.GRADE_REASONS.get(code) or REASONS.get(code) or code
    try:
        return flask_babel.gettext(text, **values) if values else flask_babel.gettext(text)
    except (KeyError, TypeError, ValueError):        # a reason kept without its figures
        return flask_babel.gettext(text) if "%(" not in text else code


def init_app(app):
    i18n.init_app(app)
    style = InlineStyle(STATIC / INLINE_CSS)
    app.extensions["xinka_inline_style"] = style
    app.jinja_env.filters.update(when=when, day=day, month=month, duration=duration,
                                 service_name=service_name, hours=hours)
    app.jinja_env.globals.update(inline_css=style.markup, SIGNAL_KINDS=SIGNAL_KINDS,
                                 CLOSED_BY=CLOSED_BY,
                                 **{k: v for k, v in vars(credit_texts).items()
                                    if k.startswith(("RECORD_", "COMPLAINT_", "GRADE_",
                                                     "APPEAL_", "BAN_", "APPLICATION_"))},
                                 explain=explain)
