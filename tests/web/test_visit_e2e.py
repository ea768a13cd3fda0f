"""A verified visit end to end: the real verifier over HTTP on 127.0.0.1, a simulated badge
(the badge firmware under MicroPython with the NT3H2111 tag model, hardware/sim/fleet.py)
read by nfcpy as a phone reads it, and headless Chromium as the employer's phone.

arrival tap -> confirm -> departure tap -> end -> receipt (verified with pycose against the
published key) -> a complaint from the receipt page (no consent tap), followed on its status
page while the agency, in a desktop Chromium, records the worker's reply and its outcome; the
visit is in the worker's history, in the console and in the monthly report; a second
household (another phone) has its own visit and cannot open the first one's.
"""
import types
import urllib.error
import urllib.request

import cbor2
import pytest

from hardware.sim import fleet as simfleet
from host.wire import keys as wire_keys
from testkit.tags import read_tap
from tests.web.conftest import served_site, start_chromium, stop_chromium
from tests.web.test_browser import login, submit_review, verdict, wait_for
from tests.web.test_visits import EN, pycose_claims

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")

BADGE = 4            # agency A330100, green, never tapped by the Site's set-up
HOUR = 3600


@pytest.fixture(scope="module")
def live(request, tmp_path_factory):
    yield from served_site(request, tmp_path_factory, RECEIPT_SIGNING_KEY=wire_keys.generate())


@pytest.fixture(scope="module")
def badge(live, tmp_path_factory):
    """Badge BADGE of the site's world, as a simulated badge on nfcpy's udp: driver."""
    work = tmp_path_factory.mktemp("e2e-badge")
    one = types.SimpleNamespace(badges=[live.world.badges[BADGE]])
    fleet = simfleet.Fleet(1, work, simfleet.build(work / "build"), one).start()
    yield fleet.badges[0]
    fleet.stop()


@pytest.fixture(scope="module")
def phone():
    drv = start_chromium()
    yield drv
    stop_chromium(drv)


def tap(live, badge):
    """What the phone opens: the URL nfcpy read from the badge's tag, on the test server."""
    uri, _, _ = read_tap(badge.path)
    prefix = f"https://{simfleet.HOST}"
    assert uri.startswith(prefix + "/t/"), uri
    return live.url + uri[len(prefix):]


def offer(drv):
    return drv.find_element("id", "visit").get_attribute("data-offer")


def fetch(live, path, cookie=None):
    req = urllib.request.Request(live.url + path, headers={"Accept-Language": "en"})
    if cookie:
        req.add_header("Cookie", f"xh={cookie}")
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.read()


def later(live, seconds):
    live.app.config["FIXED_NOW"] = live.x.now() + seconds


def test_arrival_departure_receipt_complaint_history_console_and_report(live, badge, phone):
    from selenium.webdriver.support.ui import Select
    phone.delete_all_cookies()
    # arrival: the employer's phone taps the badge and confirms
    phone.get(tap(live, badge))
    assert verdict(phone)[0] == "green" and offer(phone) == "arrive"
    Select(phone.find_element("id", "service")).select_by_value("elder_care")
    phone.find_element("id", "district").send_keys("徐汇区")
    phone.find_element("name", "confirm").click()
    wait_for(phone, "/arrive")
    assert verdict(phone) == ("green", "arrive")
    vid = int(phone.find_element("id", "verdict").get_attribute("data-visit"))
    recovery = phone.find_element("id", "recovery").text
    assert len(recovery) == 14
    pseudonym = phone.find_element("id", "household").text
    # departure, three hours later: the next tap offers the end of service
    later(live, 3 * HOUR)
    phone.get(tap(live, badge))
    assert offer(phone) == "end"
    phone.find_element("name", "end").click()
    wait_for(phone, "/depart")
    assert verdict(phone) == ("green", "depart")
    phone.find_element("id", "receipt").click()
    wait_for(phone, f"/visits/{vid}")
    card = phone.find_element("id", "receipt-card")
    assert card.get_attribute("data-closed") == "departure"
    # the signed receipt, downloaded with this phone's household cookie, checked by pycose
    cookie = phone.get_cookie("xh")["value"]
    data = fetch(live, f"/visits/{vid}/receipt.cose", cookie)
    claims = pycose_claims(data, cbor2.loads(fetch(live, "/api/v1/receipt-key")))
    assert (claims["svc"], claims["hh"], claims["agency"]) == \
        ("elder_care", pseudonym, "A330100")
    assert claims["end"] - claims["start"] == 3 * HOUR and claims["district"] == "徐汇区"
    assert claims["ctr_end"] > claims["ctr_start"]
    # a complaint from the receipt page: no consent tap was ever made
    submit_review(phone, "2", "late", "迟到一小时")
    assert verdict(phone) == ("green", "review")
    phone.find_element("css selector", "#complaint-link a").click()
    wait_for(phone, "/complaints/")
    status_url = phone.current_url
    assert phone.find_element("id", "complaint").get_attribute("data-state") == "open"
    # the agency, in a desktop browser: the worker's reply, then its outcome (minor: final)
    desk = start_chromium(phone=False, lang="en")
    try:
        desk.get(live.url + "/console/login")
        login(desk, live)
        desk.get(live.url + f"/console/workers/{live.workers[BADGE]}")
        cid = desk.find_element("css selector", "[data-complaint]").get_attribute(
            "data-complaint")
        desk.find_element("id", f"reply-{cid}").send_keys("堵车，已提前告知")
        desk.find_element("css selector", f"#reply-{cid} ~ button").click()
        wait_for(desk, "done=reply")
        Select(desk.find_element("id", f"outcome-{cid}")).select_by_value("partly_upheld")
        desk.find_element("id", f"note-{cid}").send_keys("the household's message log")
        desk.find_element("css selector", f"#note-{cid} ~ button").click()
        wait_for(desk, "done=proposed")
        assert desk.find_element("css selector", "[data-complaint]").get_attribute(
            "data-state") == "closed"
    finally:
        stop_chromium(desk)
    phone.get(status_url)
    el = phone.find_element("id", "complaint")
    assert (el.get_attribute("data-state"), el.get_attribute("data-outcome")) == \
        ("closed", "partly_upheld")
    assert "堵车，已提前告知" in phone.find_element("id", "reply").text
    # the worker presses the badge button: a consent tap shows the verified-visit history
    before = badge.state()["ctr"]
    badge.press()
    badge.wait_state(lambda st: st["ctr"] > before and st["tag"].startswith("2:"))
    viewer = start_chromium(lang="en")
    try:
        viewer.get(tap(live, badge))
        served = viewer.find_element("id", "served")
        assert (served.get_attribute("data-visits"), served.get_attribute("data-households")) \
            == ("1", "1")
        assert "1 verified visits, 1 households, since" in served.text
        assert pseudonym not in viewer.page_source
    finally:
        stop_chromium(viewer)
    # the console's worker page and the monthly report
    ref = f"W-{BADGE:07d}"
    staff = live.login(live.app.test_client())
    r = staff.get(f"/console/workers/{live.workers[BADGE]}", headers=EN)
    assert 'data-visits="1"' in r.text and f'id="visit-{vid}"' in r.text
    assert "Late" in r.text and "迟到一小时" in r.text
    from verifier.services.periods import period_of
    month = period_of(claims["start"], "Asia/Shanghai", 1)
    r = staff.get(f"/console/reports/?period={month}", headers=EN)
    assert 'id="ag-none" data-visits="1" data-verified="180"' in r.text
    # a second household (another phone): its own visit, and not the first one's
    other = start_chromium()
    try:
        other.get(tap(live, badge))
        assert offer(other) == "arrive"
        other.find_element("name", "confirm").click()
        wait_for(other, "/arrive")
        assert verdict(other) == ("green", "arrive")
        assert other.find_element("id", "household").text != pseudonym
        other.get(live.url + f"/visits/{vid}")
        assert verdict(other) == ("red", "not_your_visit")
        with pytest.raises(urllib.error.HTTPError) as err:
            fetch(live, f"/visits/{vid}/receipt.cose", other.get_cookie("xh")["value"])
        assert err.value.code == 404
    finally:
        stop_chromium(other)
    r = staff.get(f"/console/visits?worker={ref}", headers=EN)
    assert r.text.count('<tr id="visit-') == 2
    assert pseudonym in r.text
