"""The message catalogue of the employer page and the console: ONE gettext domain
(`messages`), msgids in English, translations in `zh_CN` and `en` .po files beside this
module.

- `init_app(app)` sets up Flask-Babel on the compiled catalogues (`messages.mo` beside each
  .po, kept in the repository and in the wheel; tests/web/test_i18n.py checks that they are
  the compilation of the .po files). Flask-Babel installs `_`/`gettext`/`ngettext` into Jinja
  (new-style gettext: the translated text is escaped, `%(name)s` placeholders are filled from
  keyword arguments).
- The locale of a request: `?lang=` (zh/en, remembered in a cookie), then that cookie, then
  `Accept-Language`; Chinese (zh_CN) by default.
- `flask --app verifier i18n-extract` rewrites messages.pot from the sources and merges it
  into both .po files; `i18n-compile` writes the .mo files the app loads
  (verifier/i18n/tools.py).

Codes that the services return (verdict reasons, complaint categories) get their texts in
verifier/i18n/messages.py, marked with `N_` so extraction finds them; that module imports
nothing, so services may use it.
"""
import pathlib

import babel
import flask_babel

from .messages import (ACTIONS, BADGE_STATES, CATEGORIES, REASONS, REVIEW_REFUSALS,  # noqa: F401
                       SCOPE_LABELS, VERDICTS, WORKER_STATES, N_)

HERE = pathlib.Path(__file__).parent
DOMAIN = "messages"
LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"
HTML_LANG = {"zh_CN": "zh-CN", "en": "en"}
LANG_ARG = {"zh": "zh_CN", "zh_cn": "zh_CN", "zh-cn": "zh_CN", "en": "en"}
COOKIE = "lang"


def po_path(locale):
    """The .po file of a locale, in the folder Flask-Babel looks in: Babel names zh_CN by its
    script too (zh_Hans_CN)."""
    return HERE / str(babel.Locale.parse(locale)) / "LC_MESSAGES" / f"{DOMAIN}.po"


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

    def locale():
        return getattr(g, "locale", DEFAULT_LOCALE)

    flask_babel.Babel(app, locale_selector=locale, default_locale=DEFAULT_LOCALE,
                      default_domain=DOMAIN, default_translation_directories=str(HERE))
    app.jinja_env.globals.update(VERDICTS=VERDICTS, REASONS=REASONS, CATEGORIES=CATEGORIES,
                                 BADGE_STATES=BADGE_STATES, WORKER_STATES=WORKER_STATES,
                                 ACTIONS=ACTIONS, REVIEW_REFUSALS=REVIEW_REFUSALS,
                                 SCOPE_LABELS=SCOPE_LABELS,
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


def t(msgid, **kw):
    """Translate in the current request's locale (views)."""
    return flask_babel.gettext(msgid, **kw)


def t_zh(msgid, **kw):
    """Translate into Chinese whatever the request's locale (the exports)."""
    with flask_babel.force_locale(DEFAULT_LOCALE):
        return flask_babel.gettext(msgid, **kw)
