"""The bureau console's stored figures (services/city_figures.py): the city page, its
downloads and the agency pages read the figures counted by the last refresh while they are
younger than CITY_FIGURES_MAX_AGE_S, say how old they are, and are counted again when older,
from the page's button or by `flask city-refresh`; what they show then is exactly what a live
count shows. SQLite and PostgreSQL."""
import re

import pytest
from sqlalchemy import func, select

from tests.web.test_bureau_console import bureau
from tests.web.test_complaints import bureau_key
from tests.web.test_employer_page import EN
from tests.web.conftest import _field
from verifier.models import CityFigures
from verifier.services import city_figures, registry

MAX_AGE = 900


def workers_shown(client, path="/bureau/"):
    page = client.get(path, headers=EN).text
    return int(re.search(r'id="totals" data-agencies="\d+" data-workers="(\d+)"', page).group(1))


def stored(site):
    with site.x.db.session() as s:
        return s.scalar(select(func.count()).select_from(CityFigures))


def add_worker(site, ref):
    with site.x.db.session() as s:
        registry.create_worker(s, "A330100", ref, site.x.now(), "test")


def api_workers(site):
    auth = {"Authorization": f"Bearer {bureau_key(site)}"}
    return site.client.get("/api/v1/bureau/export", headers=auth).json["totals"]["active_workers"]


def test_stored_figures_are_served_until_they_age(site):
    site.x.config["CITY_FIGURES_MAX_AGE_S"] = MAX_AGE
    client = bureau(site)
    n = workers_shown(client)                         # none stored yet: counted and stored
    assert n == api_workers(site) and stored(site) == 1
    add_worker(site, "W-new-1")
    assert workers_shown(client) == n                 # the stored figures, as the page says
    page = client.get("/bureau/", headers=EN).text
    assert 'data-age="0"' in page and "they are counted again every 5 minutes" in page
    assert stored(site) == 1 and api_workers(site) == n + 1   # the API counts live
    site.x.config["FIXED_NOW"] += MAX_AGE                      # still fresh at the limit
    assert workers_shown(client) == n
    site.x.config["FIXED_NOW"] += 1                            # older: counted again
    assert workers_shown(client) == n + 1 and stored(site) == 2
    add_worker(site, "W-new-2")
    csrf = _field(client.get("/bureau/", headers=EN).text, "csrf")
    r = client.post("/bureau/refresh", data={"csrf": csrf}, headers=EN)
    assert r.status_code == 303 and r.headers["Location"].endswith("/bureau/?done=refreshed")
    page = client.get("/bureau/?done=refreshed", headers=EN).text
    assert "The figures were counted again." in page
    assert workers_shown(client) == n + 2 == api_workers(site) and stored(site) == 3


def test_refresh_needs_the_bureau_and_a_csrf_token(site):
    site.x.config["CITY_FIGURES_MAX_AGE_S"] = MAX_AGE
    client = bureau(site)
    assert client.post("/bureau/refresh", headers=EN).status_code == 403
    staff = site.login(site.app.test_client())
    csrf = _field(staff.get("/console/", follow_redirects=True).text, "csrf")
    assert staff.post("/bureau/refresh", data={"csrf": csrf}, headers=EN).status_code == 403
    assert stored(site) == 0


def _parts(page):
    """The counted parts of a bureau page (not the line that says how old they are)."""
    return [m.group(0) for m in re.finditer(
        r'<section class="card".*?</section>|<table id="agencies">.*?</table>', page, re.S)]


@pytest.mark.parametrize("path", ["/bureau/", "/bureau/?sort=complaints_per_100&dir=desc",
                                  "/bureau/agencies/A330100", "/bureau/agencies/A330101",
                                  "/bureau/agencies.csv", "/bureau/trends.csv",
                                  "/bureau/service_types.csv", "/bureau/districts.csv"])
def test_stored_figures_show_what_a_live_count_shows(site, path):
    site.enrol_and_ban([("A330100", "W-0000000")], "11010519491231002X")
    client = bureau(site)
    live = client.get(path, headers=EN)
    site.x.config["CITY_FIGURES_MAX_AGE_S"] = MAX_AGE
    with site.x.db.session() as s:
        city_figures.refresh(s, site.x.now(), site.x.config["TIMEZONE"],
                             site.x.config["PERIOD_START_DAY"])
    from_store = client.get(path, headers=EN)
    assert live.status_code == from_store.status_code == 200
    if path.endswith(".csv"):
        assert from_store.text == live.text and len(live.text.splitlines()) > 1
    else:
        assert _parts(from_store.text) == _parts(live.text) and _parts(live.text)
    assert stored(site) == 1


def test_the_command_counts_and_keeps_the_last_rows(site):
    runner = site.app.test_cli_runner()
    for _ in range(city_figures.KEEP + 2):
        site.x.config["FIXED_NOW"] += 60
        out = runner.invoke(args=["city-refresh"])
        assert out.exit_code == 0, out.output
    assert re.match(r"city figures counted: 2 agencies, \d+ active workers", out.output)
    assert stored(site) == city_figures.KEEP
    with site.x.db.session() as s:
        assert s.scalar(select(func.max(CityFigures.as_of))) == site.x.now()
        got = city_figures.current(s, site.x.now(), MAX_AGE)
        assert got is not None and got["as_of"] == site.x.now()
        assert city_figures.current(s, site.x.now() + MAX_AGE + 1, MAX_AGE) is None
        assert city_figures.current(s, site.x.now() - 1, MAX_AGE) is None   # not from later
        assert city_figures.current(s, site.x.now(), 0) is None


def test_a_negative_maximum_age_is_refused(db_url, world):
    from tests.verifier.conftest import make_app
    with pytest.raises(ValueError, match="CITY_FIGURES_MAX_AGE_S"):
        make_app(db_url, world, CITY_FIGURES_MAX_AGE_S=-1)
