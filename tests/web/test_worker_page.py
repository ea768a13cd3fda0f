"""The worker's own page (/me/page, views/me.py, services/me.py): what it shows, the reply to a
complaint (escaped), the 注销 request, the consent scope the worker chooses (ANDed with the
badge's), everything held about the worker (data.json against the database) and the
console's one-time link card. On SQLite and PostgreSQL."""
import re

from sqlalchemy import select

from host.wire.tap import SCOPE_AGENCY, SCOPE_ALL, SCOPE_CERTIFICATES, SCOPE_HEALTH
from tests.web.conftest import AGENCY, _field
from tests.web.test_complaints import complain
from tests.web.test_employer_page import verdict
from tests.web.test_link_codes import EN, check_in, redeem, serial
from tests.web.test_visits import visit_done, vsite  # noqa: F401
from verifier.models import (Appeal, Attendance, AuditEntry, Badge, CancelRequest, Checkin,
                             Complaint, CreditGrade, CreditRecord, Disclosure, Review, Visit,
                             Worker, WorkerChoice)
from verifier.services import me

OTHER = "A330101"


def opened(site, i):
    """A browser with badge i's worker page open (through a real check-in's code)."""
    code, res = check_in(site, i)
    assert res["result"] == "accepted", res
    c = site.app.test_client()
    r = redeem(site, i, code, c)
    assert r.status_code == 303, r.text
    return c


def csrf(c):
    return _field(c.get("/me/page", headers=EN).text, "csrf")


def last_disclosure(site, ref):
    with site.x.db.session() as s:
        return s.scalars(select(Disclosure).where(Disclosure.worker_ref == ref)
                         .order_by(Disclosure.id.desc())).first()


def test_the_page_shows_badge_attendance_and_who_saw_it(site):
    site.client.get(site.tap_path(0), headers=EN)                # an employer's status tap
    c = opened(site, 0)
    with site.x.db.session() as s:
        n = s.scalar(select(Disclosure.id).order_by(Disclosure.id.desc()).limit(1))
    r = c.get("/me/page", headers=EN)
    assert r.status_code == 200
    assert "<script" not in r.text
    assert serial(site, 0) in r.text and 'id="attendance"' in r.text
    assert r.text.count('class="seen"') == 1 and 'data-kind="status"' in r.text
    assert 'data-period="2026-12"' in r.text
    with site.x.db.session() as s:                               # reading it: no disclosure
        assert s.scalar(select(Disclosure.id).order_by(Disclosure.id.desc()).limit(1)) == n
    zh = c.get("/me/page", headers={"Accept-Language": "zh-CN"})
    assert "我的" in zh.text
    assert c.get("/me/page?lang=en").status_code == 200


def test_without_a_session_the_page_is_closed(site):
    r = site.app.test_client().get("/me/page", headers=EN)
    assert r.status_code == 401
    site.client.set_cookie("xinka_me", "made-up", path="/me/")
    assert site.client.get("/me/data.json").status_code == 401


def test_the_session_closes_after_15_minutes(site):
    c = opened(site, 0)
    site.app.config["FIXED_NOW"] = site.x.now() + 15 * 60 + 1
    assert c.get("/me/page", headers=EN).status_code == 401


def test_a_reply_to_a_complaint_is_shown_escaped(vsite):  # noqa: F811
    site = vsite
    hh = site.app.test_client()
    vid = visit_done(site, 0, hh)
    assert complain(site, hh, vid).status_code == 201
    c = opened(site, 0)
    with site.x.db.session() as s:
        cid = s.scalar(select(Complaint.id))
    r = c.post(f"/me/reply/{cid}", headers=EN,
               data={"csrf": csrf(c), "reply": "<script>alert(1)</script> 不是我"})
    assert r.status_code == 303
    page = c.get("/me/page", headers=EN).text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; 不是我" in page
    with site.x.db.session() as s:
        assert s.get(Complaint, cid).reply == "<script>alert(1)</script> 不是我"
        assert s.scalar(select(AuditEntry.actor).where(
            AuditEntry.action == "complaint.reply")) == "worker"


def test_a_form_without_csrf_is_refused(site):
    c = opened(site, 0)
    assert c.post("/me/cancel", headers=EN, data={}).status_code == 400
    with site.x.db.session() as s:
        assert s.scalars(select(CancelRequest)).first() is None


def test_a_cancel_request_twice_is_one_request(site):
    c = opened(site, 0)
    r = c.post("/me/cancel", headers=EN, data={"csrf": csrf(c)})
    assert r.status_code == 303
    page = c.get(r.headers["Location"], headers=EN).text
    assert "request to cancel was sent" in page and 'id="cancel-state"' in page
    r = c.post("/me/cancel", headers=EN, data={"csrf": csrf(c)})
    assert "asked to cancel already" in c.get(r.headers["Location"], headers=EN).text
    with site.x.db.session() as s:
        rows = list(s.scalars(select(CancelRequest)))
        assert [(x.agency_id, x.worker_ref) for x in rows] == [(AGENCY, "W-0000000")]
    staff = site.login(site.app.test_client())
    page = staff.get(f"/console/workers/{site.workers[0]}", headers=EN).text
    assert 'id="cancel-requested"' in page and "asked to cancel on" in page


def choose(site, c, names):
    r = c.post("/me/scope", headers=EN, data={"csrf": csrf(c), "show": names})
    assert r.status_code == 303


def test_the_worker_turns_health_off(site):
    c = opened(site, 3)                                      # agency A330101
    r = site.client.get(site.tap_path(3, "consent"), headers=EN)
    assert 'data-record="health_certificate"' in r.text
    assert "health" in last_disclosure(site, "W-0000003").scope
    choose(site, c, ["certificates", "insurance", "credit", "attendance"])
    with site.x.db.session() as s:
        assert s.scalar(select(WorkerChoice.scope)) == SCOPE_ALL & ~SCOPE_HEALTH
    r = site.client.get(site.tap_path(3, "consent"), headers=EN)
    assert verdict(r)[0] == "green"
    assert 'data-record="health_certificate"' not in r.text and "育婴员" in r.text
    assert last_disclosure(site, "W-0000003").scope == \
        "certificates,insurance,credit,attendance"
    page = c.get("/me/page", headers=EN).text
    assert 'id="show-health" checked' not in page.replace('"\n', '" ')
    assert 'value="certificates" id="show-certificates" checked' in page


def test_the_worker_cannot_widen_the_badges_scope(site):
    c = opened(site, 3)
    choose(site, c, ["certificates", "health"])
    r = site.client.get(site.tap_path(3, "consent", scope=SCOPE_CERTIFICATES | SCOPE_AGENCY),
                        headers=EN)
    assert 'data-record="health_certificate"' not in r.text and "育婴员" in r.text
    assert last_disclosure(site, "W-0000003").scope == "certificates"


def _db_rows(site, model, *where):
    with site.x.db.session() as s:
        return [{c.key: getattr(o, c.key) for c in model.__table__.columns}
                for o in s.scalars(select(model).where(*where).order_by(model.id))]


def _plain(rows, skip=()):
    return [{k: (v.hex() if isinstance(v, bytes) else v) for k, v in r.items()
             if k not in skip} for r in rows]


def test_my_data_is_what_the_database_holds(site):
    site.client.get(site.tap_path(0), headers=EN)
    c = opened(site, 0)
    choose(site, c, ["certificates"])
    r = c.get("/me/data.json")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    got = r.json
    ref = "W-0000000"

    def mine(m):
        return (m.agency_id == AGENCY, m.worker_ref == ref)
    with site.x.db.session() as s:
        w = s.scalars(select(Worker).where(*mine(Worker))).one()
        wid = w.id
    workers = _plain(_db_rows(site, Worker, Worker.id == wid), ("id_number_enc", "id_number"))
    for row in workers:
        row["id_number_sealed"] = False
    assert got["workers"] == workers
    assert "id_number_enc" in got["left_out"]["workers"]
    assert got["badges"] == _plain(_db_rows(site, Badge, Badge.worker_id == wid))
    assert got["checkins"] == _plain(_db_rows(site, Checkin, *mine(Checkin)), ("token",))
    assert len(got["checkins"]) == 3 + 6 + 1 and all("token" not in x for x in got["checkins"])
    for key, model in (("attendance", Attendance), ("credit_records", CreditRecord),
                       ("reviews", Review), ("complaints", Complaint), ("appeals", Appeal),
                       ("visits", Visit), ("disclosures", Disclosure),
                       ("worker_choices", WorkerChoice)):
        assert got[key] == _plain(_db_rows(site, model, *mine(model))), key
    assert got["credit_grades"] == _plain(_db_rows(site, CreditGrade,
                                                   CreditGrade.worker_id == wid))
    assert len(got["credit_records"]) == 4 and len(got["disclosures"]) == 1
    assert got["worker_choices"][0]["scope"] == SCOPE_CERTIFICATES | SCOPE_AGENCY
    with site.x.db.session() as s:
        assert me.everything(s, AGENCY, ref, site.x.now())["checkins"] == got["checkins"]
    page = c.get("/me/data", headers=EN)
    assert page.status_code == 200 and serial(site, 0) in page.text


def test_the_consoles_link_card_works_once(site):
    staff = site.login(site.app.test_client())
    wid = site.workers[0]
    form = staff.get(f"/console/workers/{wid}", headers=EN).text
    assert 'id="link-card"' in form
    r = staff.post(f"/console/workers/{wid}/link-card", headers=EN,
                   data={"csrf": _field(form, "csrf")})
    assert r.status_code == 200, r.text
    assert "<svg" in r.text and "<script" not in r.text
    code = re.search(r'id="card-code" class="big">([0-9A-Z-]+)<', r.text).group(1)
    assert re.search(r'id="card-serial">([0-9A-Z]+)<', r.text).group(1) == serial(site, 0)
    with site.x.db.session() as s:
        assert s.scalar(select(AuditEntry.action).where(
            AuditEntry.action == "link.card")) == "link.card"
    assert redeem(site, 4, code).status_code == 404               # another badge
    c = site.app.test_client()
    assert redeem(site, 0, code, c).status_code == 303
    assert c.get("/me/page", headers=EN).status_code == 200
    assert redeem(site, 0, code).status_code == 410


def test_the_worker_appeals_against_the_grade(site):
    c = opened(site, 0)
    page = c.get("/me/page", headers=EN).text
    target = re.search(r'<option value="(grade:\d+)"', page).group(1)
    r = c.post("/me/appeal", headers=EN, data={"csrf": csrf(c), "target": target,
                                               "grounds": "<script>x()</script>我每个月都打卡了"})
    assert r.status_code == 303 and "done=appeal" in r.headers["Location"]
    page = c.get("/me/page", headers=EN).text
    assert "<script>x()</script>" not in page and "&lt;script&gt;x()&lt;/script&gt;" in page
    with site.x.db.session() as s:
        a = s.scalars(select(Appeal)).one()
        assert (a.worker_ref, a.target, a.filed_by, a.state) == ("W-0000000", "grade",
                                                                 "worker", "open")
    r = c.post("/me/appeal", headers=EN, data={"csrf": csrf(c), "target": target,
                                               "grounds": "again"})
    assert "error=appeal_exists" in r.headers["Location"]
    assert 'id="appeal-' in c.get("/me/page", headers=EN).text
