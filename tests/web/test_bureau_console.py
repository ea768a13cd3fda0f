"""The bureau console (/bureau): its own role both ways (bureau staff never see an agency's
pages or a worker's, agency staff never the bureau's), its numbers equal the bureau API's and
the monthly report's, sorting and drill-down, the queues, CSV and XLSX downloads, and no
worker's name or reference anywhere in it. SQLite and PostgreSQL."""
import csv
import io
import re

from openpyxl import load_workbook

from tests.web.conftest import _field
from tests.web.test_complaints import bureau_key, complain, staff_form
from tests.web.test_employer_page import EN
from tests.web.test_visits import visit_done, vsite  # noqa: F401
from verifier.models import Worker
from verifier.services import admission, reports

BUREAU_USER, BUREAU_PASSWORD = "zhou-bureau", "bureau horse 9"


def bureau(site):
    """A logged-in bureau console client; the user made with the CLI."""
    out = site.app.test_cli_runner().invoke(args=[
        "bureau-staff-create", BUREAU_USER, "--password", BUREAU_PASSWORD])
    assert out.exit_code == 0, out.output
    client = site.app.test_client()
    r = client.post("/console/login", data={"username": BUREAU_USER, "password": BUREAU_PASSWORD,
                                            "csrf": _field(client.get("/console/login").text,
                                                           "csrf")})
    assert r.status_code == 303 and r.headers["Location"].endswith("/bureau/"), r.headers
    return client


def cell(page, agency, col):
    row = re.search(rf'<tr data-agency="{agency}">(.*?)</tr>', page, re.S).group(1)
    return re.search(rf'data-col="{col}">([^<]*)<', row).group(1).strip()


def test_roles_are_separate_both_ways(site):
    client = bureau(site)
    wid = site.workers[0]
    for path in (f"/console/workers/{wid}", "/console/workers", "/console/badges",
                 "/console/terminals", "/console/reports/"):
        r = client.get(path, headers=EN)
        assert r.status_code == 403, path
        assert "This page is for agency staff." in r.text
    assert "W-0000000" not in client.get(f"/console/workers/{wid}").text
    r = client.get("/console/", headers=EN)
    assert r.status_code == 303 and r.headers["Location"].endswith("/bureau/")
    assert client.get("/bureau/", headers=EN).status_code == 200
    staff = site.login(site.app.test_client())
    for path in ("/bureau/", "/bureau/queues", "/bureau/agencies/A330100",
                 "/bureau/city.xlsx", "/bureau/agencies.csv"):
        r = staff.get(path, headers=EN)
        assert r.status_code == 403, path
        assert "This page is for the commerce bureau." in r.text
    r = site.app.test_client().get("/bureau/queues")
    assert r.status_code in (302, 303) and "/console/login" in r.headers["Location"]
    # the agency console still works for its own staff
    assert staff.get(f"/console/workers/{wid}").status_code == 200


def test_numbers_equal_the_apis_and_nothing_personal(site):
    site.enrol_and_ban([("A330100", "W-0000000")], "11010519491231002X")
    client = bureau(site)
    page = client.get("/bureau/", headers=EN).text
    auth = {"Authorization": f"Bearer {bureau_key(site)}"}
    data = site.client.get("/api/v1/bureau/export", headers=auth).json
    t = data["totals"]
    m = re.search(r'id="totals" data-agencies="(\d+)" data-workers="(\d+)" data-badges="(\d+)" '
                  r'data-complaints="(\d+)" data-bans="(\d+)"', page)
    assert tuple(map(int, m.groups())) == (t["agencies"], t["active_workers"],
                                            t["active_badges"], t["complaints"],
                                            t["bans_in_force"])
    assert t["bans_in_force"] == 1
    for agency in ("A330100", "A330101"):
        f = site.client.get(f"/api/v1/bureau/agencies/{agency}/credit", headers=auth).json
        assert cell(page, agency, "active_workers") == str(f["active_workers"])
        rate = f["performance"]["checkin_rate"]
        assert cell(page, agency, "checkin_rate") == \
            ("—" if rate is None else "%.0f %%" % (rate * 100))
        drill = client.get(f"/bureau/agencies/{agency}", headers=EN).text
        assert re.search(r'id="active-workers">(\d+)<', drill).group(1) == \
            str(f["active_workers"])
        assert f'({f["performance"]["checked_in"]} / {f["performance"]["registered"]})' in drill
        bars = re.search(r'<svg class="trend" id="trend-checkin".*?</svg>', drill, re.S)
        last = re.findall(r'data-period="([\d-]+)" data-value="([^"]*)"', bars.group(0))[-1]
        assert last == (data["period"], "" if rate is None else str(rate))
    # each month's checked-in count on the city's trend equals the monthly reports' sum
    trends = list(csv.DictReader(io.StringIO(client.get("/bureau/trends.csv").text)))
    with site.x.db.session() as s:
        for row in trends:
            present = sum(reports.monthly(s, a, row["period"], site.x.config["TIMEZONE"],
                                          site.x.config["PERIOD_START_DAY"])["present_count"]
                          for a in ("A330100", "A330101"))
            assert int(row["checked_in"]) == present, row
    assert sum(int(r["checked_in"]) for r in trends) > 0
    # the banned worker is counted at their agency
    assert cell(page, "A330100", "banned_workers") == "1"
    assert cell(page, "A330101", "banned_workers") == "0"
    # service types: every test worker has two verified certificates (育婴员, 养老护理员)
    assert re.search(r'data-type="育婴员"><td>育婴员</td><td class="num">(\d+)<',
                     page).group(1) == str(t["active_workers"])
    # nothing personal on any bureau page or download
    texts = [page, client.get("/bureau/queues").text,
             client.get("/bureau/agencies/A330100").text,
             client.get("/bureau/agencies.csv").text]
    with site.x.db.session() as s:
        people = [(w.worker_ref, w.name) for w in s.query(Worker)]
    for text in texts:
        for ref, name in people:
            assert ref not in text and (not name or name not in text)
        assert "11010519491231002X" not in text and "case 17" not in text


def test_sorting_any_column_and_the_downloads(site):
    client = bureau(site)
    order = lambda page: re.findall(r'<tr data-agency="([^"]+)">', page)  # noqa: E731
    by_name = order(client.get("/bureau/?sort=name").text)
    assert sorted(by_name) == ["A330100", "A330101"]
    workers = {}
    with site.x.db.session() as s:
        for a in by_name:
            workers[a] = s.query(Worker).filter(Worker.agency_id == a,
                                                Worker.state == "active").count()
    down = order(client.get("/bureau/?sort=badges_revoked&dir=desc").text)
    assert down[0] == "A330100"                 # badge 2 revoked by the set-up
    up = order(client.get("/bureau/?sort=badges_revoked&dir=asc").text)
    assert up == down[::-1]
    page = client.get("/bureau/?sort=badges_revoked&dir=desc").text
    assert 'aria-sort="descending"' in page
    assert order(client.get("/bureau/?sort=nonsense").text) == by_name
    # CSV: every table; XLSX: all of them and the totals
    rows = list(csv.DictReader(io.StringIO(client.get("/bureau/agencies.csv").text)))
    assert {r["id"]: int(r["active_workers"]) for r in rows} == workers
    trends = list(csv.DictReader(io.StringIO(client.get("/bureau/trends.csv").text)))
    assert len(trends) == 12 and trends[-1]["period"] == "2027-01"
    assert client.get("/bureau/nothing.csv").status_code == 404
    r = client.get("/bureau/city.xlsx")
    assert r.status_code == 200 and r.mimetype.endswith("spreadsheetml.sheet")
    wb = load_workbook(io.BytesIO(r.data))
    assert set(wb.sheetnames) == {"agencies", "trends", "service_types", "districts", "totals"}
    sheet = wb["agencies"]
    head = [c.value for c in sheet[1]]
    got = {row[head.index("id")]: row[head.index("active_workers")]
           for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert got == workers
    assert client.get("/bureau/agencies/NOPE").status_code == 404


def test_queues_and_districts(vsite):  # noqa: F811
    site = vsite
    hh = site.app.test_client()
    vid = visit_done(site, 0, hh)
    assert complain(site, hh, vid).status_code == 201
    staff = site.login(site.app.test_client())
    wid = site.workers[0]
    page = staff.get(f"/console/workers/{wid}", headers=EN).text
    cid = int(re.search(r'data-complaint="(\d+)" data-state="open"', page).group(1))
    assert staff_form(site, staff, f"/console/complaints/{cid}/propose",
                      {"outcome": "dismissed", "note": "photo"}, wid).status_code == 303
    x = site.x
    with x.db.session() as s:
        app, _ = admission.submit(s, {
            "name": "北京诚信家政", "uscc": "91110000600037341L", "address": "北京市",
            "legal_representative": "王", "licence_ref": "scan-1", "pledge": True,
            "public_keys": site.world.agency_keys["A330100"].public_key().public_bytes(
                *_pem()).decode(), "username": "bj-admin", "password": "long password 1"},
            x.now(), scrypt_n=x.config["STAFF_SCRYPT_N"])
        admission.approve(s, app.id, "B110000", x.now(), "test")
        second, _ = admission.submit(s, {
            "name": "杭州新家政", "uscc": "91330106MA2CFY4X5F", "address": "杭州市",
            "legal_representative": "李", "licence_ref": "scan-2", "pledge": True,
            "public_keys": site.world.agency_keys["A330101"].public_key().public_bytes(
                *_pem()).decode(), "username": "hz-admin", "password": "long password 2"},
            x.now(), scrypt_n=x.config["STAFF_SCRYPT_N"])
    client = bureau(site)
    q = client.get("/bureau/queues", headers=EN).text
    assert f'<tr data-complaint="{cid}">' in q and "a serious complaint" in q
    assert f'<tr data-application="{second.id}">' in q and "91330106MA2CFY4X5F" in q
    assert f'<tr data-application="{app.id}">' not in q          # approved: not waiting
    drill = client.get("/bureau/agencies/A330100", headers=EN).text
    assert 'id="waiting" data-complaints="1" data-appeals="0"' in drill
    assert 'id="waiting" data-complaints="0"' in client.get("/bureau/agencies/A330101").text
    page = client.get("/bureau/", headers=EN).text
    assert re.search(r'<tr data-district="110000"><td>110000 北京市</td><td class="num">1</td>'
                     r'<td class="num">0</td>', page)
    assert re.search(r'<tr data-district="unknown">.*?<td class="num">2</td>', page)
    assert "W-0000000" not in q and "left the gas on" not in page


def _pem():
    from cryptography.hazmat.primitives import serialization
    return (serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
