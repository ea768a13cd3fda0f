"""Grades computed by the credit rules and kept with their rule version (services/grades.py):
recomputed on every event in the event's transaction, rechecked when shown, written again by
the nightly run for a new rule version and each quarter, across every file of a person; the
worker's appeals decided by the bureau. SQLite and PostgreSQL."""
import json
import re
from contextlib import contextmanager
from dataclasses import replace

from sqlalchemy import func, select

from tests.web.conftest import ts
from tests.web.test_complaints import bureau_key, complain, staff_form
from tests.web.test_employer_page import EN, verdict
from tests.web.test_visits import visit_done, vsite  # noqa: F401
from verifier.models import Appeal, AuditEntry, CreditGrade, CreditRecord, Worker
from verifier.services import credit_rules, grades

AGENCY = "A330100"


def rows(site, i):
    """(trigger, grade, colour, rule version) of badge i's worker's history, oldest first."""
    with site.x.db.session() as s:
        return [(g.trigger, g.grade, g.colour, g.rule_version) for g in s.scalars(
            select(CreditGrade).where(CreditGrade.worker_id == site.workers[i])
            .order_by(CreditGrade.id))]


def decide(site, cid, outcome, key=None):
    auth = {"Authorization": f"Bearer {key or bureau_key(site)}"}
    r = site.client.post(f"/api/v1/bureau/complaints/{cid}/decision", headers=auth,
                         json={"outcome": outcome, "note": "decided"})
    assert r.status_code == 200, r.json


def complaint_id(site, staff, i):
    page = staff.get(f"/console/workers/{site.workers[i]}", headers=EN).text
    return int(re.findall(r'data-complaint="(\d+)"', page)[0])


def test_a_serious_complaint_upheld_drops_the_grade_with_its_reason(vsite):  # noqa: F811
    site = vsite
    assert rows(site, 0) == [("record", "B", "green", "1")]      # seeded records: an event
    hh = site.app.test_client()
    vid = visit_done(site, 0, hh)
    assert rows(site, 0)[-1][0] == "record"          # a visit changes nothing yet: no row
    assert complain(site, hh, vid).status_code == 201
    staff = site.login(site.app.test_client())
    cid = complaint_id(site, staff, 0)
    assert staff_form(site, staff, f"/console/complaints/{cid}/propose",
                      {"outcome": "upheld", "note": "admitted"}, site.workers[0]).status_code \
        == 303                                       # serious: to the bureau
    decide(site, cid, "upheld")
    assert rows(site, 0)[-1] == ("complaint", "D", "green", "1")   # 78 - 30 = 48
    page = staff.get(f"/console/workers/{site.workers[0]}", headers=EN).text
    assert 'data-grade="D" data-colour="green"' in page
    assert re.search(r'data-reason="complaint_upheld" data-ref="complaint:%d">Complaint upheld '
                     r'\(serious\), decided 2027-01-0\d \(-30\)' % cid, page)
    # grade D is a grade, not a colour: no credit reason on the page (the status list is
    # only stale after the visit's hours), and the consent view shows the grade
    r = site.client.get(site.tap_path(0, "consent"), headers=EN)
    assert re.findall(r'data-reason="(\w+)"', r.text)[0] == "status_stale"
    assert verdict(r) == ("yellow", "status_stale") and "poor reviews" not in r.text
    assert 'data-grade="D" data-rules="1"' in r.text


def test_a_record_expiring_is_rechecked_when_shown(site):
    with site.x.db.session() as s:
        until = s.scalar(select(CreditRecord.valid_until).where(
            CreditRecord.agency_id == "A330101", CreditRecord.worker_ref == "W-0000001",
            CreditRecord.kind == "health_certificate"))
    site.app.config["FIXED_NOW"] = until + 1
    r = site.client.get(site.tap_path(1, "consent"), headers=EN)
    assert verdict(r)[0] == "yellow" and "The health check has expired." in r.text
    # 200 days on: the health certificate expired (-10), and of the 8 complete months since
    # the worker's registration only one has a check-in (-15): 78 - 25 = 53
    assert rows(site, 1)[-1] == ("recheck", "D", "yellow", "1")
    with site.x.db.session() as s:
        g = grades.view(grades.latest(s, site.workers[1]))
    assert {(r.code, r.points) for r in g["reasons"]} >= {("health_expired", -10),
                                                          ("irregular", -15)}
    assert [(r.code, r.params) for r in g["reasons"] if r.code == "irregular"] == \
        [("irregular", {"checked": 1, "due": 8})]
    n = len(rows(site, 1))
    site.client.get(site.tap_path(1), headers=EN)
    assert len(rows(site, 1)) == n                  # unchanged: no new row


def test_nightly_run_new_rule_version_and_the_quarter(site):
    ctx = site.x.grading
    with site.x.db.session() as s:
        active = s.scalar(select(func.count(Worker.id)).where(Worker.state == "active"))
        again = grades.recompute_all(s, site.x.now(), ctx)
    # every worker was graded this quarter (at seeding) and nothing changed since
    assert again == {"quarterly": 0, "rules": 0, "daily": 0, "unchanged": active}
    stricter = grades.Context(ctx.tz, ctx.start_day,
                              replace(credit_rules.CURRENT, version="test-2", base=60))
    with site.x.db.session() as s:
        bumped = grades.recompute_all(s, site.x.now(), stricter)
    assert bumped["rules"] == active
    history = rows(site, 0)
    assert [h[3] for h in history] == ["1", "test-2"]               # the old row kept
    assert history[-1][1] == "C"                                    # 60 + 8 = 68
    # a new quarter: everyone once more, under the rules of that day
    with site.x.db.session() as s:
        q2 = grades.recompute_all(s, ts(2027, 4, 1, 4), stricter)
    assert q2["quarterly"] == active
    r = site.app.test_cli_runner().invoke(args=["credit-recompute"])
    assert r.exit_code == 0 and "rules 1:" in r.output and f"{active} rules" in r.output


def test_grades_span_every_file_of_the_person(site):
    """A complaint upheld at one agency moves the grade the other agency's file shows."""
    site.enrol_and_ban([("A330100", "W-0000000"), ("A330101", "W-0000001")],
                       "11010519491231002X")
    with site.x.db.session() as s:
        from verifier.models import Ban
        for b in s.scalars(select(Ban)):
            s.delete(b)
    with site.x.db.session() as s:
        w0, w1 = s.get(Worker, site.workers[0]), s.get(Worker, site.workers[1])
        assert grades.files_of(s, w1) == [("A330100", "W-0000000"), ("A330101", "W-0000001")]
        from verifier.models import Complaint, Review
        rv = Review(agency_id="A330100", worker_ref="W-0000000", stars=1, category="safety",
                    created_at=site.x.now())
        s.add(rv)
        s.flush()
        s.add(Complaint(review_id=rv.id, agency_id="A330100", worker_ref="W-0000000",
                        severity="minor", state="closed", filed_at=site.x.now(),
                        deadline_at=site.x.now(), status_hash="x" * 64, outcome="upheld",
                        decided_by="agency", decided_at=site.x.now()))
        s.flush()
        g0 = grades.recompute(s, w0, site.x.now(), "complaint", site.x.grading)
        g1 = grades.recompute(s, w1, site.x.now(), "complaint", site.x.grading)
    assert (g0.grade, g1.grade) == ("C", "C")            # 78 - 10 on both files


def appeal(site, staff, i, target, grounds="it was not me"):
    return staff_form(site, staff, f"/console/workers/{site.workers[i]}/appeals",
                      {"target": target, "grounds": grounds}, site.workers[i])


def test_appeals_are_kept_and_an_upheld_one_sets_its_input_aside(vsite):  # noqa: F811
    site = vsite
    hh = site.app.test_client()
    vid = visit_done(site, 0, hh)
    assert complain(site, hh, vid, severity="minor", category="late").status_code == 201
    staff = site.login(site.app.test_client())
    cid = complaint_id(site, staff, 0)
    assert staff_form(site, staff, f"/console/complaints/{cid}/propose",
                      {"outcome": "upheld", "note": "late twice"}, site.workers[0]
                      ).status_code == 303
    assert rows(site, 0)[-1][:2] == ("complaint", "C")               # 78 - 10
    # bad appeals: nothing written
    for target, grounds, reason in (("complaint:999", "x", "bad_appeal"),
                                    ("nonsense", "x", "bad_appeal"),
                                    (f"complaint:{cid}", "", "bad_appeal"),
                                    (f"complaint:{cid}", "x" * 1001, "bad_appeal")):
        r = appeal(site, staff, 0, target, grounds)
        assert (r.status_code, reason) == (400, "bad_appeal"), target
    with site.x.db.session() as s:
        assert s.scalar(select(func.count(Appeal.id))) == 0
    assert appeal(site, staff, 0, f"complaint:{cid}", "the bus was cancelled").status_code \
        == 303
    r = appeal(site, staff, 0, f"complaint:{cid}")
    assert r.status_code == 409
    page = staff.get(f"/console/workers/{site.workers[0]}", headers=EN).text
    assert re.search(r'id="appeal-\d+" data-state="open"', page)
    assert "the bus was cancelled" in page
    key = bureau_key(site)
    auth = {"Authorization": f"Bearer {key}"}
    assert site.client.get("/api/v1/bureau/appeals",
                           headers=site.auth(AGENCY)).status_code == 403
    [q] = site.client.get("/api/v1/bureau/appeals", headers=auth).json["appeals"]
    assert (q["target"], q["target_id"], q["state"]) == ("complaint", cid, "open")
    r = site.client.post(f"/api/v1/bureau/appeals/{q['id']}/decision", headers=auth,
                         json={"outcome": "maybe"})
    assert (r.status_code, r.json["reason"]) == (400, "bad_appeal")
    r = site.client.post(f"/api/v1/bureau/appeals/{q['id']}/decision", headers=auth,
                         json={"outcome": "upheld", "note": "the operator confirms"})
    assert r.status_code == 200 and r.json["set_aside"] == [f"complaint:{cid}"]
    assert rows(site, 0)[-1][:2] == ("appeal", "B")                  # the complaint set aside
    r = site.client.post(f"/api/v1/bureau/appeals/{q['id']}/decision", headers=auth,
                         json={"outcome": "rejected"})
    assert (r.status_code, r.json["reason"]) == (409, "appeal_closed")
    assert site.client.get("/api/v1/bureau/appeals", headers=auth).json["appeals"] == []
    # an appeal of the grade names which of its reasons are set aside
    with site.x.db.session() as s:
        g = grades.latest(s, site.workers[0])
        refs = [r["ref"] for r in json.loads(g.reasons) if r.get("ref")]
        gid = g.id
    assert appeal(site, staff, 0, f"grade:{gid}", "the certificate is mine").status_code == 303
    with site.x.db.session() as s:
        aid = s.scalar(select(Appeal.id).where(Appeal.target == "grade"))
    r = site.client.post(f"/api/v1/bureau/appeals/{aid}/decision", headers=auth,
                         json={"outcome": "upheld", "set_aside": ["review:12345"]})
    assert (r.status_code, r.json["reason"]) == (400, "bad_appeal")
    r = site.client.post(f"/api/v1/bureau/appeals/{aid}/decision", headers=auth,
                         json={"outcome": "upheld", "set_aside": refs[:1]})
    assert r.status_code == 200
    with site.x.db.session() as s:
        record = s.get(CreditRecord, int(refs[0].split(":")[1]))
        assert record.state == "withdrawn" and record.withdraw_reason.startswith(
            f"appeal {aid} upheld")
        actions = list(s.scalars(select(AuditEntry.action).where(
            AuditEntry.action.like("appeal.%"))))
    assert actions == ["appeal.file", "appeal.decide", "appeal.file", "appeal.decide"]
    assert rows(site, 0)[-1][:2] == ("appeal", "B")      # 三级 withdrawn, 四级 (+6): 76


@contextmanager
def speaking(app, lang):
    """A request context in `lang` (what the page's locale negotiation picks for ?lang=)."""
    from flask import g

    from verifier.i18n import negotiate
    with app.test_request_context("/"):
        g.locale = negotiate(lang, None, [])[0]
        yield


def test_every_reason_the_rules_give_has_its_text_in_both_languages(sqlite_site):
    """Each code credit_rules can produce renders with its figures, in English and Chinese,
    with no placeholder left (views/html.explain)."""
    from tests.verifier.test_credit_rules import CASES, COLOUR, inputs
    from verifier.views.html import explain
    produced = {}
    for case in CASES + COLOUR:
        a = credit_rules.assess(inputs(**case[1]))
        for r in a.reasons + a.warnings:
            produced.setdefault(r.code, r.params)
    assert {"complaint_upheld", "stars_high", "stars_low", "skill", "training",
            "check_adverse", "regular", "irregular", "tenure", "poor_reviews",
            "complaints", "health_missing"} <= set(produced)
    for lang in ("en", "zh"):
        with speaking(sqlite_site.app, lang):
            for code, params in produced.items():
                text = explain(code, params)
                assert text != code and "%(" not in text, (lang, code, text)
                if lang == "zh" and code in ("poor_reviews", "complaint_upheld", "skill"):
                    assert re.search(r"[\u4e00-\u9fff]", text), (code, text)
    with speaking(sqlite_site.app, "en"):
        assert explain("poor_reviews", {"count": 3, "since": ts(2026, 10, 2)}) == \
            "3 poor reviews (2 stars or fewer) since 2026-10-02."
        assert explain("complaint_upheld", {"severity": "serious", "outcome": "upheld",
                                            "on": ts(2026, 10, 10)}) == \
            "Complaint upheld (serious), decided 2026-10-10"
    with speaking(sqlite_site.app, "zh"):
        assert explain("poor_reviews", {"count": 3, "since": ts(2026, 10, 2)}) == \
            "自 2026-10-02 以来有 3 条差评（2 星及以下）。"


def test_a_cancelled_file_keeps_its_last_grade_and_is_not_graded_again(site):
    from verifier.services import registry
    before = rows(site, 1)
    with site.x.db.session() as s:
        registry.cancel_worker(s, "A330101", site.workers[1], site.x.now(), "test")
    site.app.config["FIXED_NOW"] = site.x.now() + 400 * 86400     # records long expired
    r = site.client.get(site.tap_path(1), headers=EN)
    assert verdict(r)[0] == "red"
    with site.x.db.session() as s:
        counts = grades.recompute_all(s, site.x.now(), site.x.grading)
    assert rows(site, 1) == before and sum(counts.values()) == len(site.workers) - 1
