"""The national export (docs/national-export.md): valid against its JSON Schema, the same
figures as the bureau's credit API, the same rows as CSV and from the CLI, a bureau key only,
and nothing personal in it. SQLite and PostgreSQL."""
import csv
import io
import json
import pathlib

import jsonschema

from tests.web.test_complaints import bureau_key
from verifier.models import Worker
from verifier.services import national

SCHEMA = json.loads((pathlib.Path(__file__).resolve().parents[2] / "docs" /
                     "national-export.schema.json").read_text(encoding="utf-8"))


def test_export_is_valid_consistent_and_has_nothing_personal(site, tmp_path):
    site.enrol_and_ban([("A330100", "W-0000000")], "11010519491231002X")
    auth = {"Authorization": f"Bearer {bureau_key(site)}"}
    r = site.client.get("/api/v1/bureau/export", headers=auth)
    assert r.status_code == 200
    data = r.json
    jsonschema.validate(data, SCHEMA, format_checker=jsonschema.FormatChecker())
    assert (data["format"], data["version"], data["period"]) == \
        ("xinka-national-export", 1, "2027-01")
    # the same figures as the bureau's credit API, agency by agency
    for a in data["agencies"]:
        f = site.client.get(f"/api/v1/bureau/agencies/{a['id']}/credit", headers=auth).json
        for dim in ("compliance", "service_quality", "performance", "social_responsibility"):
            assert a[dim] == f[dim], (a["id"], dim)
        assert a["active_workers"] == f["active_workers"]
    by_id = {a["id"]: a for a in data["agencies"]}
    # badges: 8 over two agencies, 2 revoked by the Site set-up and the ban (badge 0)
    assert by_id["A330100"]["badges"] == {"active": 0, "suspended": 0, "lost": 0,
                                          "revoked": 2}
    assert sum(a["grades"][g] for a in data["agencies"] for g in "ABCD") == 8
    assert data["totals"]["grades"]["B"] + data["totals"]["grades"]["C"] == 8
    assert data["totals"]["active_workers"] == 8 and data["totals"]["bans_in_force"] == 1
    [ban] = data["bans"]
    assert len(ban["person_hash"]) == 64 and set(ban) == {"person_hash", "hash_key",
                                                          "category", "starts_at", "ends_at"}
    # nothing personal anywhere in it
    text = json.dumps(data, ensure_ascii=False)
    with site.x.db.session() as s:
        for w in s.query(Worker):
            assert w.worker_ref not in text and (not w.name or w.name not in text)
    assert "11010519491231002X" not in text and "case 17" not in text   # nor the legal basis
    # CSV: one row per agency, the same numbers
    r = site.client.get("/api/v1/bureau/export?format=csv", headers=auth)
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert tuple(rows[0]) == national.CSV_COLUMNS
    assert [row["id"] for row in rows] == sorted(by_id)
    for row in rows:
        a = by_id[row["id"]]
        assert int(row["grade_B"]) == a["grades"]["B"]
        assert int(row["badges_revoked"]) == a["badges"]["revoked"]
        rate = a["performance"]["checkin_rate"]
        assert row["checkin_rate"] == ("" if rate is None else str(rate))
    # the CLI writes the same document
    out = site.app.test_cli_runner().invoke(args=["national-export"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output) == data
    out = site.app.test_cli_runner().invoke(args=["national-export", "--format", "csv"])
    assert out.output.replace("\r\n", "\n") == r.text.replace("\r\n", "\n")
    target = tmp_path / "national.csv"
    out = site.app.test_cli_runner().invoke(args=["national-export", "--format", "csv",
                                                  "--out", str(target)])
    assert out.exit_code == 0 and target.read_bytes() == r.data     # CRLF kept


def test_only_the_bureau_gets_the_export(site):
    for headers in (site.auth("A330100"), {"Authorization": f"Bearer {site.operator}"}, {}):
        r = site.client.get("/api/v1/bureau/export", headers=headers)
        assert r.status_code in (401, 403), headers
