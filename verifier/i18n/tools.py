"""Catalogue maintenance with Babel: extract msgids from the verifier's Python and Jinja
sources into messages.pot, merge them into the zh_CN and en .po files, compile .mo files.

    flask --app verifier i18n-extract     # after changing texts; then translate the .po files
    flask --app verifier i18n-compile     # after translating: the .mo files the app loads
"""
import pathlib

from . import DOMAIN, HERE, LOCALES, po_path

SOURCE = HERE.parent
METHOD_MAP = [("templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true",
                                 "trimmed": "true"}}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "t": None,
            "t_zh": None}
POT = HERE / f"{DOMAIN}.pot"


def extract():
    """A babel Catalog of every msgid in the sources."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir

    cat = Catalog(project="xinka verifier", version="1", charset="utf-8",
                  msgid_bugs_address="")
    for filename, lineno, message, comments, context in extract_from_dir(
            str(SOURCE), METHOD_MAP, OPTIONS, KEYWORDS, strip_comment_tags=True):
        cat.add(message, None, [(filename, lineno)], auto_comments=comments,
                context=context)
    return cat


HEADER = ("# The message catalogue of the xinka verifier (employer page, agency console).\n"
          "# Regenerate with `flask --app verifier i18n-extract`; see verifier/i18n/.")


def _write(path, catalog):
    from babel.messages.pofile import write_po
    catalog.header_comment = HEADER
    catalog.project, catalog.version = "xinka verifier", "1"
    catalog.msgid_bugs_address = ""
    catalog.fuzzy = False
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        write_po(f, catalog, include_lineno=False, ignore_obsolete=True, sort_output=True,
                 width=100)


def update():
    """Rewrite messages.pot and merge it into every .po; returns {locale: untranslated}."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po

    template = extract()
    _write(POT, template)
    missing = {}
    for loc in LOCALES:
        path = po_path(loc)
        if path.exists():
            with open(path, "rb") as f:
                cat = read_po(f, locale=loc)
        else:
            cat = Catalog(locale=loc, domain=DOMAIN)
        cat.update(template, no_fuzzy_matching=True)
        _write(path, cat)
        missing[loc] = [m.id for m in cat if m.id and not m.string]
    return missing


def compile_all(out_dir=None):
    """Write messages.mo for each locale (beside its .po, where Flask-Babel loads it, or in
    the same layout under out_dir); returns the paths, in the order of LOCALES."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    out = []
    for loc in LOCALES:
        po = po_path(loc)
        with open(po, "rb") as f:
            cat = read_po(f, locale=loc)
        mo = po.with_suffix(".mo") if out_dir is None else \
            pathlib.Path(out_dir) / po.parent.parent.name / "LC_MESSAGES" / f"{DOMAIN}.mo"
        mo.parent.mkdir(parents=True, exist_ok=True)
        with open(mo, "wb") as f:
            write_mo(f, cat, use_fuzzy=False)
        out.append(mo)
    return out
