"""Complaints as a process: deadlines on China's working-day calendar (chinese-calendar, with
调休 make-up days), the worker's reply, the agency's outcome, escalation of serious and
overdue complaints to the bureau, its final decision, the complainant's status page; on
SQLite and PostgreSQL."""
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from tests.web.conftest import _field, ts
from tests.web.test_employer_page import EN, verdict
from tests.web.test_visits import form_token, other_agency_staff, visit_done, vsite  # noqa: F401
from tests.verifier.conftest import make_app
from verifier.models import AuditEntry, Complaint, Review
from verifier.services import registry, reviews
from verifier.services.workdays import Calendar

TZ = "Asia/Shanghai"


def naive(start, n):
    """The deadline a Monday-to-Friday count gives (what the calendar must NOT give)."""
    d = start
    while n:
        d += timedelta(days=1)
        n -= d.weekday() < 5
    return d


@pytest.mark.parametrize("filed,due,why", [
    (date(2026, 9, 22), date(2026, 10, 9), "Mid-Autumn (25 Sep) and National Day (1-7 Oct)"),
    (date(2026, 10, 9), date(2026, 10, 19), "Saturday 10 Oct is a 调休 make-up workday"),
    (date(2026, 2, 12), date(2026, 2, 28), "Spring Festival; Sat 14 and Sat 28 Feb are worked"),
    (date(2026, 6, 1), date(2026, 6, 10), "an ordinary fortnight: the same as Monday-Friday"),
])
def test_seven_working_days_on_chinas_calendar(filed, due, why):
    got, provisional = Calendar().add(filed, 7)
    assert (got, provisional) == (due, False), why
    if "ordinary" in why:
        assert naive(filed, 7) == due
    else:
        assert naive(filed, 7) != due                 # a naive count is wrong here
    deadline = Calendar().deadline(ts(filed.year, filed.month, filed.day, 15), 7, TZ)
    assert deadline.day == due
    assert deadline.at == ts(due.year, due.month, due.day, 23, 59) + 59


def test_a_year_without_data_is_provisional_until_its_schedule_is_configured():
    start = date(2026, 12, 28)
    got, provisional = Calendar().add(start, 7)
    assert provisional and got == naive(start, 7)          # Monday-Friday, marked
    cal = Calendar({"2027": {"holidays": ["2027-01-01", "2027-01-04"],
                             "workdays": ["2027-01-09"]}})
    assert cal.known(2027) and not cal.is_workday(date(2027, 1, 1))
    assert cal.is_workday(date(2027, 1, 9))                # a Saturday, worked
    # 29, 30, 31 Dec; 5, 6, 7, 8 Jan (1 and 4 Jan off)
    assert cal.add(start, 7) == (date(2027, 1, 8), False)
    for bad in ({"2027": {"holidays": ["1 Jan"]}}, {"2027": {"holidays": ["2028-01-01"]}},
                {"x": {}}):
        with pytest.raises(ValueError):
            Calendar(bad)


def test_a_wrong_workday_schedule_stops_the_start(db_url, world):
    with pytest.raises(ValueError, match="WORKDAY_YEARS"):
        make_app(db_url, world, WORKDAY_YEARS={"2027": {"holidays": ["soon"]}})


def complain(site, client, vid, severity="serious", category="safety", comment="left the gas on"):
    return client.post(f"/visits/{vid}/review", headers=EN, data={
        "csrf": form_token(client), "stars": "1", "category": category, "comment": comment,
        "severity": severity})


def status_link(r):
    return re.search(r'id="complaint-link">[^<]*<a href="(/complaints/[\w-]+)"', r.text).group(1)


def bureau_key(site):
    with site.x.db.session() as s:
        return registry.create_api_key(s, None, "bureau", site.x.now(), "test", role="bureau")


def staff_form(site, staff, path, data, wid):
    return staff.post(path, headers=EN, data=dict(
        data, csrf=_field(staff.get(f"/console/workers/{wid}").text, "csrf")))


def test_a_serious_complaint_goes_to_the_bureau_whose_decision_is_final(vsite):  # noqa: F811
    site = vsite
    hh = site.app.test_client()
    vid = visit_done(site, 0, hh)
    r = complain(site, hh, vid)
    assert r.status_code == 201, r.text
    link = status_link(r)
    r = hh.get(link, headers=EN)
    assert 'id="complaint" data-state="open"' in r.text and "serious" in r.text
    staff = site.login(site.app.test_client())
    wid = site.workers[0]
    page = staff.get(f"/console/workers/{wid}", headers=EN).text
    cid = int(re.search(r'data-complaint="(\d+)" data-state="open"', page).group(1))
    # the worker's reply (entered by staff), then the agency proposes to dismiss it
    assert staff_form(site, staff, f"/console/complaints/{cid}/reply",
                      {"reply": "I turned it off before leaving"}, wid).status_code == 303
    assert "I turned it off before leaving" in hh.get(link, headers=EN).text
    r = staff_form(site, staff, f"/console/complaints/{cid}/propose",
                   {"outcome": "dismissed", "note": "photo of the stove"}, wid)
    assert r.status_code == 303
    with site.x.db.session() as s:
        c = s.get(Complaint, cid)
        assert (c.state, c.escalation, c.proposal, c.outcome) == \
            ("escalated", "serious", "dismissed", None)        # not dismissed by the agency
        assert reviews.open_complaints(s, "A330100", "W-0000000", site.x.now()) == 1
    r = staff_form(site, staff, f"/console/complaints/{cid}/propose",
                   {"outcome": "dismissed", "note": "again"}, wid)
    assert r.status_code == 403
    r = hh.get(link, headers=EN)
    assert 'data-state="escalated"' in r.text and "a serious complaint" in r.text
    # the bureau's queue and decision; an agency key may not
    key = bureau_key(site)
    auth = {"Authorization": f"Bearer {key}"}
    assert site.client.get("/api/v1/bureau/complaints",
                           headers=site.auth("A330100")).status_code == 403
    q = site.client.get("/api/v1/bureau/complaints", headers=auth).json["complaints"]
    assert [(x["id"], x["proposal"], x["reply"]) for x in q] == \
        [(cid, "dismissed", "I turned it off before leaving")]
    r = site.client.post(f"/api/v1/bureau/complaints/{cid}/decision", headers=auth,
                         json={"outcome": "maybe", "note": "x"})
    assert (r.status_code, r.json["reason"]) == (400, "bad_complaint")
    r = site.client.post(f"/api/v1/bureau/complaints/{cid}/decision", headers=auth,
                         json={"outcome": "upheld", "note": "the neighbour confirms"})
    assert r.status_code == 200 and r.json["state"] == "closed"
    assert r.json["decided_by"] == "bureau"
    r = site.client.post(f"/api/v1/bureau/complaints/{cid}/decision", headers=auth,
                         json={"outcome": "dismissed", "note": "changed my mind"})
    assert (r.status_code, r.json["reason"]) == (409, "complaint_closed")
    r = hh.get(link, headers=EN)
    assert 'data-state="closed" data-outcome="upheld"' in r.text and "final" in r.text
    with site.x.db.session() as s:
        assert reviews.open_complaints(s, "A330100", "W-0000000", site.x.now()) == 0
        steps = [e.action for e in s.scalars(select(AuditEntry).order_by(AuditEntry.id))
                 if e.action.startswith("complaint.")]
    assert steps == ["complaint.file", "complaint.reply", "complaint.propose",
                     "complaint.escalate", "complaint.decide"]
    assert staff_form(site, staff, f"/console/complaints/{cid}/reply",
                      {"reply": "late"}, wid).status_code == 409


def test_a_minor_complaint_is_decided_by_the_agency_unless_it_misses_its_deadline(vsite):  # noqa: F811
    site = vsite
    hh = site.app.test_client()
    staff = site.login(site.app.test_client())
    wid = site.workers[0]
    first = visit_done(site, 0, hh)
    second = visit_done(site, 0, hh)
    assert complain(site, hh, first, "minor", "late", "late").status_code == 201
    r = complain(site, hh, second, "minor", "quality", "dusty")
    link = status_link(r)
    with site.x.db.session() as s:
        a, b = s.scalars(select(Complaint).order_by(Complaint.id)).all()
        a_id, b_id, due = a.id, b.id, b.deadline_at
    # the first: decided by the agency within its deadline
    r = staff_form(site, staff, f"/console/complaints/{a_id}/propose",
                   {"outcome": "partly_upheld", "note": "ten minutes late"}, wid)
    assert r.status_code == 303
    # the second: nobody answers; a second past its deadline it is the bureau's
    site.app.config["FIXED_NOW"] = due
    assert 'data-state="open"' in hh.get(link, headers=EN).text
    site.app.config["FIXED_NOW"] = due + 1
    out = site.app.test_cli_runner().invoke(args=["complaints-sweep"])
    assert out.exit_code == 0 and "1 complaint(s) escalated" in out.output
    r = hh.get(link, headers=EN)
    assert 'data-state="escalated"' in r.text and "not answered by its deadline" in r.text
    staff = site.login(site.app.test_client())          # (days later: a new session)
    r = staff_form(site, staff, f"/console/complaints/{b_id}/propose",
                   {"outcome": "dismissed", "note": "too late"}, wid)
    assert r.status_code == 403
    with site.x.db.session() as s:
        a, b = s.get(Complaint, a_id), s.get(Complaint, b_id)
        assert (a.state, a.outcome, a.decided_by) == ("closed", "partly_upheld", "agency")
        assert (b.state, b.escalation) == ("escalated", "overdue")


def test_bad_complaint_input_is_refused_and_writes_nothing(vsite):  # noqa: F811
    site = vsite
    hh = site.app.test_client()
    vid = visit_done(site, 0, hh)

    def counts():
        with site.x.db.session() as s:
            return (s.scalar(select(func.count(Review.id))),
                    s.scalar(select(func.count(Complaint.id))))
    r = complain(site, hh, vid, severity="catastrophic")
    assert (r.status_code, verdict(r)) == (400, ("red", "bad_review"))
    assert counts() == (0, 0)
    r = complain(site, hh, vid + 99)                      # no such visit
    assert (r.status_code, verdict(r)) == (404, ("red", "not_your_visit"))
    r = complain(site, hh, vid, comment="<script>alert(1)</script>" + "x" * 600)
    assert r.status_code == 400 and counts() == (0, 0)
    r = complain(site, hh, vid, comment="<script>alert(1)</script>")
    assert r.status_code == 201
    link = status_link(r)
    assert "<script>alert" not in hh.get(link).text
    assert hh.get("/complaints/not-a-link", headers=EN).status_code == 404
    staff = site.login(site.app.test_client())
    wid = site.workers[0]
    with site.x.db.session() as s:
        cid = s.scalar(select(Complaint.id))
    page = staff.get(f"/console/workers/{wid}", headers=EN).text
    assert "<script>alert" not in page
    for data in ({"outcome": "upheld", "note": ""}, {"outcome": "forgiven", "note": "x"}):
        assert staff_form(site, staff, f"/console/complaints/{cid}/propose", data,
                          wid).status_code == 400
    assert staff_form(site, staff, f"/console/complaints/{cid}/reply", {"reply": ""},
                      wid).status_code == 400
    other = other_agency_staff(site)
    r = other.post(f"/console/complaints/{cid}/propose", data={
        "outcome": "dismissed", "note": "x", "csrf": form_token(other)})
    assert r.status_code == 404
    with site.x.db.session() as s:
        c = s.get(Complaint, cid)
        assert (c.state, c.reply, c.proposal) == ("open", None, None)
