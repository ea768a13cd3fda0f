"""A complaint's life end to end on China's working-day calendar: the real verifier over HTTP
on 127.0.0.1 with its clock in September 2026 (chinese-calendar has that year's holidays and
调休 days), headless Chromium as the household's phone and as the agency's desktop.

Tue 2026-09-22: the household complains twice about badge 0's worker: a serious complaint
from a consent view, a minor one from a plain status tap. Seven working days later is Fri
2026-10-09 (Mid-Autumn Fri 25 Sep, National Day 1-7 Oct, with Sat 10 Oct a make-up workday);
a Monday-Friday count would say Thu 2026-10-01. The agency records the worker's reply to both,
proposes an outcome for the serious one (it goes to the bureau) and lets the minor one run:
still with the agency on 2 Oct (after the naive deadline), escalated as overdue on 10 Oct. The
bureau upholds both; the employer page's consent view shows grade D with the two complaints
as its reasons, and the colour stays green (a grade is not a colour).
"""
import re

import pytest

from host.wire import sample
from tests.verifier.conftest import make_app, new_database
from tests.web.conftest import (AGENCY, DAY, STAFF_PASSWORD, STAFF_USER, LiveServer,
                                standard_records, start_chromium, stop_chromium, ts)
from tests.web.test_browser import login, submit_review, verdict, wait_for
from testkit.verifier import Env
from verifier.services import records, registry, staff

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")

FILED = ts(2026, 9, 22, 10)
DUE = "2026-10-09"
NAIVE_DUE = "2026-10-01"


@pytest.fixture(scope="module")
def live(request, tmp_path_factory):
    world = sample.World(n_agencies=2, n_badges=2, now=FILED)
    world.trust_list = sample.build_trust_list(world.authority, sample.AUTHORITY_ID,
                                               world.agencies, 1, sample.T2026, sample.T2028)
    app = make_app(new_database("sqlite", request, tmp_path_factory.mktemp("e2e-db")), world)
    env = Env(app, world)
    x = env.x
    with x.db.session() as s:
        staff.create_user(s, AGENCY, STAFF_USER, STAFF_PASSWORD, FILED, "test",
                          display_name="Anna", scrypt_n=x.config["STAFF_SCRYPT_N"])
        records.add_many(s, AGENCY, "W-0000000", standard_records(FILED, FILED + 200 * DAY),
                         "verified", FILED, "test", x.config["TIMEZONE"])
        env.bureau_key = registry.create_api_key(s, None, "bureau", FILED, "test",
                                                 role="bureau")
    server = LiveServer(app)
    env.url = server.url
    try:
        yield env
    finally:
        server.stop()
        x.db.engine.dispose()


def at(live, t):
    """Move the verifier's clock (and sign fresh status lists for that day)."""
    live.app.config["FIXED_NOW"] = t
    live.publish_lists(t)


def complain_on_page(phone, severity):
    """Fill the page's review or complaint form (1 star) and follow the status link."""
    if severity == "serious":
        phone.find_element("css selector", "input[name=severity][value=serious]").click()
    submit_review(phone, "1", "safety" if severity == "serious" else "late",
                  "left the gas on" if severity == "serious" else "did not come")
    assert verdict(phone)[0] == "green"
    phone.find_element("css selector", "#complaint-link a").click()
    wait_for(phone, "/complaints/")
    return phone.current_url


def state_of(phone, url):
    phone.get(url)
    return phone.find_element("id", "complaint").get_attribute("data-state")


def decide(live, cid, outcome, note):
    r = live.client.post(f"/api/v1/bureau/complaints/{cid}/decision",
                         headers={"Authorization": f"Bearer {live.bureau_key}"},
                         json={"outcome": outcome, "note": note})
    assert r.status_code == 200, r.json
    return r.json


def test_complaints_deadline_across_holidays_bureau_decision_and_the_grade(live):
    from selenium.webdriver.support.ui import Select
    phone = start_chromium(lang="en")
    desk = start_chromium(phone=False, lang="en")
    try:
        # the household, Tue 22 Sep: a consent view (grade B), a serious complaint from it
        phone.get(live.url + live.tap_path(0, "consent"))
        assert verdict(phone) == ("green", "ok")
        assert phone.find_element("css selector", "[data-grade]").get_attribute(
            "data-grade") == "B"
        serious_url = complain_on_page(phone, "serious")
        # ... and a plain status tap: the complaint form only
        phone.get(live.url + live.tap_path(0))
        assert "Complain about this worker" in phone.page_source
        assert "Rate this service" not in phone.page_source
        minor_url = complain_on_page(phone, "minor")
        for url in (serious_url, minor_url):
            phone.get(url)
            due = phone.find_element("id", "deadline").text
            assert due == DUE and NAIVE_DUE not in due       # no "provisional" either
        # the agency: the worker's reply to both, an outcome proposed for the serious one
        desk.get(live.url + "/console/login")
        login(desk, live)
        worker_page = live.url + f"/console/workers/{live.workers[0]}"
        desk.get(worker_page)
        ids = {el.get_attribute("data-complaint"): el.text
               for el in desk.find_elements("css selector", "[data-complaint]")}
        assert len(ids) == 2
        for cid in ids:
            desk.get(worker_page)
            desk.find_element("id", f"reply-{cid}").send_keys("我没有离开灶台")
            desk.find_element("css selector", f"#reply-{cid} ~ button").click()
            wait_for(desk, "done=reply")
        serious_id = next(c for c, text in ids.items() if "serious" in text)
        minor_id = next(c for c in ids if c != serious_id)
        Select(desk.find_element("id", f"outcome-{serious_id}")).select_by_value("upheld")
        desk.find_element("id", f"note-{serious_id}").send_keys("the neighbour's statement")
        desk.find_element("css selector", f"#note-{serious_id} ~ button").click()
        wait_for(desk, "done=proposed")
        assert state_of(phone, serious_url) == "escalated"
        assert "a serious complaint" in phone.find_element("id", "escalated").text
        assert "我没有离开灶台" in phone.find_element("id", "reply").text
        # Fri 2 Oct: a Monday-Friday count would be overdue since 1 Oct; the calendar is not
        at(live, ts(2026, 10, 2, 10))
        assert state_of(phone, minor_url) == "open"
        at(live, ts(2026, 10, 9, 23, 30))                  # the last hour of the deadline
        assert state_of(phone, minor_url) == "open"
        # Sat 10 Oct (a make-up workday): not answered by its deadline, to the bureau
        at(live, ts(2026, 10, 10, 9))
        assert state_of(phone, minor_url) == "escalated"
        escalated = phone.find_element("id", "escalated").text
        assert escalated.startswith("2026-10-10") and "deadline" in escalated
        # the bureau decides both (its API; the bureau console is another issue)
        queue = live.client.get("/api/v1/bureau/complaints", headers={
            "Authorization": f"Bearer {live.bureau_key}"}).json["complaints"]
        assert sorted(str(c["id"]) for c in queue) == sorted(ids)
        decide(live, serious_id, "upheld", "confirmed by the neighbour")
        decide(live, minor_id, "upheld", "the household's messages")
        phone.get(minor_url)
        assert phone.find_element("id", "complaint").get_attribute("data-outcome") == "upheld"
        assert "final" in phone.find_element("id", "outcome").text
        # the employer page: grade D and why; the colour is not the grade
        phone.get(live.url + live.tap_path(0, "consent"))
        assert verdict(phone) == ("green", "ok")
        grade = phone.find_element("css selector", "[data-grade]")
        assert grade.get_attribute("data-grade") == "D"
        reasons = [li.text for li in grade.find_elements("css selector", "li")]
        assert reasons[0] == "Complaint upheld (serious), decided 2026-10-10 (-30)"
        assert "Complaint upheld (minor), decided 2026-10-10 (-10)" in reasons
        # the console (a new login: the session of 22 Sep has expired): the same grade, its
        # history with what caused each row
        desk.get(live.url + "/console/login")
        login(desk, live)
        desk.get(worker_page)
        assert desk.find_element("id", "grade").find_element(
            "css selector", "[data-grade]").get_attribute("data-grade") == "D"
        triggers = [tr.get_attribute("data-trigger") for tr in desk.find_elements(
            "css selector", "#grade-history tr[data-trigger]")]
        assert triggers[0] == "complaint" and triggers[-1] == "record"
        assert re.search(r"score 38\b", desk.find_element("id", "grade").text)
    finally:
        stop_chromium(desk)
        stop_chromium(phone)
