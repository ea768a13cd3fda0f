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
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from host.wire import sample
from host.wire.ndef import b64url
from tests.verifier.conftest import (Env, b64, db_kind, db_url, make_app,  # noqa: F401
                                     new_database, pg_cluster, sqlite_template)
from testkit.browser import (LiveServer, chromium_or_skip, full_screenshot,  # noqa: F401
                             start_chromium, stop_chromium)
from verifier.services import records, registry, staff, status

AGENCY = "A330100"
STAFF_USER, STAFF_PASSWORD = "anna", "correct horse 1"
TZ = ZoneInfo("Asia/Shanghai")
DAY = 86400
ARTIFACTS_ENV = "XINKA_ARTIFACTS"


def ts(y, m, d, hh=9, mm=0):
    return int(datetime(y, m, d, hh, mm, tzinfo=TZ).timestamp())


# check-ins of December 2026 (the report tests): badge -> days of the month
DECEMBER = {0: [1, 2, 3, 10, 10, 24], 2: [3, 4], 6: [31]}


def day_of(t):
    return datetime.fromtimestamp(t, TZ).date().isoformat()


def standard_records(now, health_until):
    """Each test worker's records: two skill certificates, a health certificate valid until
    `health_until` (issued a year before), an insurance for 300 more days."""
    return [("skill_certificate", {"title": "育婴员", "level": "三级", "number": "YY-1",
                                   "source": "职业技能鉴定中心",
                                   "issued_on": day_of(now - 400 * DAY)}),
            ("skill_certificate", {"title": "养老护理员", "level": "四级", "number": "YL-2",
                                   "source": "职业技能鉴定中心",
                                   "issued_on": day_of(now - 400 * DAY)}),
            ("health_certificate", {"number": "JK-1", "source": "疾控中心",
                                    "issued_on": day_of(health_until - 365 * DAY),
                                    "valid_until": day_of(health_until)}),
            ("insurance", {"type": "personal_accident", "number": "PA-1", "source": "人寿",
                           "issued_on": day_of(now - 60 * DAY),
                           "valid_until": day_of(now + 300 * DAY)})]


class Site(Env):
    """Env (testkit/verifier.py) plus profiles, check-ins, a staff user and badge 2
    revoked."""

    def __init__(self, app, world):
        super().__init__(app, world)
        x, now = self.x, world.now
        with x.db.session() as s:
            self.staff = staff.create_user(s, AGENCY, STAFF_USER, STAFF_PASSWORD, now,
                                           "test", display_name="Anna",
                                           scrypt_n=x.config["STAFF_SCRYPT_N"]).id
            for i in range(len(world.badges)):
                health = now - 10 * DAY if i == 6 else now + 200 * DAY
                agency = world.badges[i].agency_id
                records.add_many(s, agency, f"W-{i:07d}", standard_records(now, health),
                                 "verified", now, "test", x.config["TIMEZONE"])
        items = {}
        # earlier months first: a badge's counters rise with time (a higher counter signed
        # earlier is clone evidence: docs/protocol.md "Replay and clone evidence")
        for i in (0, 1, 3):           # months of the consent view's attendance strip
            for month in (8, 9, 11):
                items.setdefault(world.badges[i].agency_id, []).append(
                    self.checkin_item(i, t=ts(2026, month, 15)))
        for i, days in DECEMBER.items():
            for n, d in enumerate(days):
                items.setdefault(world.badges[i].agency_id, []).append(
                    self.checkin_item(i, t=ts(2026, 12, d, 8 + n % 3, 7 * n % 60)))
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


def served_site(request, tmp_path_factory, **extra):
    """A Site of sample.World(2, 8) on a fresh SQLite file, served over HTTP on 127.0.0.1
    (`site.url`): the body of a module fixture (`yield from served_site(...)`)."""
    world = sample.World(n_agencies=2, n_badges=8)
    app = make_app(new_database("sqlite", request, tmp_path_factory.mktemp("web-db")), world,
                   **extra)
    site = Site(app, world)
    server = LiveServer(app)
    site.url = server.url
    try:
        yield site
    finally:                                # (also on .close() of the generator)
        server.stop()
        site.x.db.engine.dispose()


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

@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
    """Screenshots go here: $XINKA_ARTIFACTS if set (tools/screenshots.py), else a tmp dir."""
    path = os.environ.get(ARTIFACTS_ENV)
    if path:
        p = pathlib.Path(path)
        p.mkdir(parents=True, exist_ok=True)
        return p
    return tmp_path_factory.mktemp("web-artifacts")


__all__ = ["Site", "LiveServer", "served_site", "start_chromium", "stop_chromium",
           "full_screenshot", "b64", "b64url", "ts", "AGENCY", "STAFF_USER", "STAFF_PASSWORD",
           "DECEMBER"]
