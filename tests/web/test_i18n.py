"""One message catalogue: no Chinese (or other CJK) text in templates or page code, every
msgid of the sources in messages.pot and translated in zh_CN and en, placeholders kept."""
import ast
import gettext
import pathlib
import re

import pytest
from babel.messages.pofile import read_po

from verifier import i18n
from verifier.i18n import tools

ROOT = pathlib.Path(__file__).parents[2] / "verifier"
CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]")
PAGE_CODE = ["views/employer.py", "views/console.py", "views/reports.py", "views/html.py",
             "services/colour.py", "services/employer.py", "services/reports.py",
             "services/reviews.py", "services/console.py", "i18n/__init__.py"]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _python_literals(path):
    """(line, text) of the string literals of a module, docstrings left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef)) and node.body and \
                isinstance(node.body[0], ast.Expr) and \
                isinstance(node.body[0].value, ast.Constant):
            docs.add(id(node.body[0].value))
    return [(n.lineno, n.value) for n in ast.walk(tree) if isinstance(n, ast.Constant)
            and isinstance(n.value, str) and id(n) not in docs]


def test_no_cjk_literals_in_templates_or_page_code():
    templates = sorted((ROOT / "templates").rglob("*.html"))
    assert len(templates) > 8
    for path in templates:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            assert not CJK.search(line), f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
    for rel in PAGE_CODE:
        for n, text in _python_literals(ROOT / rel):
            assert not CJK.search(text), f"{rel}:{n}: {text!r}"


def _catalog(loc):
    with open(i18n.po_path(loc), "rb") as f:
        return read_po(f, locale=loc)


def test_pot_is_up_to_date():
    with open(tools.POT, "rb") as f:
        pot = {m.id for m in read_po(f) if m.id}
    assert {m.id for m in tools.extract() if m.id} == pot, \
        "run `flask --app verifier i18n-extract` and translate the new msgids"


@pytest.mark.parametrize("loc", i18n.LOCALES)
def test_every_msgid_translated(loc):
    wanted = {m.id for m in tools.extract() if m.id}
    cat = _catalog(loc)
    have = {m.id: m for m in cat if m.id}
    assert wanted <= set(have), sorted(wanted - set(have))
    for msgid in wanted:
        m = have[msgid]
        assert m.string and not m.fuzzy, f"{loc}: untranslated {msgid!r}"
        assert set(PLACEHOLDER.findall(msgid)) == set(PLACEHOLDER.findall(m.string)), msgid
        if loc == "zh_CN" and msgid != "Other language":
            assert CJK.search(m.string) or not re.search("[a-z]{3}", msgid), msgid


def test_codes_shown_to_people_have_texts():
    from verifier.services import colour, reviews
    assert set(colour.RED_REASONS + colour.YELLOW_REASONS) <= set(i18n.REASONS)
    assert {"records_incomplete", "ok"} <= set(i18n.REASONS)
    assert set(reviews.CATEGORIES) == set(i18n.CATEGORIES)
    assert set(i18n.VERDICTS) == {colour.GREEN, colour.YELLOW, colour.RED}


@pytest.mark.parametrize("loc", i18n.LOCALES)
def test_the_mo_file_the_app_loads_is_the_compiled_po(loc, tmp_path):
    """Flask-Babel loads messages.mo: it must say exactly what the .po says (after a change
    of the .po: `flask --app verifier i18n-compile`)."""
    fresh = dict(zip(i18n.LOCALES, tools.compile_all(tmp_path), strict=True))[loc]
    with open(fresh, "rb") as f:
        want = gettext.GNUTranslations(f)._catalog
    with open(i18n.po_path(loc).with_suffix(".mo"), "rb") as f:
        have = gettext.GNUTranslations(f)._catalog
    assert have == want, "run `flask --app verifier i18n-compile`"
    assert want["Revoke"] == ("吊销" if loc == "zh_CN" else "Revoke")


def test_texts_follow_the_request_locale_and_the_exports_stay_chinese(sqlite_site):
    from flask import g

    app = sqlite_site.app
    for lang, text in (("zh", "无效，请勿信任"), ("en", "Do not trust")):
        with app.test_request_context(f"/?lang={lang}"):
            app.preprocess_request()
            assert i18n.t("Do not trust") == text
            assert i18n.t_zh("Do not trust") == "无效，请勿信任"
            assert i18n.t("Do not trust") == text       # force_locale restored the locale
            assert g.locale == i18n.LANG_ARG[lang]
    with app.test_request_context("/"):
        app.preprocess_request()
        assert i18n.t("%(n)d min", n=3) == "3 分钟"
