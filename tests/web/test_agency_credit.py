"""The agency's credit figures on the credit plan's four dimensions
(verifier/services/agency_credit.py), in the console and the bureau's API, on SQLite and
PostgreSQL."""
import re

from sqlalchemy import select

from tests.web.conftest import DAY, _field, ts
from tests.web.test_complaints import bureau_key, complain, staff_form
from tests.web.test_employer_page import EN
from tests.web.test_visits import visit_done, vsite  # noqa: F401
from verifier.models import Complaint, CreditRecord
from verifier.services import records

AGENCY = "A330100"                    # badges 0, 2, 4, 6: four active workers


def figures(site, client=None):
    key = bureau_key(site)
    r = site.client.get(f"/api/v1/bureau/agencies/{AGENCY}/credit",
                        headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200, r.json
    return r.json


def test_the_four_dimensions_move_with_what_happens(vsite):  # noqa: F811
    site = vsite
    f = figures(site)
    assert f["active_workers"] == 4
    assert f["compliance"] == {"insurance_coverage": 1.0, "overdue_complaints": 0}
    assert f["service_quality"]["complaints"] == 0
    assert f["service_quality"]["complaints_per_100"] == 0.0
    assert f["service_quality"]["upheld_share"] is None
    assert f["performance"]["checkin_rate"] == 0.0             # January: nobody yet
    assert f["social_responsibility"]["training_hours_per_worker"] == 0.0
    # complaints: one minor decided upheld by the agency a day later, one serious escalated
    hh = site.app.test_client()
    v1, v2 = visit_done(site, 0, hh), visit_done(site, 0, hh)
    assert complain(site, hh, v1, "minor", "late", "late").status_code == 201
    assert complain(site, hh, v2, "serious", "safety", "gas").status_code == 201
    with site.x.db.session() as s:
        minor, serious = (c.id for c in s.scalars(select(Complaint).order_by(Complaint.id)))
    site.app.config["FIXED_NOW"] = site.x.now() + DAY
    staff = site.login(site.app.test_client())
    wid = site.workers[0]
    for cid, outcome in ((minor, "upheld"), (serious, "dismissed")):
        assert staff_form(site, staff, f"/console/complaints/{cid}/propose",
                          {"outcome": outcome, "note": "checked"}, wid).status_code == 303
    f = figures(site)
    q = f["service_quality"]
    assert (q["complaints"], q["complaints_per_100"], q["upheld_share"], q["open"]) == \
        (2, 50.0, 1.0, 1)
    assert q["median_handling_days"] == 1.0
    # a third, minor, nobody answers: overdue once its 7 working days are over
    v3 = visit_done(site, 4, hh)
    assert complain(site, hh, v3, "minor", "quality", "dusty").status_code == 201
    with site.x.db.session() as s:
        due = s.scalar(select(Complaint.deadline_at).order_by(Complaint.id.desc()).limit(1))
    site.app.config["FIXED_NOW"] = due + 1
    assert figures(site)["compliance"]["overdue_complaints"] == 1
    # insurance withdrawn for one worker; training entered for another
    with site.x.db.session() as s:
        ins = s.scalar(select(CreditRecord.id).where(CreditRecord.worker_ref == "W-0000002",
                                                     CreditRecord.kind == "insurance"))
        records.withdraw(s, AGENCY, ins, "policy cancelled", site.x.now(), "staff:t")
        records.add(s, AGENCY, "W-0000004", "training", {
            "course": "婴幼儿照护", "hours": "10", "source": "培训学校",
            "issued_on": "2026-11-02"}, "verified", site.x.now(), "staff:t", "Asia/Shanghai")
        records.add(s, AGENCY, "W-0000006", "training", {
            "course": "急救", "hours": "6", "source": "红十字会",
            "issued_on": "2026-11-02"}, "self_declared", site.x.now(), "staff:t",
            "Asia/Shanghai")                     # not verified: does not count
    f = figures(site)
    assert f["compliance"]["insurance_coverage"] == 0.75
    assert f["social_responsibility"]["training_hours_per_worker"] == 2.5
    # performance: December's check-ins (badges 0, 2 and 6 of the four)
    site.app.config["FIXED_NOW"] = ts(2026, 12, 28)
    f = figures(site)
    assert (f["period"], f["performance"]["checked_in"], f["performance"]["registered"],
            f["performance"]["checkin_rate"]) == ("2026-12", 3, 4, 0.75)


def test_the_console_shows_them_and_only_the_bureau_reads_another_agency(vsite):  # noqa: F811
    site = vsite
    staff = site.login(site.app.test_client())
    r = staff.get("/console/credit", headers=EN)
    assert r.status_code == 200
    assert re.search(r'id="insurance-coverage">100 %<', r.text)
    assert 'id="checkin-rate">0 % (0 / 4)<' in r.text
    assert _field(r.text, "csrf")                                  # the logout form
    assert site.client.get(f"/api/v1/bureau/agencies/{AGENCY}/credit",
                           headers=site.auth(AGENCY)).status_code == 403
    key = bureau_key(site)
    r = site.client.get("/api/v1/bureau/agencies/NOSUCH/credit",
                        headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 404
