"""The agency console: login, sessions, CSRF, lists with search and cursor pagination, the
worker page, badge actions and 注销 with confirmation, complaints, terminals, the CLI."""
import json
import re

import pytest

from tests.web import a11y
from tests.web.conftest import AGENCY, STAFF_PASSWORD, STAFF_USER, _field
from tests.web.test_employer_page import EN, INJECT, verdict
from tests.web.test_reviews import post_review, view_consent
from sqlalchemy import func, select

from host import wire
from tests.web.conftest import DAY
from verifier.models import AuditEntry, Badge, Worker
from verifier import config
from verifier.models import StaffUser
from verifier.services import registry, staff


def _login_form(client):
    return _field(client.get("/console/login").text, "csrf")


def test_login_required(site):
    r = site.client.get("/console/workers")
    assert r.status_code == 302 and "/console/login" in r.headers["Location"]
    r = site.client.post("/console/badges/1/revoke", data={"confirm": "yes", "reason": "x"})
    assert r.status_code == 302
    with site.x.db.session() as s:
        assert s.get(Badge, site.badge_ids[0]).state == "registered"


def test_login_wrong_password_and_lockout(site):
    c = site.client
    for _ in range(5):
        r = c.post("/console/login", data={"username": STAFF_USER, "password": "nope",
                                           "csrf": _login_form(c)}, headers=EN)
        assert r.status_code == 401 and "Wrong username or password" in r.text
    r = c.post("/console/login", data={"username": STAFF_USER, "password": STAFF_PASSWORD,
                                       "csrf": _login_form(c)}, headers=EN)
    assert r.status_code == 401 and "Too many wrong passwords" in r.text
    site.app.config["FIXED_NOW"] = site.world.now + 301
    site.login()
    r = c.post("/console/login", data={"username": "nobody", "password": "x",
                                       "csrf": _login_form(c)}, headers=EN)
    assert r.status_code == 401 and "Wrong username or password" in r.text


def test_login_form_needs_this_browsers_csrf_token(site):
    other = site.app.test_client()
    for token in ("forged", _login_form(site.client)):     # made up; another browser's
        r = other.post("/console/login", data={"username": STAFF_USER,
                                               "password": STAFF_PASSWORD, "csrf": token},
                       headers=EN)
        assert r.status_code == 401 and "The form expired" in r.text
        assert other.get("/console/workers").status_code == 302


def test_the_session_cookie_is_signed_and_holds_nothing_personal(site):
    c = site.login()
    cookie = c.get_cookie("session")
    assert cookie.http_only and cookie.same_site == "Lax" and not cookie.secure
    assert cookie.expires is None                    # gone with the browser; the row expires
    text = cookie.value
    for personal in (STAFF_USER, STAFF_PASSWORD, AGENCY):
        assert personal not in text
    forged = text[:-2] + ("AA" if text[-2:] != "AA" else "BB")   # the signature broken
    c.set_cookie("session", forged, path="/")
    assert c.get("/console/workers").status_code == 302


def test_a_session_holds_in_every_process_until_logout_or_expiry(site):
    """A second app on the same database and SECRET_KEY (another gunicorn worker) takes the
    session; logout at one ends it at the other; the row's expiry ends it everywhere."""
    from testkit.verifier import make_app
    c = site.login()
    other = make_app(site.app.config["DATABASE_URL"], site.world)
    o = other.test_client()
    o.set_cookie("session", c.get_cookie("session").value, path="/")
    assert o.get("/console/workers", headers=EN).status_code == 200
    assert c.post("/console/logout", data={"csrf": site.csrf(c, "/console/workers")}
                  ).status_code == 303
    assert o.get("/console/workers").status_code == 302
    c = site.login()
    o.set_cookie("session", c.get_cookie("session").value, path="/")
    for app in (site.app, other):
        app.config["FIXED_NOW"] = site.world.now + app.config["SESSION_TTL_S"] + 1
    assert c.get("/console/workers").status_code == 302
    assert o.get("/console/workers").status_code == 302
    other.extensions["xinka"].db.engine.dispose()


def test_without_a_configured_secret_key_the_processes_share_one_in_the_instance_folder(
        tmp_path):
    import stat

    from flask import Flask

    from verifier.views import browser
    apps = [Flask("x", instance_path=str(tmp_path / "instance")) for _ in range(2)]
    keys = {browser.secret_key(a) for a in apps}
    path = tmp_path / "instance" / browser.SECRET_FILE
    assert keys == {path.read_text()} and len(path.read_text()) == 64
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == [browser.SECRET_FILE]
    apps[0].config["SECRET_KEY"] = "configured " * 4
    assert browser.secret_key(apps[0]) == "configured " * 4     # the configuration wins
    path.write_text("short")
    with pytest.raises(ValueError, match="secret key"):
        browser.secret_key(apps[1])


def test_password_is_hashed_with_scrypt(site):
    with site.x.db.session() as s:
        h = s.get(StaffUser, site.staff).password_hash
    n = site.app.config["STAFF_SCRYPT_N"]            # the test apps' cost (testkit make_app)
    assert h.startswith(f"scrypt${n}$8$1$") and STAFF_PASSWORD not in h
    assert staff.check_password(h, STAFF_PASSWORD, n) == (True, False)
    assert staff.check_password(h, STAFF_PASSWORD + "x", n) == (False, False)
    assert staff.check_password(h, STAFF_PASSWORD) == (True, True)      # below production
    strong = staff.hash_password("a password")
    assert strong.startswith("scrypt$32768$8$1$")
    assert staff.check_password(strong, "a password") == (True, False)


def test_production_scrypt_cost_cannot_be_lowered():
    assert config.DEFAULTS["STAFF_SCRYPT_N"] == 2 ** 15
    for n, testing in ((2 ** 14, False), (3000, True), (2 ** 9, True)):
        with pytest.raises(ValueError, match="STAFF_SCRYPT_N"):
            config.load({}, {"STAFF_SCRYPT_N": n, "TESTING": testing}, environ={})
    cfg = {}
    config.load(cfg, {"STAFF_SCRYPT_N": 2 ** 16}, environ={})
    assert cfg["STAFF_SCRYPT_N"] == 2 ** 16


def test_login_rehashes_a_hash_below_the_configured_cost(site):
    with site.x.db.session() as s:
        s.get(StaffUser, site.staff).password_hash = staff.hash_password(STAFF_PASSWORD, 2 ** 10)
    site.app.config["STAFF_SCRYPT_N"] = 2 ** 11
    site.login()
    with site.x.db.session() as s:
        assert s.get(StaffUser, site.staff).password_hash.startswith("scrypt$2048$8$1$")


def test_every_post_needs_the_session_csrf_token(site):
    c = site.login()
    path = f"/console/badges/{site.badge_ids[0]}/suspend"
    for token in (None, "", "wrong"):
        data = {"confirm": "yes", "reason": "test"}
        if token is not None:
            data["csrf"] = token
        r = c.post(path, data=data, headers=EN)
        assert r.status_code == 403 and "came from elsewhere" in r.text
    r = c.post("/console/logout", data={}, headers=EN)
    assert r.status_code == 403
    with site.x.db.session() as s:
        assert s.get(Badge, site.badge_ids[0]).state == "registered"


def test_logout_ends_the_session(site):
    c = site.login()
    csrf = site.csrf(c, "/console/workers")
    assert c.post("/console/logout", data={"csrf": csrf}).status_code == 303
    assert c.get("/console/workers").status_code == 302


def test_workers_search_and_cursor_pagination(site):
    with site.x.db.session() as s:
        for n in range(120):
            registry.create_worker(s, AGENCY, f"X-{n:04d}", site.x.now(), "t",
                                   name=f"李{n}")
    c = site.login()
    seen, url, pages = [], "/console/workers", 0
    while url:
        r = c.get(url)
        assert r.status_code == 200
        seen += re.findall(r'href="/console/workers/(\d+)">', r.text)
        m = re.search(r'rel="next" href="([^"]+)"', r.text)
        url = m.group(1).replace("&amp;", "&") if m else None
        pages += 1
    assert pages == 3 and len(seen) == len(set(seen)) == 124     # 4 of the world + 120
    r = c.get("/console/workers?q=李11")
    refs = re.findall(r">(X-\d{4})</a>", r.text)
    assert refs == ["X-0011"] + [f"X-{n:04d}" for n in range(110, 120)]
    r = c.get("/console/workers?q=A4CF12000004")           # a badge serial
    assert re.findall(r">(W-\d{7})</a>", r.text) == ["W-0000004"]
    r = c.get("/console/workers?q=%25")                     # LIKE wildcards are literal
    assert "No workers found" in r.text or "没有找到服务员" in r.text
    # another agency's workers never appear
    assert "W-0000001" not in c.get("/console/workers?q=W-").text


def test_badges_list_filters(site):
    c = site.login()
    r = c.get("/console/badges?state=revoked", headers=EN)
    assert re.findall(r"<td>(A4CF12\w+)</td>", r.text) == ["A4CF12000002"]
    r = c.get("/console/badges?q=000006", headers=EN)
    assert re.findall(r"<td>(A4CF12\w+)</td>", r.text) == ["A4CF12000006"]


def test_worker_page(site):
    c = site.login()
    r = c.get(f"/console/workers/{site.workers[2]}", headers=EN)
    assert r.status_code == 200
    t = r.text
    assert "工人2" in t and "W-0000002" in t
    assert "found with another person" in t            # lifecycle: the revocation reason
    assert "2026-12" in t                               # attendance history
    assert "育婴员 · 三级 · YY-1" in t and "2027-07-20" in t          # credit records
    assert t.count('data-state="verified"') == 4
    assert c.get(f"/console/workers/{site.workers[1]}").status_code == 404   # other agency


def test_badge_action_needs_confirmation_and_turns_the_employer_page_red(site):
    c = site.login()
    bid = site.badge_ids[4]
    assert verdict(site.client.get(site.tap_path(4)))[0] == "green"
    path = f"/console/badges/{bid}/revoke"
    r = c.get(path, headers=EN)
    assert r.status_code == 200 and "Revoking is final" in r.text
    csrf = _field(r.text, "csrf")
    r = c.post(path, data={"csrf": csrf, "reason": "left the agency"}, headers=EN)
    assert r.status_code == 400 and "tick the confirmation box" in r.text
    r = c.post(path, data={"csrf": csrf, "confirm": "yes", "reason": ""}, headers=EN)
    assert r.status_code == 400
    with site.x.db.session() as s:
        assert s.get(Badge, bid).state == "registered"
    r = c.post(path, data={"csrf": csrf, "confirm": "yes", "reason": "left the agency"})
    assert r.status_code == 303 and "done=revoke" in r.headers["Location"]
    with site.x.db.session() as s:
        assert s.get(Badge, bid).state == "revoked"
    assert verdict(site.app.test_client().get(site.tap_path(4))) == ("red", "revoked")
    # revoked is final
    r = c.get(f"/console/badges/{bid}/reinstate", headers=EN)
    assert "not possible in the current state" in r.text
    r = c.post(f"/console/badges/{bid}/reinstate",
               data={"csrf": csrf, "confirm": "yes", "reason": "x"})
    assert r.status_code == 409


def test_suspend_lose_reinstate(site):
    c = site.login()
    bid = site.badge_ids[0]
    csrf = site.csrf(c, f"/console/badges/{bid}/suspend")
    for action, state, colour in (("suspend", "suspended", "red"),
                                  ("reinstate", "active", "green"),
                                  ("lose", "lost", "red"), ("reinstate", "active", "green")):
        r = c.post(f"/console/badges/{bid}/{action}",
                   data={"csrf": csrf, "confirm": "yes", "reason": f"test {action}"})
        assert r.status_code == 303, (action, r.text)
        with site.x.db.session() as s:
            assert s.get(Badge, bid).state == state
        assert verdict(site.app.test_client().get(site.tap_path(0)))[0] == colour, action
    assert c.get(f"/console/badges/{bid}/explode").status_code == 404
    assert c.get(f"/console/badges/{site.badge_ids[1]}/revoke").status_code == 404


def test_cancel_worker(site):
    c = site.login()
    wid = site.workers[6]
    r = c.get(f"/console/workers/{wid}/cancel", headers=EN)
    assert "erases the worker's name" in r.text
    csrf = _field(r.text, "csrf")
    r = c.post(f"/console/workers/{wid}/cancel",
               data={"csrf": csrf, "confirm": "yes", "reason": "注销 at the worker's request"})
    assert r.status_code == 303
    with site.x.db.session() as s:
        w = s.get(Worker, wid)
        assert (w.state, w.name, w.id_number) == ("cancelled", None, None)
        assert s.get(Badge, site.badge_ids[6]).state == "revoked"
    assert verdict(site.app.test_client().get(site.tap_path(6)))[0] == "red"
    r = c.get(f"/console/workers/{wid}", headers=EN)
    assert "(name erased)" in r.text and "Cancel registration" not in r.text


def test_complaints_on_the_worker_page_and_resolution(site):
    path, csrf = view_consent(site, 0)
    assert post_review(site.client, path, csrf, worker="W-0000000", agency=AGENCY,
                       stars="2", category="attitude",
                       comment=INJECT).status_code == 201
    c = site.login()
    r = c.get(f"/console/workers/{site.workers[0]}", headers=EN)
    assert "Attitude" in r.text and "2 / 5" in r.text
    assert "<script>" not in r.text and "&lt;script&gt;" in r.text
    cid = re.search(r'data-complaint="(\d+)" data-state="open"', r.text).group(1)
    r = c.post(f"/console/complaints/{cid}/propose",
               data={"csrf": _field(r.text, "csrf"), "outcome": "upheld", "note": "apologised"})
    assert r.status_code == 303
    r = c.get(f"/console/workers/{site.workers[0]}", headers=EN)
    assert 'data-state="closed"' in r.text and "apologised" in r.text


def record_post(site, c, wid, kind, **form):
    data = {"kind": kind, "state": "verified", "csrf": site.csrf(c, f"/console/workers/{wid}")}
    data.update(form)
    return c.post(f"/console/workers/{wid}/records", data=data, headers=EN)


def n_records(site):
    from verifier.models import CreditRecord
    with site.x.db.session() as s:
        return s.scalar(select(func.count(CreditRecord.id)))


def record_ids(site, ref, kind):
    from verifier.models import CreditRecord
    with site.x.db.session() as s:
        return list(s.scalars(select(CreditRecord.id).where(
            CreditRecord.worker_ref == ref, CreditRecord.kind == kind)
            .order_by(CreditRecord.id)))


def consent(site, i, scope=63):
    return site.client.get(site.tap_path(i, "consent", scope=scope), headers=EN)


def test_records_entered_verified_expired_withdrawn_and_shown_within_scope(site):
    c = site.login()
    wid, ref = site.workers[0], "W-0000000"
    r = c.get(f"/console/workers/{wid}/records/new?kind=skill_certificate", headers=EN)
    assert r.status_code == 200 and 'name="level"' in r.text and "母婴护理员" in r.text
    # a self-declared health certificate replaces nothing: the verified one still counts
    [old_health] = record_ids(site, ref, "health_certificate")
    r = c.post(f"/console/workers/{wid}/records/{old_health}/withdraw",
               data={"reason": "lost", "csrf": site.csrf(c, f"/console/workers/{wid}")})
    assert r.status_code == 303
    assert verdict(consent(site, 0)) == ("yellow", "health_missing")
    r = record_post(site, c, wid, "health_certificate", number="JK-9", source="疾控中心",
                    issued_on="2026-12-01", valid_until="2027-11-30", state="self_declared")
    assert r.status_code == 303, r.text
    r = consent(site, 0)
    assert verdict(r) == ("yellow", "health_unverified")
    assert "self-declared, not checked by the agency" in r.text
    [new_health] = [i for i in record_ids(site, ref, "health_certificate") if i != old_health]
    r = c.post(f"/console/workers/{wid}/records/{new_health}/verify",
               data={"csrf": site.csrf(c, f"/console/workers/{wid}")})
    assert r.status_code == 303
    r = consent(site, 0)
    assert verdict(r) == ("green", "ok")
    assert re.search(r"verified by [^<]+ on 2027-01-01", r.text)
    # verifying twice, withdrawing twice: refused
    for action in ("verify", "withdraw"):
        if action == "withdraw":
            c.post(f"/console/workers/{wid}/records/{old_health}/withdraw",
                   data={"reason": "x", "csrf": site.csrf(c, f"/console/workers/{wid}")})
        r = c.post(f"/console/workers/{wid}/records/{old_health}/{action}",
                   data={"reason": "again", "csrf": site.csrf(c, f"/console/workers/{wid}")})
        assert r.status_code == 409
    # expiry: a day after the insurance's last valid day the page is yellow with the reason
    site.app.config["FIXED_NOW"] = site.x.now() + 301 * DAY
    r = consent(site, 0)
    assert verdict(r)[0] == "yellow"      # (the status list is stale by then too)
    assert "The insurance has expired." in r.text
    assert 'data-record="insurance" data-state="expired"' in r.text
    site.app.config["FIXED_NOW"] = site.world.now
    # a judicial check: shown only with the credit scope bit, the result only
    r = record_post(site, c, wid, "judicial_check", result="none_found", source="法院执行信息",
                    issued_on="2026-11-20")
    assert r.status_code == 303, r.text
    assert 'data-record="judicial_check"' in consent(site, 0).text
    narrow = consent(site, 0, scope=wire.tap.SCOPE_CERTIFICATES)
    assert 'data-record="judicial_check"' not in narrow.text
    assert 'data-record="health_certificate"' not in narrow.text
    assert 'data-record="skill_certificate"' in narrow.text
    # audit log: every step
    with site.x.db.session() as s:
        actions = [e.action for e in s.scalars(select(AuditEntry))]
    assert actions.count("record.verify") == 1 and actions.count("record.withdraw") == 1
    assert actions.count("record.add") >= 2


def test_bad_records_are_refused_naming_the_field_and_write_nothing(site):
    c = site.login()
    wid = site.workers[0]
    before = n_records(site)
    good = {"title": "育婴员", "level": "三级", "number": "1", "source": "中心",
            "issued_on": "2026-05-01"}
    for change, field in (({"level": "特级"}, "level"), ({"title": "按摩师"}, "title"),
                          ({"source": ""}, "source"), ({"issued_on": "2027-06-01"}, "issued_on"),
                          ({"issued_on": "yesterday"}, "issued_on"),
                          ({"valid_until": "2026-04-30"}, "valid_until"),
                          ({"number": "x" * 201}, "number"), ({"state": "trusted"}, "state")):
        r = record_post(site, c, wid, "skill_certificate", **dict(good, **change))
        assert r.status_code == 400, change
        assert f'data-field="{field}"' in r.text, (change, r.text[-800:])
        if field != "title":                 # the form keeps what was typed
            assert 'value="中心"' in r.text or field == "source"
    r = record_post(site, c, wid, "training", course="<script>alert(1)</script>", hours="0",
                    source="x", issued_on="2026-05-01")
    assert r.status_code == 400 and "<script>alert" not in r.text
    assert record_post(site, c, wid, "insurance", type="x", number="1", source="s",
                       issued_on="2026-01-01", valid_until="2027-01-01").status_code == 400
    assert record_post(site, c, wid, "horoscope", source="s").status_code == 400
    assert n_records(site) == before
    # another agency's worker: not found, nothing written
    r = record_post(site, c, site.workers[1], "skill_certificate", **good)
    assert r.status_code == 404 and n_records(site) == before


def test_staff_cannot_type_a_grade_the_rules_compute_it(site):
    """The free-text grade is gone: no form, no route; the worker page shows the computed
    grade with its rule version and reasons, and the consent view the same grade."""
    c = site.login()
    wid = site.workers[0]
    page = c.get(f"/console/workers/{wid}", headers=EN).text
    assert 'name="credit_grade"' not in page
    csrf = site.csrf(c, f"/console/workers/{wid}")
    r = c.post(f"/console/workers/{wid}/grade", data={"csrf": csrf, "credit_grade": "AA"})
    assert r.status_code == 404
    # two verified certificates (三级 the highest: +8), records in force: 78, grade B
    assert 'data-grade="B" data-colour="green" data-rules="1"' in page
    assert "Verified certificate: 育婴员 三级 (+8)" in page
    assert 'data-grade="B" data-rules="1"' in consent(site, 0).text


def test_terminals_page(site):
    c = site.login()
    r = c.get("/console/terminals", headers=EN)
    assert "T-A330100-01" in r.text and "T-A330101-01" not in r.text
    assert "2027-01-01 18:40" in r.text                 # last sync = received at "now"


def test_console_escapes_everything(site):
    with site.x.db.session() as s:
        s.get(Worker, site.workers[0]).name = INJECT
    c = site.login()
    csrf = site.csrf(c, f"/console/badges/{site.badge_ids[0]}/suspend")
    c.post(f"/console/badges/{site.badge_ids[0]}/suspend",
           data={"csrf": csrf, "confirm": "yes", "reason": INJECT})
    for path in ("/console/workers", f"/console/workers?q={INJECT}",
                 f"/console/workers/{site.workers[0]}", "/console/badges",
                 f"/console/badges?q={INJECT}&state={INJECT}", f"/console/login?next={INJECT}",
                 f"/console/workers?after={INJECT}", "/console/reports/?period=" + INJECT,
                 f"/console/workers/{site.workers[0]}?done={INJECT}"):
        r = c.get(path)
        assert r.status_code < 500, path
        assert "<script>" not in r.text and "<img src=x" not in r.text, path


def test_login_redirects_only_inside_the_console(site):
    c = site.client
    for nxt, want in (("//evil.example/", "/console/workers"),
                      ("https://evil.example/", "/console/workers"),
                      ("/console/badges?state=lost", "/console/badges?state=lost")):
        r = c.post("/console/login", data={"username": STAFF_USER, "password": STAFF_PASSWORD,
                                           "csrf": _login_form(c), "next": nxt})
        assert r.headers["Location"] == want


def test_cli_staff_create(site):
    runner = site.app.test_cli_runner()
    r = runner.invoke(args=["staff-create", AGENCY, "bob", "--name", "Bob",
                            "--password", "another long one"])
    assert r.exit_code == 0, r.output
    c = site.app.test_client()
    r = c.post("/console/login", data={"username": "bob", "password": "another long one",
                                       "csrf": _login_form(c)})
    assert r.status_code == 303
    r = runner.invoke(args=["staff-create", AGENCY, "cyd", "--password", "short"])
    assert r.exit_code == 1 and "at least 10 characters" in r.output
    r = runner.invoke(args=["staff-create", "NOPE", "ddd", "--password", "long enough!"])
    assert r.exit_code == 1 and "not_found" in r.output
    r = runner.invoke(args=["staff-create", AGENCY, "eve"], input="pw-long-enough\n"
                      "pw-long-enough\n")
    assert r.exit_code == 0, r.output


@pytest.mark.parametrize("path", ["/console/workers", "/console/badges", "/console/terminals",
                                  "/console/reports/?period=2026-12", "/console/workers/{w}",
                                  "/console/badges/{b}/suspend", "/console/workers/{w}/cancel"])
def test_console_pages_render_in_both_languages_and_pass_basic_checks(sqlite_site, path):
    c = sqlite_site.login()
    path = path.format(w=sqlite_site.workers[0], b=sqlite_site.badge_ids[0])
    sep = "&" if "?" in path else "?"
    for lang, marker in (("en", '<html lang="en">'), ("zh", '<html lang="zh-CN">')):
        r = c.get(path + f"{sep}lang={lang}")
        assert r.status_code == 200 and marker in r.text
        assert a11y.problems(r.text) == [], path
        assert "default-src 'none'" in r.headers["Content-Security-Policy"]
    r = sqlite_site.app.test_client().get("/console/login")
    assert a11y.problems(r.text) == []


def test_staff_record_the_id_number_and_see_the_persons_badges_elsewhere(site):
    """The worker's page takes the ID number: a wrong one is refused naming the part, a good
    one is sealed and linked to the person's file; the person's live badge at the other agency
    shows; the number never shows again."""
    from tests.host.test_idnumber import GOOD, wrong_check_digit
    r = site.client.post("/api/v1/agencies/A330101/workers/enrol", headers=site.auth("A330101"),
                         json={"worker_ref": "W-0000001", "id_number": GOOD})
    assert r.status_code == 200, r.json
    c = site.login()
    page = f"/console/workers/{site.workers[0]}"
    csrf = site.csrf(c, page)
    path = f"{page}/identity"
    r = c.post(path, data={"csrf": csrf, "id_number": wrong_check_digit(GOOD)}, headers=EN)
    assert r.status_code == 400 and "check digit" in r.text
    assert c.get(page, headers=EN).text.count('id="id_number"') == 1     # not recorded
    r = c.post(path, data={"csrf": csrf, "id_number": GOOD}, headers=EN)
    assert r.status_code == 303
    html = c.get(r.headers["Location"], headers=EN).text
    assert "ID number recorded" in html and 'id="id-on-file"' in html
    assert 'id="elsewhere"' in html and "A330101" in html
    assert GOOD not in html and GOOD[-6:] not in html
    assert c.post(path, data={"id_number": GOOD}, headers=EN).status_code == 403   # no CSRF


def _issue_scope_page(staff, wid):
    page = staff.get(f"/console/workers/{wid}", headers=EN).text.replace('"\n', '" ')
    ticked = set(re.findall(r'value="(\w+)" id="issue-\w+" checked', page))
    return page, ticked


def test_the_console_chooses_what_the_workers_next_badge_shows(site):
    """The console's choice of consent scope for the next badge (written by `provision issue`
    over the serial link: tests/provisioning/test_consent_scope.py): ticked names only,
    audited, read back by the technician's API call; "the technician's default" clears it."""
    staff = site.login(site.app.test_client())
    wid, ref = site.workers[0], "W-0000000"
    page, ticked = _issue_scope_page(staff, wid)
    assert ticked == set(wire.SCOPE_NAMES) and 'data-scope=""' in page

    def api_scope(worker_ref=ref, agency=AGENCY):
        return site.client.get(f"/api/v1/agencies/{agency}/issue-scope",
                               query_string={"worker_ref": worker_ref},
                               headers=site.auth(agency))
    assert api_scope().json == {"worker_ref": ref, "scope": None}
    r = staff.post(f"/console/workers/{wid}/issue-scope", headers=EN,
                   data={"csrf": _field(page, "csrf"), "show": ["health", "credit", "gossip"]})
    assert r.status_code == 303 and r.headers["Location"].endswith("done=issue_scope")
    want = wire.SCOPE_NAMES["health"] | wire.SCOPE_NAMES["credit"]
    assert api_scope().json["scope"] == want
    page, ticked = _issue_scope_page(staff, wid)
    assert ticked == {"health", "credit"} and f'data-scope="{want}"' in page
    with site.x.db.session() as s:
        entry = s.scalars(select(AuditEntry).where(
            AuditEntry.action == "worker.issue_scope")).one()
        assert entry.actor == f"staff:{STAFF_USER}" and entry.subject == str(wid)
        assert json.loads(entry.detail)["scope"] == want
    assert api_scope(agency="A330101").status_code == 200      # its own agency: not known
    assert api_scope(agency="A330101").json["scope"] is None
    assert site.client.get(f"/api/v1/agencies/{AGENCY}/issue-scope",
                           query_string={"worker_ref": ref},
                           headers=site.auth("A330101")).status_code == 403
    assert api_scope("W-9999999").json["scope"] is None         # the first badge makes it
    assert api_scope("").status_code == 400
    r = staff.post(f"/console/workers/{wid}/issue-scope", headers=EN,
                   data={"csrf": _field(page, "csrf"), "default": "1", "show": ["health"]})
    assert r.status_code == 303 and api_scope().json["scope"] is None


@pytest.mark.parametrize("bad", [64, -1, True, "3", 1.0])
def test_the_next_badges_scope_must_be_six_bits(site, bad):
    wid = site.workers[0]
    r = site.client.put(f"/api/v1/agencies/{AGENCY}/workers/{wid}/issue-scope",
                        json={"scope": bad}, headers=site.auth(AGENCY))
    assert r.status_code == 400 and r.json["reason"] == "bad_scope"
    with site.x.db.session() as s:
        assert s.get(Worker, wid).issue_scope is None
    r = site.client.put(f"/api/v1/agencies/{AGENCY}/workers/{wid}/issue-scope",
                        json={"scope": 5}, headers=site.auth(AGENCY))
    assert r.status_code == 200 and r.json == {"worker_ref": "W-0000000", "scope": 5}


def test_a_cancelled_workers_next_badge_scope_cannot_be_set(site):
    wid = site.workers[0]
    site.client.post(f"/api/v1/agencies/{AGENCY}/workers/{wid}/cancel", json={"reason": "注销"},
                     headers=site.auth(AGENCY))
    r = site.client.put(f"/api/v1/agencies/{AGENCY}/workers/{wid}/issue-scope",
                        json={"scope": 5}, headers=site.auth(AGENCY))
    assert r.status_code == 409 and r.json["reason"] == "worker_cancelled"
    staff = site.login(site.app.test_client())
    assert 'id="issue-scope-form"' not in staff.get(f"/console/workers/{wid}").text
