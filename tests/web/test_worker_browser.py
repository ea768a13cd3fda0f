"""The worker's own page in headless Chromium with a phone viewport (Debian's chromium and
chromedriver, a real verifier on 127.0.0.1), as the worker opens it from the desk terminal's
QR code: the code works once, then the page passes the employer page's checks (Chinese
first, nothing loaded but the page, under 30 KiB, no layout shift, no script, accessible
markup, enough contrast) in Chinese and in English, and shows the employer's consent tap made
a moment before. Screenshots of both languages go to the artifacts folder; tools/screenshots.py
copies them to docs/screenshots/."""
import pytest

from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.web import a11y
from tests.web.test_browser import browser, live  # noqa: F401  (the module fixtures)
from tests.web.test_browser import layout_shift, shot, wait_for
from verifier.services import links

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


def card(site, i):
    """A one-time code for badge i's worker, as the console's link card makes it."""
    with site.x.db.session() as s:
        c = links.card(s, site.world.badges[i].agency_id, site.workers[i], site.x.now(),
                       "staff:anna")
    return c.serial, c.code


def checks(drv):
    """The employer page's checks, on the page the phone shows."""
    assert layout_shift(drv) == 0
    assert drv.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)") == []
    assert drv.execute_script(
        "return performance.getEntriesByType('navigation')[0].transferSize") < 30 * 1024
    assert drv.execute_script("return window.innerWidth") == 390
    assert a11y.problems(drv.page_source) == []
    for css in ("h1", "#this-month", "#seen td", "button"):
        el = drv.find_element("css selector", css)
        fg = a11y.rgb_to_hex(el.value_of_css_property("color"))
        bg_el = el
        bg = "rgba(0, 0, 0, 0)"
        while bg in ("rgba(0, 0, 0, 0)", "transparent"):
            bg = bg_el.value_of_css_property("background-color")
            bg_el = bg_el.find_element("xpath", "..")
        assert a11y.contrast(a11y.rgb_to_hex(bg), fg) >= 4.5, css


def test_the_worker_opens_their_page_from_the_qr_code(live, browser, artifacts):  # noqa: F811
    phone = browser
    phone.delete_all_cookies()
    phone.get(live.url + live.tap_path(0, "consent"))          # an employer's consent tap
    phone.delete_all_cookies()
    serial, code = card(live, 0)
    phone.get(f"{live.url}/me/?b={serial}&c={code}")            # what the QR code opens
    assert phone.find_element("tag name", "html").get_attribute("lang") == "zh-CN"
    assert phone.find_element("id", "serial").get_attribute("value") == serial
    phone.find_element("id", "open").click()
    wait_for(phone, "/me/page")
    seen = phone.find_elements("css selector", "tr.seen")
    assert seen and seen[0].get_attribute("data-kind") == "consent"
    assert seen[0].get_attribute("data-role") == "employer"
    checks(phone)
    shot(phone, artifacts, "worker-page-zh", full=True)
    phone.find_element("css selector", "nav a").click()          # the language switch
    wait_for(phone, "lang=en")
    assert phone.find_element("tag name", "html").get_attribute("lang") == "en"
    assert phone.find_element("id", "h-seen").text == "Who saw my data"
    checks(phone)
    shot(phone, artifacts, "worker-page-en", full=True)


def test_the_code_works_once(live, browser):  # noqa: F811
    phone = browser
    phone.delete_all_cookies()
    serial, code = card(live, 1)
    for expect in ("/me/page", None):
        phone.delete_all_cookies()
        phone.get(f"{live.url}/me/?b={serial}&c={code}&lang=en")
        button = phone.find_element("id", "open")
        button.click()
        if expect:
            wait_for(phone, expect)
        else:
            # the answer is a page at the same address: wait until the form sent is gone
            WebDriverWait(phone, 15).until(ec.staleness_of(button))
            err = phone.find_element("id", "error")
            assert "used already" in err.text
            assert layout_shift(phone) == 0
