"""Fixtures for the employer page and the console: a verifier with a small world of agencies,
workers, badges, profiles, check-ins and a staff user (on SQLite and PostgreSQL, with the
verifier tests' database fixtures), a real HTTP server on 127.0.0.1, and headless Chromium
(Debian's package) with a phone viewport.

Badges of `sample.World(2, 8)`: even ones belong to agency A330100 (the staff user's), odd
ones to A330101. Roles in the tests:
  0 green · 2 revoked before the tests · 4 revoked by staff in the browser test ·
  6 yellow (health check expired) · 1, 3, 5, 7 consent and review tests (agency A330101).
"""
import os
import pathlib
import shutil
import tempfile
import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from host.wire import read_tag_url, sample, tag_data
from host.wire.ndef import b64url
from tests.verifier.conftest import (Env, b64, db_kind, db_url, make_app,  # noqa: F401
                                     new_database, pg_cluster, sqlite_template)
from verifier.services import console, registry, staff, status

AGENCY = "A330100"
STAFF_USER, STAFF_PASSWORD = "anna", "correct horse 1"
TZ = ZoneInfo("Asia/Shanghai")
DAY = 86400
ARTIFACTS_ENV = "XINKA_ARTIFACTS"


def ts(y, m, d, hh=9, mm=0):
    return int(datetime(y, m, d, hh, mm, tzinfo=TZ).timestamp())


# check-ins of December 2026 (the report tests): badge -> days of the month
DECEMBER = {0: [1, 2, 3, 10, 10, 24], 2: [3, 4], 6: [31]}


class Site(Env):
    """Env (tests/verifier/conftest.py) plus profiles, check-ins, a staff user and badge 2
    revoked; `tap_path(i, purpose)` is the path of a fresh tap URL of badge i."""

    def __init__(self, app, world):
        super().__init__(app, world)
        x, now = self.x, world.now
        with x.db.session() as s:
            self.staff = staff.create_user(s, AGENCY, STAFF_USER, STAFF_PASSWORD, now,
                                           "test", display_name="Anna").id
            for i in range(len(world.badges)):
                health = now - 10 * DAY if i == 6 else now + 200 * DAY
                console.set_profile(s, world.badges[i].agency_id, self.workers[i], now,
                                    "test", [{"name": "育婴师", "level": "高级"},
                                             {"name": "养老护理员", "level": "中级"}],
                                    health, now + 300 * DAY, "A")
        items = {}
        for i, days in DECEMBER.items():
            for n, d in enumerate(days):
                items.setdefault(world.badges[i].agency_id, []).append(
                    self.checkin_item(i, t=ts(2026, 12, d, 8 + n % 3, 7 * n % 60)))
        for i in (0, 1, 3):           # months of the consent view's attendance strip
            for month in (8, 9, 11):
                items.setdefault(world.badges[i].agency_id, []).append(
                    self.checkin_item(i, t=ts(2026, month, 15)))
        for agency, batch in items.items():
            r = self.post_checkins(agency, batch)
            assert all(x["result"] == "accepted" for x in r.json["results"]), r.json
        self.revoke(2, "found with another person")

    def revoke(self, i, reason):
        x = self.x
        b = self.world.badges[i]
        with x.db.session() as s:
            registry.transition(s, b.agency_id, self.badge_ids[i], "revoke", x.now(), "test",
                                reason)
            status.publish(s, x.store, b.agency_id, self.world.agency_keys[b.agency_id],
                           self.app.config["STATUS_BASE_URL"], x.now(), 3600, 7 * DAY)
        with x.db.session() as s:
            x.store.refresh(s, x.now(), force=True)

    def tap(self, i, purpose="status", scope=63):
        b = self.world.badges[i]
        token = b.tap(purpose, scope=scope) if purpose == "consent" else b.tap(purpose)
        return token, b.credential

    def tap_path(self, i, purpose="status", scope=63):
        """The path of the URL a phone reads from badge i's tag (through the NDEF bytes)."""
        token, cred = self.tap(i, purpose, scope)
        url = read_tag_url(tag_data(sample.STATUS_HOST, token, cred))
        assert url.startswith(f"https://{sample.STATUS_HOST}/t/")
        return url[len(f"https://{sample.STATUS_HOST}"):]

    def login(self, client=None):
        client = client or self.client
        r = client.get("/console/login")
        csrf = _field(r.text, "csrf")
        r = client.post("/console/login", data={"username": STAFF_USER,
                                                "password": STAFF_PASSWORD, "csrf": csrf})
        assert r.status_code == 303, r.text
        return client

    def csrf(self, client, path):
        return _field(client.get(path).text, "csrf")


def _field(html, name):
    import re
    m = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert m, f"no {name} field"
    return m.group(1)


@pytest.fixture
def world():
    return sample.World(n_agencies=2, n_badges=8)


@pytest.fixture
def site(db_url, world):                     # noqa: F811
    app = make_app(db_url, world)
    s = Site(app, world)
    yield s
    s.x.db.engine.dispose()


@pytest.fixture
def sqlite_site(tmp_path, request, world):
    app = make_app(new_database("sqlite", request, tmp_path), world)
    s = Site(app, world)
    yield s
    s.x.db.engine.dispose()


# -- a real server and a real browser -----------------------------------------------------

class LiveServer:
    def __init__(self, app):
        from werkzeug.serving import make_server
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.thread.join(10)


CHROMIUM = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMEDRIVER = ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver")
PHONE = {"width": 390, "height": 844, "pixelRatio": 2, "mobile": True, "touch": True}
PHONE_UA = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/120.0 Mobile Safari/537.36")


def _first(paths):
    return next((p for p in paths if os.path.exists(p)), None)


def chromium_or_skip():
    binary, driver = _first(CHROMIUM), _first(CHROMEDRIVER)
    missing = [n for n, p in (("chromium", binary), ("chromedriver", driver)) if p is None]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("selenium (pip)")
    if missing:
        msg = f"headless browser tests need {', '.join(missing)} (scripts/test.sh installs them)"
        if os.environ.get("CI") == "true":
            pytest.fail(msg + " (CI=true: this is a failure)")
        pytest.skip(msg)
    return binary, driver


def start_chromium(lang="zh-CN,zh", phone=True):
    """Headless Chromium: a phone (390 x 844 CSS px, DPR 2, touch) or a 1280 x 900 desktop."""
    binary, driver_path = chromium_or_skip()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    profile = tempfile.mkdtemp(prefix="xinka-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", f"--user-data-dir={profile}"):
        opts.add_argument(arg)
    if phone:
        opts.add_experimental_option("mobileEmulation", {"deviceMetrics": PHONE,
                                                         "userAgent": PHONE_UA})
    else:
        opts.add_argument("--window-size=1280,900")
    opts.add_experimental_option("prefs", {"intl.accept_languages": lang})
    drv = webdriver.Chrome(service=Service(driver_path), options=opts)
    drv.set_page_load_timeout(30)
    drv._xinka_profile = profile
    return drv


def stop_chromium(drv):
    try:
        drv.quit()
    finally:
        shutil.rmtree(drv._xinka_profile, ignore_errors=True)


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
    """Screenshots go here: $XINKA_ARTIFACTS if set (tools/screenshots.py), else a tmp dir."""
    path = os.environ.get(ARTIFACTS_ENV)
    if path:
        p = pathlib.Path(path)
        p.mkdir(parents=True, exist_ok=True)
        return p
    return tmp_path_factory.mktemp("web-artifacts")


def full_screenshot(drv, path):
    """The whole page, not just the viewport (Chrome DevTools Protocol)."""
    import base64
    m = drv.execute_cdp_cmd("Page.getLayoutMetrics", {})
    size = m.get("cssContentSize") or m["contentSize"]
    shot = drv.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"],
                 "scale": 1}})
    pathlib.Path(path).write_bytes(base64.b64decode(shot["data"]))
    return path


__all__ = ["Site", "LiveServer", "start_chromium", "stop_chromium", "full_screenshot", "b64",
           "b64url", "ts", "AGENCY", "STAFF_USER", "STAFF_PASSWORD", "DECEMBER"]
