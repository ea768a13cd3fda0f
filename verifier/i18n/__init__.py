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

Codes that the services return (verdict reasons, complaint categories) get their texts in
verifier/i18n/messages.py, marked with `N_` so extraction finds them; that module imports
nothing, so services may use it.
"""
import gettext as _gettext
import hashlib
import io
import pathlib

from .messages import (ACTIONS, BADGE_STATES, CATEGORIES, REASONS, REVIEW_REFUSALS,  # noqa: F401
                       VERDICTS, WORKER_STATES, N_)

HERE = pathlib.Path(__file__).parent
DOMAIN = "messages"
LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"
HTML_LANG = {"zh_CN": "zh-CN", "en": "en"}
LANG_ARG = {"zh": "zh_CN", "zh_cn": "zh_CN", "zh-cn": "zh_CN", "en": "en"}
COOKIE = "lang"


_compiled = {}      # SHA-256 of a .po file -> its .mo bytes: each process parses it once


def compile_po(path):
    """gettext.GNUTranslations from a .po file, compiled in memory (parsing a .po takes
    ~10 ms; every app of a process shares the compiled bytes of the same file content)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    data = pathlib.Path(path).read_bytes()
    digest = hashlib.sha256(data).digest()
    mo = _compiled.get(digest)
    if mo is None:
        buf = io.BytesIO()
        write_mo(buf, read_po(io.BytesIO(data)), use_fuzzy=False)
        mo = _compiled[digest] = buf.getvalue()
    return _gettext.GNUTranslations(io.BytesIO(mo))


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
