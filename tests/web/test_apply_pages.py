"""The agency's application pages (/apply/, /apply/status), on SQLite and PostgreSQL, through
Flask's test client with the CSRF token each form page hands out: a good application is
written with exactly what was entered, and its number and token shown once; every refusal
(an invalid USCC, no pledge, a duplicate, no CSRF token) shows the form again with the reason
and writes nothing; the status page takes the number and token by POST only, shows the state
and the bureau's note, and amends the application when the bureau asked for changes; the
password never comes back; script in a field is text."""
import re

import pytest
from sqlalchemy import select

from host.wire import keys
from tests.verifier.conftest import Env, make_app
from tests.verifier.test_admission import OTHER_USCC, VALID_USCC, counts, pem
from tests.web import a11y
from tests.web.conftest import _field
from tests.web.test_employer_page import EN, INJECT
from verifier.models import AgencyApplication, AuditEntry, StaffUser
from verifier.services import admission, staff

PASSWORD = "a long password 1"
NOTE = "营业执照扫描件不清晰，请重新上传"


@pytest.fixture
def env(db_url, world):
    app = make_app(db_url, world)
    e = Env(app, world)
    yield e
    e.x.db.engine.dispose()


def browser_pem(*ks):
    """Public keys pasted into the text box, as a browser sends a textarea (CRLF lines)."""
    return "".join(pem(k) for k in ks).replace("\n", "\r\n")


def form(**over):
    d = {"name": "杭州诚信家政服务有限公司", "uscc": VALID_USCC,
         "address": "杭州市西湖区文三路 1 号", "legal_representative": "王芳",
         "licence_ref": "scan-2026-0042.pdf", "pledge": "yes",
         "public_keys": browser_pem(keys.generate(), keys.generate()),
         "username": "wangfang", "password": PASSWORD, "password2": PASSWORD}
    d.update(over)
    return {k: v for k, v in d.items() if v is not None}


def csrf(client, path="/apply/"):
    return _field(client.get(path, headers=EN).text, "csrf")


def post_form(client, data, token=True):
    if token:
        data = dict(data, csrf=csrf(client))
    return client.post("/apply/", data=data, headers=EN)


def apply(env, **over):
    """A good application through the page: (number, token, what was posted)."""
    data = form(**over)
    r = post_form(env.client, data)
    assert r.status_code == 201, r.text
    number = int(re.search(r'id="number">(\d+)<', r.text).group(1))
    token = re.search(r'<code id="token">([^<]+)</code>', r.text).group(1)
    return number, token, data


def status(client, number, token, **amend):
    data = {"number": str(number), "token": token, "csrf": csrf(client, "/apply/status")}
    if amend:
        data.update(amend, action="amend")
    return client.post("/apply/status", data=data, headers=EN)


def error(r):
    """(reason, text) of the refusal shown on a page."""
    m = re.search(r'<p class="error" role="alert" id="error" data-reason="([^"]*)">([^<]*)</p>',
                  r.text)
    assert m, r.text
    return m.group(1), m.group(2)


def row(env, number):
    with env.x.db.session() as s:
        a = s.get(AgencyApplication, number)
        s.expunge(a)
    return a


def test_the_form_shows_every_field_the_pledge_and_the_key_command(env):
    r = env.client.get("/apply/", headers=EN)
    assert r.status_code == 200
    assert "default-src 'none'" in r.headers["Content-Security-Policy"]
    assert r.headers["Cache-Control"] == "no-store" and r.headers["Referrer-Policy"] == \
        "no-referrer"
    for name in ("csrf", "name", "uscc", "address", "legal_representative", "licence_ref",
                 "public_keys", "username", "password", "password2", "pledge"):
        assert f'name="{name}"' in r.text, name
    assert "The agency pledges that everything in this application is true" in r.text
    assert "provision agency-key" in r.text and "<script" not in r.text
    assert a11y.problems(r.text) == []
    assert a11y.problems(env.client.get("/apply/status", headers=EN).text) == []


def test_a_good_application_is_written_with_exactly_what_was_entered(env):
    k1, k2 = keys.generate(), keys.generate()
    before = counts(env)
    number, token, data = apply(env, public_keys=browser_pem(k1, k2),
                                uscc="9111 0000 6000 3734 1l")
    r = status(env.client, number, token)
    assert "Keep the number and the token" not in r.text         # shown once, at the start
    a = row(env, number)
    assert (a.name, a.uscc, a.address, a.legal_representative, a.licence_ref, a.pledge) == (
        data["name"], VALID_USCC, data["address"], data["legal_representative"],
        data["licence_ref"], True)
    assert a.public_keys == pem(k1) + pem(k2) and a.state == "submitted"
    # the first staff login is asked for: the username and the password's hash, no login yet
    assert a.username == "wangfang" and PASSWORD not in a.password_hash
    assert staff.check_password(a.password_hash, PASSWORD)[0]
    after = counts(env)
    assert after[0] == before[0] + 1 and after[1:3] == before[1:3]      # no agency, no user
    with env.x.db.session() as s:
        assert admission.for_applicant(s, number, token).id == number
        assert s.scalar(select(AuditEntry.action).order_by(AuditEntry.id.desc()).limit(1)) \
            == "admission.submit"
        assert s.scalar(select(StaffUser.id).where(StaffUser.username == "wangfang")) is None


def test_the_sent_page_shows_the_number_and_token_once_with_a_warning(env):
    r = post_form(env.client, form())
    assert r.status_code == 201
    assert "Keep the number and the token now" in r.text and 'href="/apply/status"' in r.text
    assert r.headers["Cache-Control"] == "no-store"
    assert a11y.problems(r.text) == []


@pytest.mark.parametrize("code,rule,words", [
    ("91110000600037341X", "uscc_checksum", "check character (18th) does not match"),
    ("9111000060003734", "uscc_length", "the code has 18 characters"),
    ("91110000600037341LX", "uscc_length", "the code has 18 characters"),
    ("911100006000373I1L", "uscc_charset", "without I, O, S, V, Z"),
    ("9A110000600037341L", "uscc_digits", "characters 1-8"),
])
def test_an_invalid_uscc_is_refused_naming_the_rule_and_nothing_is_written(env, code, rule,
                                                                          words):
    before = counts(env)
    data = form(uscc=code, name="某某家政")
    r = post_form(env.client, data)
    assert r.status_code == 400
    reason, text = error(r)
    assert reason == rule and words in text and "/" in text      # English / Chinese
    # beside the code's field, which is marked; what was entered is kept
    uscc_input = re.search(r'<input[^>]*id="uscc"[^>]*>', r.text).group(0)
    assert f'value="{code}"' in uscc_input and 'aria-invalid="true"' in uscc_input
    assert r.text.index('id="uscc"') < r.text.index('id="error"') < r.text.index('id="address"')
    assert 'value="某某家政"' in r.text and 'value="wangfang"' in r.text
    assert "BEGIN PUBLIC KEY" in r.text and 'checked' in r.text
    assert PASSWORD not in r.text
    assert counts(env) == before


def test_the_pledge_is_required(env):
    before = counts(env)
    r = post_form(env.client, form(pledge=None))
    assert r.status_code == 400
    reason, text = error(r)
    assert reason == "pledge_required" and "credit pledge must be accepted" in text
    assert re.search(r'<input type="checkbox" id="pledge"[^>]*>', r.text).group(0).find(
        "checked") == -1
    assert counts(env) == before


def test_a_second_application_for_the_code_and_other_refusals_write_nothing(env):
    apply(env)
    before = counts(env)
    for data, status_code, rule in (
            (form(username="other1"), 409, "duplicate_application"),
            (form(uscc=OTHER_USCC, username="li-ming", password2="another one 2"), 400,
             "password_mismatch"),
            (form(uscc=OTHER_USCC, username="li-ming", password="short",
                  password2="short"), 400, "weak_password"),
            (form(uscc=OTHER_USCC, username="li-ming",
                  public_keys=pem(keys.generate(), private=True)), 400,
             "private_key_refused")):
        r = post_form(env.client, data)
        assert r.status_code == status_code and error(r)[0] == rule, (rule, r.text)
        assert data["password"] not in r.text
    assert "only the public key may reach the bureau" in error(r)[1]
    assert counts(env) == before


def test_a_post_without_this_browsers_csrf_token_is_refused(env):
    before = counts(env)
    other = env.app.test_client()
    for token in (None, "forged", csrf(other)):             # none; made up; another browser's
        data = form() if token is None else dict(form(), csrf=token)
        r = env.client.post("/apply/", data=data, headers=EN)
        assert r.status_code == 400 and error(r)[0] == "csrf"
        assert "The form expired" in r.text and PASSWORD not in r.text
        assert 'value="杭州诚信家政服务有限公司"' in r.text        # what was typed is kept
        assert 'value="wangfang"' in r.text
    assert counts(env) == before
    number, token, _ = apply(env)
    r = env.client.post("/apply/status", data={"number": number, "token": token}, headers=EN)
    assert r.status_code == 400 and "waiting for review" not in r.text


def test_the_status_page_refuses_a_wrong_number_or_token(env):
    number, token, _ = apply(env)
    other, other_token, _ = apply(env, uscc=OTHER_USCC, username="li-ming")
    for n, t in ((number, token[:-1] + ("A" if token[-1] != "A" else "B")), (number, ""),
                 (number, other_token), (999, token), ("x1", token), ("²", token), ("", "")):
        r = status(env.client, n, t)
        assert r.status_code == 404, (n, t)
        assert error(r)[0] == "" and "No application has this number and token" in r.text
        assert 'id="application"' not in r.text and "杭州诚信家政" not in r.text
        assert a11y.problems(r.text) == []
    # the number and token are never taken from the URL
    r = env.client.get(f"/apply/status?number={number}&token={token}", headers=EN)
    assert r.status_code == 200 and 'id="application"' not in r.text
    assert 'method="post" action="/apply/status"' in r.text


def test_the_status_pages_posts_are_rate_limited(db_url, world):
    app = make_app(db_url, world, RATE_LIMIT_PER_MIN=3)
    e = Env(app, world)
    try:
        c = e.client
        token = csrf(c, "/apply/status")
        for _ in range(3):
            r = c.post("/apply/status", data={"number": "1", "token": "guess", "csrf": token},
                       headers=EN)
            assert r.status_code == 404
        r = c.post("/apply/status", data={"number": "1", "token": "guess", "csrf": token},
                   headers=EN)
        assert r.status_code == 429 and "Too many requests" in r.text
        assert r.headers["Content-Security-Policy"].startswith("default-src 'none'")
        assert c.get("/apply/status", headers=EN).status_code == 200    # the page stays
        r = c.post("/api/v1/admission/applications", json={})          # one shared limit
        assert r.status_code == 429
    finally:
        e.x.db.engine.dispose()


def test_status_note_and_amend_after_the_bureau_asks_for_changes(env):
    number, token, data = apply(env)
    r = status(env.client, number, token)
    assert r.status_code == 200 and 'data-state="submitted"' in r.text
    assert "waiting for review" in r.text and 'id="amend-form"' not in r.text
    assert token not in r.text                      # a submitted application: nothing to amend
    # the bureau asks for changes (the JSON API, with the operator's key)
    path = f"/api/v1/admission/applications/{number}"
    r = env.client.post(path + "/request-changes", json={"note": NOTE}, headers=env.auth())
    assert r.status_code == 200, r.json
    r = status(env.client, number, token)
    assert r.status_code == 200 and 'data-state="changes_requested"' in r.text
    assert f'<dd id="note">{NOTE}</dd>' in r.text and "changes asked for" in r.text
    assert 'id="amend-form"' in r.text and 'value="scan-2026-0042.pdf"' in r.text
    assert a11y.problems(r.text) == []
    keys_pem = row(env, number).public_keys
    amended = {k: data[k] for k in admission.FIELDS}
    amended.update(public_keys=keys_pem, pledge="yes")

    # an amendment with an invalid code: refused beside the field, nothing changed
    before = counts(env)
    r = status(env.client, number, token, **dict(amended, uscc="91110000600037341X",
                                                 licence_ref="scan-v2.pdf"))
    assert r.status_code == 400 and error(r)[0] == "uscc_checksum"
    assert 'value="scan-v2.pdf"' in r.text and 'id="amend-form"' in r.text
    assert counts(env) == before and row(env, number).licence_ref == "scan-2026-0042.pdf"
    r = status(env.client, number, "wrong", **dict(amended, licence_ref="scan-v2.pdf"))
    assert r.status_code == 404 and row(env, number).state == "changes_requested"

    r = status(env.client, number, token, **dict(amended, licence_ref="scan-2026-0042-v2.pdf",
                                                 address="杭州市西湖区文三路 2 号"))
    assert r.status_code == 200 and 'id="done"' in r.text
    assert 'data-state="submitted"' in r.text and 'id="amend-form"' not in r.text
    a = row(env, number)
    assert (a.state, a.licence_ref, a.address, a.public_keys) == (
        "submitted", "scan-2026-0042-v2.pdf", "杭州市西湖区文三路 2 号", keys_pem)
    with env.x.db.session() as s:
        assert s.scalar(select(AuditEntry.action).order_by(AuditEntry.id.desc()).limit(1)) \
            == "admission.amend"
    # once submitted again, the old form is refused
    r = status(env.client, number, token, **amended)
    assert r.status_code == 409 and error(r)[0] == "invalid_transition"
    assert "the bureau has not asked for changes" in error(r)[1]
    # approved: the agency id and where to log in
    r = env.client.post(path + "/approve", json={"agency_id": "A330199"}, headers=env.auth())
    assert r.status_code == 200, r.json
    r = status(env.client, number, token)
    assert 'data-state="approved"' in r.text and '<dd id="agency-id">A330199</dd>' in r.text
    assert "username wangfang" in r.text and 'href="/console/login"' in r.text


def test_the_password_never_comes_back(env):
    pages = [post_form(env.client, form(uscc="91110000600037341X")),
             post_form(env.client, form(password2="something else 3")),
             env.client.post("/apply/", data=form(), headers=EN)]
    number, token, _ = apply(env)
    sent = env.client.post("/apply/", data=dict(form(uscc=OTHER_USCC, username="li-ming"),
                                                csrf=csrf(env.client)), headers=EN)
    env.client.post(f"/api/v1/admission/applications/{number}/request-changes",
                    json={"note": NOTE}, headers=env.auth())
    pages += [sent, status(env.client, number, token)]
    pw_hash = row(env, number).password_hash
    for r in pages:
        assert r.status_code in (200, 201, 400), r.status_code
        assert PASSWORD not in r.text and "something else 3" not in r.text
        assert pw_hash not in r.text and pw_hash.split("$")[-1] not in r.text


def test_script_in_a_field_is_text(env):
    values = {"name": "家政" + INJECT, "address": INJECT, "legal_representative": INJECT,
              "licence_ref": INJECT, "username": "inject"}
    refused = post_form(env.client, form(**values, uscc="91110000600037341X",
                                         public_keys=INJECT))
    assert refused.status_code == 400
    number, token, _ = apply(env, **values)
    sent = post_form(env.client, form(**dict(values, username="inject2"), uscc=OTHER_USCC))
    env.client.post(f"/api/v1/admission/applications/{number}/request-changes",
                    json={"note": INJECT}, headers=env.auth())
    shown = status(env.client, number, token)
    assert 'id="amend-form"' in shown.text
    for r in (refused, sent, shown):
        assert "<script>alert(1)</script>" not in r.text and "<img src=x" not in r.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
