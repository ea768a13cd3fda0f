"""A worker's one-time link code (services/links.py, views/me.py; docs/protocol.md "A worker's
link code"): the code the terminal computes offline from its own token and the check-in token
opens the worker's page once, within 15 minutes of the tap, for that badge only; another
agency's terminal never makes one; guesses lock the badge. On SQLite and PostgreSQL."""
import base64
import hashlib
import logging
import re

from sqlalchemy import func, select

from tests.verifier.conftest import Env, make_app
from tests.web.conftest import AGENCY, Site, _field
from verifier.models import AuditEntry, Badge, LinkCode, LinkFailure, WorkerSession
from verifier.views.me import COOKIE
from xinka import linkcode

OTHER = "A330101"
EN = {"Accept-Language": "en"}


def serial(site, i):
    with site.x.db.session() as s:
        return s.get(Badge, site.badge_ids[i]).serial


def check_in(site, i, t=None, via=None):
    """Badge i checks in at its agency's terminal (or `via` another agency's): the code
    that terminal shows, computed as the terminal does, and the ingest's result."""
    agency = via or site.world.badges[i].agency_id
    t = t if t is not None else site.x.now() - 60
    item = site.checkin_item(i, t=t, terminal_id=site.terminals[agency][0])
    r = site.post_checkins(agency, [item])
    assert r.status_code == 200, r.text
    token = base64.urlsafe_b64decode(item["token"] + "=" * (-len(item["token"]) % 4))
    key = linkcode.link_key(site.terminals[agency][1])
    return linkcode.show(linkcode.code(key, token)), r.json["results"][0]


def redeem(site, i_or_serial, code, client=None):
    client = client or site.app.test_client()
    sn = i_or_serial if isinstance(i_or_serial, str) else serial(site, i_or_serial)
    csrf = _field(client.get("/me/", headers=EN).text, "csrf")
    return client.post("/me/", data={"serial": sn, "code": code, "csrf": csrf}, headers=EN)


def count(site, model):
    with site.x.db.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_the_terminals_code_opens_the_page_once(site: Site):
    code, res = check_in(site, 0)
    assert res["result"] == "accepted"
    with site.x.db.session() as s:
        row = s.scalars(select(LinkCode).order_by(LinkCode.id.desc())).first()
        assert row.code_hash != code and linkcode.normalise(code) not in row.code_hash
        assert (row.agency_id, row.worker_ref, row.used_at) == (AGENCY, "W-0000000", None)
        assert row.valid_until == site.x.now() - 60 + 15 * 60
    c = site.app.test_client()
    r = redeem(site, 0, code.lower().replace("-", " "), c)        # typed loosely
    assert r.status_code == 303 and r.headers["Location"].endswith("/me/page")
    cookie = r.headers["Set-Cookie"]
    assert f"{COOKIE}=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    secret = re.search(rf"{COOKIE}=([^;]+)", cookie).group(1)
    with site.x.db.session() as s:
        ws = s.scalars(select(WorkerSession)).one()
        assert ws.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert ws.expires_at == site.x.now() + 15 * 60
    page = c.get("/me/page", headers=EN)
    assert page.status_code == 200
    assert serial(site, 0) in page.text
    again = redeem(site, 0, code)
    assert again.status_code == 410 and "used already" in again.text


def test_a_link_preview_does_not_use_the_code(site):
    code, _ = check_in(site, 0)
    r = site.client.get(f"/me/?b={serial(site, 0)}&c={code}", headers=EN)
    assert r.status_code == 200 and code in r.text and serial(site, 0) in r.text
    with site.x.db.session() as s:
        assert s.scalar(select(func.count()).where(LinkCode.used_at.is_not(None))) == 0
    assert redeem(site, 0, code).status_code == 303


def test_a_code_expires_15_minutes_after_the_tap(site):
    t = site.world.now - 60
    code, _ = check_in(site, 0, t=t)
    site.app.config["FIXED_NOW"] = t + 15 * 60 + 1
    r = redeem(site, 0, code)
    assert r.status_code == 410 and "expired" in r.text
    site.app.config["FIXED_NOW"] = t + 15 * 60
    assert redeem(site, 0, code).status_code == 303


def test_a_code_is_bound_to_its_badge(site):
    code, _ = check_in(site, 0)
    before = count(site, WorkerSession)
    r = redeem(site, 4, code)                        # another badge of the same agency
    assert r.status_code == 404 and "not known for this badge" in r.text
    assert count(site, WorkerSession) == before
    assert redeem(site, 0, code).status_code == 303  # still good for its own badge


def test_another_agencys_terminal_makes_no_code(site):
    codes = count(site, LinkCode)
    code, res = check_in(site, 0, via=OTHER)
    assert (res["result"], res["reason"]) == ("refused", "wrong_agency")
    assert count(site, LinkCode) == codes
    r = redeem(site, 0, code)
    assert r.status_code == 404 and "has sent your check-in" in r.text


def test_a_duplicate_makes_no_second_code(site):
    item = site.checkin_item(0)
    site.post_checkins(AGENCY, [item])
    n = count(site, LinkCode)
    r = site.post_checkins(AGENCY, [item])
    assert r.json["results"][0]["result"] == "duplicate"
    assert count(site, LinkCode) == n


def test_a_bad_shape_and_an_unknown_badge(site):
    r = redeem(site, 0, "12-34")
    assert r.status_code == 400 and "8 letters" in r.text
    r = redeem(site, "NO-SUCH-BADGE", "ABCD-EFGH")
    assert r.status_code == 404
    assert count(site, LinkFailure) == 0


def test_five_wrong_codes_lock_the_badge(site):
    code, _ = check_in(site, 0)
    other = check_in(site, 4)[0]
    for n in range(4):
        r = redeem(site, 0, "ZZZZ-ZZZ" + str(n))
        assert r.status_code == 404, n
    r = redeem(site, 0, other)                       # another badge's code: a guess too
    assert r.status_code == 429 and "locked" in r.text
    r = redeem(site, 0, code)                        # even the right one
    assert r.status_code == 429
    assert count(site, WorkerSession) == 0
    with site.x.db.session() as s:
        assert s.scalar(select(func.count()).where(AuditEntry.action == "link.lock")) == 1


def test_the_nightly_purge_deletes_only_what_has_run_out(site):
    """Locks, guesses, sessions and codes past their time go with disclosures-purge; a lock,
    a session and a code still running stay (and still work)."""
    from verifier.models import LinkLock
    runner = site.app.test_cli_runner()
    assert count(site, LinkCode) > 0                       # the site's check-ins of months ago
    assert runner.invoke(args=["disclosures-purge"]).exit_code == 0
    assert count(site, LinkCode) == 0
    code, _ = check_in(site, 0)
    for n in range(5):
        redeem(site, 3, "ZZZZ-ZZZ" + str(n))            # badge 3 locked
    opened = site.app.test_client()
    assert redeem(site, 0, code, opened).status_code == 303
    fresh, _ = check_in(site, 4)
    counts = {m: count(site, m) for m in (LinkCode, LinkFailure, LinkLock, WorkerSession)}
    assert counts == {LinkCode: 2, LinkFailure: 5, LinkLock: 1, WorkerSession: 1}
    out = runner.invoke(args=["disclosures-purge"])
    assert out.exit_code == 0 and "; 0 expired link code(s)" in out.output, out.output
    assert opened.get("/me/page").status_code == 200
    site.x.config["FIXED_NOW"] += 75 * 60 + 1              # past the session, lock and window
    out = runner.invoke(args=["disclosures-purge"])
    assert "; 7 expired link code(s)" in out.output, out.output   # 1 session, 5 guesses, 1 lock
    assert {m: count(site, m) for m in counts} == {LinkCode: 2, LinkFailure: 0, LinkLock: 0,
                                                   WorkerSession: 0}
    site.x.config["FIXED_NOW"] += 86400                   # a day past the codes' validity
    out = runner.invoke(args=["disclosures-purge"])
    assert "; 2 expired link code(s)" in out.output and count(site, LinkCode) == 0


def test_the_lock_is_logged(site, caplog):
    with caplog.at_level(logging.WARNING, logger="verifier.services.links"):
        for n in range(5):
            redeem(site, 0, "ZZZZ-ZZZ" + str(n))
    assert any("locked" in r.getMessage() for r in caplog.records)


def test_the_form_is_rate_limited_per_client(db_url, world):
    app = make_app(db_url, world, RATE_LIMIT_PER_MIN=3)
    e = Env(app, world)
    try:
        c = e.client
        csrf = _field(c.get("/me/", headers=EN).text, "csrf")
        form = {"serial": "NO-SUCH", "code": "ABCD-EFGH", "csrf": csrf}
        for _ in range(3):
            assert c.post("/me/", data=form, headers=EN).status_code == 404
        assert c.post("/me/", data=form, headers=EN).status_code == 429
        assert c.get("/me/", headers=EN).status_code == 200          # the form stays
    finally:
        e.x.db.engine.dispose()
