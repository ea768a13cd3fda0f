"""No hand-written glue where a maintained library does the job (issue "Operations as
operators expect them"): in verifier/, no Prometheus exposition of its own (prometheus_client),
no rate limiter of its own (Flask-Limiter), no CSRF tokens of its own (Flask-WTF), no session
cookie of its own (Flask-Login over Flask's signed session), no gettext compilation at run time
(Flask-Babel loads the compiled catalogues; verifier/i18n/tools.py is the maintainer's
command that compiles them)."""
import io
import pathlib
import re
import tokenize

ROOT = pathlib.Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / "verifier").rglob("*.py"))
TOOLS = ROOT / "verifier" / "i18n" / "tools.py"

FORBIDDEN = {
    "a Prometheus exposition": re.compile(r"# (HELP|TYPE) |version=0\.0\.4|def generate_latest"),
    "a rate limiter": re.compile(r"X-RateLimit|Retry-After|per_minute\s*=|class \w*Limit"),
    "a CSRF token": re.compile(r"csrf\w*\s*=\s*(secrets|hashlib|hmac)|compare_digest\([^)]*csrf"
                               r"|def (?!_csrf_refused)(\w*_csrf|csrf_\w*)\("),
    "a session cookie": re.compile(r"set_cookie\(\s*(SESSION_COOKIE|\"xs\"|'xs')"),
    "gettext compilation": re.compile(r"write_mo|read_po|GNUTranslations|import gettext"),
}


def code_of(text):
    """The module's text with comments and docstrings blanked (they may name what the code
    does not do); line numbers kept."""
    lines = text.splitlines(keepends=True)
    blank = []
    prev = tokenize.NEWLINE
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == tokenize.COMMENT or (
                tok.type == tokenize.STRING and prev in (tokenize.NEWLINE, tokenize.INDENT,
                                                         tokenize.DEDENT, tokenize.NL)):
            blank.append((tok.start, tok.end))
        if tok.type not in (tokenize.COMMENT, tokenize.NL):
            prev = tok.type
    for (r0, c0), (r1, c1) in reversed(blank):
        for r in range(r0, r1 + 1):
            line = lines[r - 1]
            a = c0 if r == r0 else 0
            b = c1 if r == r1 else len(line.rstrip("\n"))
            lines[r - 1] = line[:a] + " " * (b - a) + line[b:]
    return "".join(lines)


def test_docstrings_and_comments_are_left_out_of_the_search():
    text = '''"""Retry-After: Flask-Limiter's."""\nx = 1  # X-RateLimit\ny = "Retry-After"\n'''
    code = code_of(text)
    assert "Retry-After" in code and code.count("Retry-After") == 1 and "X-RateLimit" not in code
    assert code.count("\n") == text.count("\n")


def test_no_hand_written_glue_in_the_verifier():
    assert len(SOURCES) > 40
    found = []
    for path in SOURCES:
        text = code_of(path.read_text(encoding="utf-8"))
        for what, pattern in FORBIDDEN.items():
            if what == "gettext compilation" and path == TOOLS:
                continue
            for m in pattern.finditer(text):
                line = text.count("\n", 0, m.start()) + 1
                found.append(f"{path.relative_to(ROOT)}:{line}: {what}: {m.group(0)!r}")
    assert found == []


def test_the_libraries_do_the_job():
    def src(rel):
        return (ROOT / "verifier" / rel).read_text(encoding="utf-8")
    assert "from prometheus_client import" in src("services/metrics.py")
    assert "from flask_limiter import" in src("limits.py")
    browser = src("views/browser.py")
    assert "from flask_wtf.csrf import CSRFProtect" in browser
    assert "from flask_login import" in browser
    assert "flask_babel.Babel(" in src("i18n/__init__.py")
