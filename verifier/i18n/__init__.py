"""The message catalogue of the employer page and the console: ONE gettext domain
(`messages`), msgids in English, translations in `zh_CN` and `en` .po files beside this
module.

- `init_app(app)` compiles the .po files in memory with Babel (so a fresh checkout needs no
  build step) and installs `_`/`gettext`/`ngettext` into Jinja (new-style gettext: the
  translated text is escaped, `%(name)s` placeholders are filled from keyword arguments).
- The locale of a request: `?lang=` (zh/en, remembered in a cookie), then that cookie, then
  `Accept-Language`; Chinese (zh_CN) by default.
- `flask --app verifier i18n-extract` rewrites messages.pot from the sources and merges it
  into both .po files; `i18n-compile` writes the .mo files (verifier/i18n/tools.py).

Codes that the services return (verdict reasons, complaint categories) get their texts here,
marked with `N_` so extraction finds them.
"""
import gettext as _gettext
import io
import pathlib

HERE = pathlib.Path(__file__).parent
DOMAIN = "messages"
LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"
HTML_LANG = {"zh_CN": "zh-CN", "en": "en"}
LANG_ARG = {"zh": "zh_CN", "zh_cn": "zh_CN", "zh-cn": "zh_CN", "en": "en"}
COOKIE = "lang"


def N_(msgid):
    """Marks a msgid for extraction; translated where it is shown."""
    return msgid


VERDICTS = {
    "green": N_("Genuine and active"),
    "yellow": N_("Genuine, but check"),
    "red": N_("Do not trust"),
}

REASONS = {
    "ok": N_("The badge is genuine, current and active."),
    "malformed": N_("This link is damaged or incomplete. Ask the worker to tap the badge "
                    "again."),
    "oversized": N_("This link is far too long to come from a badge."),
    "wrong_alg": N_("The badge's signature is not genuine: the badge may be forged."),
    "bad_signature": N_("The badge's signature is not genuine: the badge may be forged."),
    "unknown_key": N_("The badge's key is not known here: the badge may be forged or "
                      "belong to another system."),
    "untrusted_issuer": N_("The agency that issued this badge is not on the trusted list."),
    "expired": N_("The badge's credential has expired."),
    "not_yet_valid": N_("The badge's credential is not valid yet."),
    "wrong_purpose": N_("This is not an employer link: it is meant for a check-in "
                        "terminal."),
    "revoked": N_("The agency has revoked this badge."),
    "suspended": N_("The agency has suspended this badge."),
    "lost": N_("This badge was reported lost."),
    "cancelled": N_("The worker's registration was cancelled."),
    "already_used": N_("This link was already used. Ask the worker to tap the badge again."),
    "replayed": N_("This link is old or a copy. Ask the worker to tap the badge again."),
    "stale_status": N_("The revocation list is out of date, so the badge cannot be checked "
                       "now."),
    "rate_limited": N_("Too many checks from this network. Wait a minute, then tap again."),
    "status_unknown": N_("The badge is genuine, but its current status could not be "
                         "confirmed."),
    "status_stale": N_("The badge is genuine, but the revocation list is out of date."),
    "health_expired": N_("The health check has expired."),
    "health_missing": N_("No health check on file."),
    "insurance_expired": N_("The insurance has expired."),
    "insurance_missing": N_("No insurance on file."),
    "records_incomplete": N_("The health check or the insurance needs attention. Ask the "
                             "worker to press the badge button to share details."),
    "complaints": N_("Several recent complaints are waiting for the agency to resolve "
                     "them."),
}

CATEGORIES = {
    "late": N_("Late or absent"),
    "attitude": N_("Attitude"),
    "quality": N_("Quality of work"),
    "safety": N_("Safety"),
    "honesty": N_("Honesty"),
    "other": N_("Other"),
}

BADGE_STATES = {
    "registered": N_("registered"), "active": N_("active"), "suspended": N_("suspended"),
    "lost": N_("lost"), "revoked": N_("revoked"),
}

WORKER_STATES = {"active": N_("active"), "cancelled": N_("cancelled")}

ACTIONS = {
    "suspend": N_("Suspend"), "reinstate": N_("Reinstate"), "lose": N_("Report lost"),
    "revoke": N_("Revoke"), "activate": N_("Activate"), "cancel": N_("Cancel registration"),
}

REVIEW_REFUSALS = {
    "no_consent_tap": N_("A review needs a consent tap: ask the worker to press the badge "
                         "button, tap the badge, and review from that page."),
    "not_viewer": N_("Only the phone that opened the consent page can review this visit."),
    "other_worker": N_("This consent tap belongs to another worker: a review can only be "
                       "about the worker who was tapped."),
    "already_reviewed": N_("This visit already has a review: one review per consent tap."),
    "review_window": N_("The time to review this visit is over."),
    "bad_review": N_("Please give 1 to 5 stars, a known category and at most 500 "
                     "characters."),
}


def compile_po(path):
    """gettext.GNUTranslations from a .po file, compiled in memory."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with open(path, "rb") as f:
        catalog = read_po(f)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return _gettext.GNUTranslations(buf)


def po_path(locale):
    return HERE / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


class Catalogue:
    def __init__(self, translations):
        self.translations = translations

    @classmethod
    def load(cls):
        return cls({loc: compile_po(po_path(loc)) for loc in LOCALES})

    def translate(self, locale, msgid, **kw):
        text = self.translations.get(locale, self.translations[DEFAULT_LOCALE]).gettext(msgid)
        return text % kw if kw else text

    def ngettext(self, locale, singular, plural, n, **kw):
        t = self.translations.get(locale, self.translations[DEFAULT_LOCALE])
        kw.setdefault("num", n)
        return t.ngettext(singular, plural, n) % kw


def negotiate(lang_arg, cookie, accept_languages):
    """(locale, remember): the ?lang= argument, then the cookie, then Accept-Language."""
    if lang_arg:
        loc = LANG_ARG.get(lang_arg.lower())
        if loc:
            return loc, True
    if cookie in LOCALES:
        return cookie, False
    best = accept_languages.best_match(["zh-CN", "zh", "en"]) if accept_languages else None
    return ("en" if best == "en" else DEFAULT_LOCALE), False


def init_app(app):
    from flask import g, request

    cat = Catalogue.load()
    app.extensions["xinka_i18n"] = cat
    app.jinja_env.add_extension("jinja2.ext.i18n")

    def locale():
        return getattr(g, "locale", DEFAULT_LOCALE)

    def gettext(msgid, **kw):
        return cat.translate(locale(), msgid, **kw)

    def ngettext(s, p, n, **kw):
        return cat.ngettext(locale(), s, p, n, **kw)

    app.jinja_env.install_gettext_callables(gettext, ngettext, newstyle=True)
    app.jinja_env.globals.update(VERDICTS=VERDICTS, REASONS=REASONS, CATEGORIES=CATEGORIES,
                                 BADGE_STATES=BADGE_STATES, WORKER_STATES=WORKER_STATES,
                                 ACTIONS=ACTIONS, REVIEW_REFUSALS=REVIEW_REFUSALS,
                                 html_lang=lambda: HTML_LANG[locale()], locale=locale)

    @app.before_request
    def _pick_locale():
        g.locale, g.remember_locale = negotiate(request.args.get("lang"),
                                                request.cookies.get(COOKIE),
                                                request.accept_languages)

    @app.after_request
    def _remember_locale(resp):
        if getattr(g, "remember_locale", False):
            resp.set_cookie(COOKIE, g.locale, max_age=365 * 86400, samesite="Lax",
                            httponly=True)
        return resp

    return cat


def t(msgid, **kw):
    """Translate in the current request's locale (views)."""
    from flask import current_app, g
    return current_app.extensions["xinka_i18n"].translate(getattr(g, "locale", DEFAULT_LOCALE),
                                                        msgid, **kw)


def t_zh(msgid, **kw):
    """Translate into Chinese whatever the request's locale (the exports)."""
    from flask import current_app
    return current_app.extensions["xinka_i18n"].translate("zh_CN", msgid, **kw)
