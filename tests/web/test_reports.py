"""The monthly report: the same numbers as the attendance API, the heat map's days equal the
daily API, CSV and XLSX with Chinese headers and the right rows."""
import csv
import io
import re

from openpyxl import load_workbook

from tests.web.conftest import AGENCY, DECEMBER
from tests.web.test_employer_page import EN
from verifier.services import reports

PERIOD = "2026-12"
HEADERS_ZH = ["工号", "姓名", "已打卡", "打卡次数", "首次打卡", "首次打卡终端", "末次打卡",
              "末次打卡终端"]


def api(site, path):
    r = site.client.get(f"/api/v1/agencies/{AGENCY}/{path}", headers=site.auth(AGENCY))
    assert r.status_code == 200, r.json
    return r.json


def test_report_page_matches_the_api(site):
    rep = api(site, f"attendance?period={PERIOD}")
    daily = api(site, f"attendance/daily?period={PERIOD}")
    c = site.login()
    r = c.get(f"/console/reports/?period={PERIOD}", headers=EN)
    assert r.status_code == 200
    t = r.text
    m = re.search(r'id="summary" data-present="(\d+)" data-missing="(\d+)"', t)
    assert (int(m.group(1)), int(m.group(2))) == (rep["present_count"], rep["missing_count"])
    # badges 0, 2, 6 checked in; worker 4 did not (all four are older than the period)
    assert rep["present_count"] == 3 and [w["worker_ref"] for w in rep["missing"]] == \
        ["W-0000004"]
    rows = dict(re.findall(r'<tr data-ref="([\w-]+)" data-count="(\d+)">', t))
    assert rows == {p["worker_ref"]: str(p["count"]) for p in rep["present"]}
    missing = re.findall(r'<tr data-ref="([\w-]+)"><td>', t)
    assert missing == [w["worker_ref"] for w in rep["missing"]]
    # the heat map: one cell per day of December, counts as the daily API
    cells = re.findall(r'data-date="([\d-]+)" data-checkins="(\d+)"', t)
    assert len(cells) == 31
    assert cells == [(d["date"], str(d["checkins"])) for d in daily["days"]]
    assert daily["checkins"] == sum(p["count"] for p in rep["present"]) == \
        sum(len(v) for v in DECEMBER.values())
    assert dict(cells)["2026-12-10"] == "2" and dict(cells)["2026-12-03"] == "2"
    assert "<svg" in t and 'id="heatmap"' in t


def test_heatmap_starts_on_the_right_weekday():
    days = [{"date": f"2026-12-{d:02d}", "checkins": d % 3, "workers": 1}
            for d in range(1, 32)]
    cal = reports.calendar(days)
    assert cal["weeks"][0][:1] == [None]              # 1 Dec 2026 is a Tuesday
    assert cal["weeks"][0][1]["day"] == 1 and cal["weeks"][0][1]["x"] == 1
    assert cal["max"] == 2 and {c["level"] for w in cal["weeks"] for c in w if c} == {0, 3, 5}


def _csv_rows(text):
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_csv_export(site):
    rep = api(site, f"attendance?period={PERIOD}")
    c = site.login()
    r = c.get(f"/console/reports/{PERIOD}.csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert "attachment" in r.headers["Content-Disposition"]
    rows = _csv_rows(r.data.decode("utf-8"))
    assert rows[0] == HEADERS_ZH
    body = {row[0]: row for row in rows[1:]}
    assert len(rows) - 1 == rep["present_count"] + rep["missing_count"]
    for p in rep["present"]:
        assert body[p["worker_ref"]][2:4] == ["是", str(p["count"])]
    assert body["W-0000004"][2:4] == ["否", "0"]
    assert body["W-0000000"][1] == "工人0"
    assert body["W-0000000"][4] == "2026-12-01 08:00"


def test_xlsx_export_opens_with_the_right_rows(site):
    rep = api(site, f"attendance?period={PERIOD}")
    daily = api(site, f"attendance/daily?period={PERIOD}")
    c = site.login()
    r = c.get(f"/console/reports/{PERIOD}.xlsx")
    assert r.status_code == 200 and r.mimetype.endswith("spreadsheetml.sheet")
    wb = load_workbook(io.BytesIO(r.data))
    assert wb.sheetnames == ["考勤", "每日", "入户服务"]
    rows = list(wb["考勤"].iter_rows(values_only=True))
    assert list(rows[0]) == HEADERS_ZH
    want = [(p["worker_ref"], "是", p["count"]) for p in rep["present"]] + \
        [(m["worker_ref"], "否", 0) for m in rep["missing"]]
    assert [(row[0], row[2], row[3]) for row in rows[1:]] == want
    days = list(wb["每日"].iter_rows(values_only=True))
    assert list(days[0]) == ["日期", "打卡次数", "服务员"]
    assert [(d, n) for d, n, _ in days[1:]] == [(d["date"], d["checkins"])
                                                 for d in daily["days"]]


def test_exports_neutralise_formulas(site):
    from verifier.models import Worker
    with site.x.db.session() as s:
        s.get(Worker, site.workers[4]).name = "=HYPERLINK(\"http://x\")"
    c = site.login()
    rows = _csv_rows(c.get(f"/console/reports/{PERIOD}.csv").data.decode())
    assert {r[0]: r for r in rows}["W-0000004"][1].startswith("'=")
    wb = load_workbook(io.BytesIO(c.get(f"/console/reports/{PERIOD}.xlsx").data))
    names = [row[1] for row in wb["考勤"].iter_rows(values_only=True)]
    assert "'=HYPERLINK(\"http://x\")" in names


def test_daily_api_auth_and_bad_period(site):
    r = site.client.get(f"/api/v1/agencies/{AGENCY}/attendance/daily?period={PERIOD}")
    assert r.status_code == 401
    r = site.client.get(f"/api/v1/agencies/{AGENCY}/attendance/daily?period={PERIOD}",
                        headers=site.auth("A330101"))
    assert r.status_code == 403
    r = site.client.get(f"/api/v1/agencies/{AGENCY}/attendance/daily?period=2026-13",
                        headers=site.auth(AGENCY))
    assert r.status_code == 400
    c = site.login()
    assert c.get("/console/reports/2026-13.xlsx").status_code == 400
    r = c.get("/console/reports/?period=garbage", headers=EN)
    assert r.status_code == 200 and "2027-01" in r.text      # falls back to this month
