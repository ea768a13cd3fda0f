"""The disclosure log (services/disclosures.py): which views of a worker's data add which
rows (kind, role, scope), what adds none, the order a worker reads them in, the purge after
the retention period and the erasure at 注销 that keeps only anonymised counts; on SQLite
and PostgreSQL."""
import csv
import io
from collections import Counter
from datetime import datetime, timezone

import pytest
from sqlalchemy import event, func, inspect, select

from host import wire
from host.wire import keys as wire_keys
from host.wire.tap import SCOPE_AGENCY, SCOPE_CERTIFICATES, SCOPE_HEALTH
from tests.host.test_idnumber import GOOD
from tests.verifier.conftest import b64, make_app
from tests.web.conftest import AGENCY, STAFF_USER, Site
from tests.web.test_employer_page import EN, verdict
from tests.web.test_visits import arrive
from verifier.models import Disclosure, Household, Person, Tap, TapView
from verifier.services import disclosures, registry

DAY = 86400
OTHER = "A330101"


def ref(i):
    return f"W-{i:07d}"


def rows(site, worker_ref=None):
    """Every disclosure (of one worker), oldest first, as plain tuples."""
    with site.x.db.session() as s:
        q = select(Disclosure.agency_id, Disclosure.worker_ref, Disclosure.at,
                   Disclosure.kind, Disclosure.role, Disclosure.scope).order_by(Disclosure.id)
        if worker_ref is not None:
            q = q.where(Disclosure.worker_ref == worker_ref)
        return [tuple(r) for r in s.execute(q)]


def total(site):
    with site.x.db.session() as s:
        return s.scalar(select(func.count(Disclosure.id)))


def later(site, seconds):
    site.app.config["FIXED_NOW"] = site.x.now() + seconds


# -- the employer's phone -----------------------------------------------------------------

def test_a_status_tap_is_one_status_disclosure_to_the_employer(site):
    now = site.x.now()
    path = site.tap_path(0)
    r = site.client.get(path, headers=EN)
    assert verdict(r) == ("green", "ok")
    assert rows(site) == [(AGENCY, ref(0), now, "status", "employer", None)]
    later(site, 60)
    assert site.client.get(path, headers=EN).status_code == 200     # a reload: the same view
    assert total(site) == 1


def test_a_consent_tap_records_the_scope_it_showed(site):
    now = site.x.now()
    r = site.client.get(site.tap_path(3, "consent", scope=SCOPE_CERTIFICATES | SCOPE_HEALTH),
                        headers=EN)
    assert verdict(r)[0] == "green" and "育婴员" in r.text
    later(site, 1)
    r = site.client.get(site.tap_path(1, "consent"), headers=EN)        # every bit (63)
    assert verdict(r)[0] == "green"
    r = site.client.get(site.tap_path(5, "consent", scope=SCOPE_AGENCY), headers=EN)
    assert verdict(r)[0] == "green"
    assert rows(site) == [
        (OTHER, ref(3), now, "consent", "employer", "certificates,health"),
        (OTHER, ref(1), now + 1, "consent", "employer",
         "certificates,health,insurance,credit,attendance"),
        (OTHER, ref(5), now + 1, "consent", "employer", "")]   # the agency: on every page


def test_a_replayed_reused_or_refused_tap_adds_nothing(site):
    older = site.tap_path(0)
    newer = site.tap_path(0)
    assert verdict(site.client.get(newer, headers=EN)) == ("green", "ok")
    assert total(site) == 1
    other = site.app.test_client()
    assert verdict(other.get(newer, headers=EN)) == ("red", "already_used")
    assert verdict(site.client.get(older, headers=EN)) == ("red", "replayed")
    assert verdict(site.client.get(site.tap_path(2), headers=EN)) == ("red", "revoked")
    assert site.client.get("/t/AAAA", headers=EN).status_code == 400
    assert total(site) == 1


def test_a_failure_to_record_fails_the_view_and_books_nothing(site, monkeypatch):
    """Same transaction: the tap is not booked when its disclosure cannot be written, so the
    view fails cleanly and the same tap shows (and is recorded) once the log works again."""
    def broken(*a, **kw):
        raise RuntimeError("the disclosure log is unavailable")
    path = site.tap_path(0)
    monkeypatch.setattr(disclosures, "record", broken)
    with pytest.raises(RuntimeError):
        site.client.get(path, headers=EN)
    with site.x.db.session() as s:
        assert s.scalar(select(func.count(TapView.id))) == 0
        assert s.scalar(select(func.count(Tap.id)).where(Tap.purpose != "checkin")) == 0
    monkeypatch.undo()
    assert verdict(site.client.get(path, headers=EN)) == ("green", "ok")
    assert [r[3] for r in rows(site)] == ["status"]


def test_a_confirmed_visit_gives_its_views_the_households_pseudonym(db_url, world):
    app = make_app(db_url, world, RECEIPT_SIGNING_KEY=wire_keys.generate())
    site = Site(app, world)
    try:
        c = app.test_client()
        _, r = arrive(site, 0, c)
        assert r.status_code == 201, r.text
        site.client.get(site.tap_path(4), headers=EN)          # no visit: no household
        with site.x.db.session() as s:
            pseudonym = s.scalar(select(Household.pseudonym))
            got = [(d["kind"], d["household"]) for d in
                   disclosures.for_worker(s, AGENCY, ref(0))]
            other = [d["household"] for d in disclosures.for_worker(s, AGENCY, ref(4))]
        assert pseudonym and got == [("status", pseudonym)]
        assert other == [None]
    finally:
        site.x.db.engine.dispose()


# -- /api/v1/verify ------------------------------------------------------------------------

def test_the_verify_api_records_its_callers_role(site):
    now = site.x.now()
    token, cred = site.tap(0)
    r = site.client.post("/api/v1/verify", json={"token": b64(token), "credential": b64(cred)})
    assert r.status_code == 200 and r.json["valid"]
    r = site.client.post("/api/v1/verify", json={"token": b64(token), "credential": b64(cred)})
    assert (r.status_code, r.json["reason"]) == (422, "replayed")
    token, cred = site.tap(4, "consent")
    r = site.client.post("/api/v1/verify", headers=site.auth(AGENCY),
                         json={"token": b64(token), "credential": b64(cred)})
    assert r.status_code == 200 and r.json["valid"]
    item = site.checkin_item(6)                         # verified, not booked, not shown
    r = site.client.post("/api/v1/verify", json={"token": item["token"],
                                                 "credential": item["credential"]})
    assert r.status_code == 200 and r.json["purpose"] == "checkin"
    assert rows(site) == [(AGENCY, ref(0), now, "status", "public", None),
                          (AGENCY, ref(4), now, "status", f"api:{AGENCY}", None)]


# -- the agency ---------------------------------------------------------------------------

def test_a_staff_view_of_the_worker_page(site):
    c = site.login()
    now = site.x.now()
    assert c.get(f"/console/workers/{site.workers[0]}", headers=EN).status_code == 200
    assert c.get(f"/console/workers/{site.workers[1]}", headers=EN).status_code == 404
    assert c.get("/console/workers", headers=EN).status_code == 200    # the list: no one
    assert rows(site) == [(AGENCY, ref(0), now, "staff", f"staff:{STAFF_USER}", None)]


def test_the_apis_reads_of_one_worker(site):
    now = site.x.now()
    wid = site.workers[2]
    r = site.client.get(f"/api/v1/agencies/{AGENCY}/workers/{wid}", headers=site.auth(AGENCY))
    assert r.status_code == 200 and r.json["name"] == "工人2"
    r = site.client.get(f"/api/v1/agencies/{AGENCY}/workers/{wid}/attendance",
                        headers=site.auth())
    assert r.status_code == 200
    r = site.client.get(f"/api/v1/agencies/{OTHER}/workers/{wid}", headers=site.auth(AGENCY))
    assert r.status_code == 403
    assert rows(site) == [(AGENCY, ref(2), now, "staff", f"api:{AGENCY}", None),
                          (AGENCY, ref(2), now, "staff", "api:operator", None)]


def _inserts(site):
    """A list that collects the INSERT statements into the disclosure log."""
    seen = []

    def before(conn, cursor, statement, params, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO DISCLOSURES"):
            seen.append(executemany)
    event.listen(site.x.db.engine, "before_cursor_execute", before)
    return seen


def test_an_export_records_each_worker_in_it_in_one_statement(site):
    now = site.x.now()
    seen = _inserts(site)
    r = site.client.get(f"/api/v1/agencies/{AGENCY}/export?period=2026-12",
                        headers=site.auth(AGENCY))
    assert r.status_code == 200
    in_file = {row["worker_ref"] for row in csv.DictReader(io.StringIO(r.text))}
    assert in_file == {ref(i) for i in (0, 2, 4, 6)}
    got = rows(site)
    assert sorted(r[1] for r in got) == sorted(in_file)            # one row each, no more
    assert {(r[0], r[2], r[3], r[4]) for r in got} == {(AGENCY, now, "export",
                                                        f"api:{AGENCY}")}
    assert seen == [False]                        # one INSERT … SELECT, not one per worker
    # the console's download of the same month: the same set again, as the signed-in user
    c = site.login()
    assert c.get("/console/reports/2026-12.csv").status_code == 200
    staff_rows = [r for r in rows(site) if r[4] == f"staff:{STAFF_USER}"]
    assert sorted(r[1] for r in staff_rows) == sorted(in_file)
    assert {r[3] for r in staff_rows} == {"export"}
    assert c.get("/console/reports/?period=2026-12").status_code == 200   # a page, not a file
    assert total(site) == 2 * len(in_file)


def test_the_worker_list_is_an_export_of_every_worker(site):
    r = site.client.get(f"/api/v1/agencies/{OTHER}/workers", headers=site.auth(OTHER))
    assert r.status_code == 200
    listed = {w["worker_ref"] for w in r.json["workers"]}
    got = rows(site)
    assert sorted(r[1] for r in got) == sorted(listed) and len(listed) == 4
    assert {(r[0], r[3], r[4]) for r in got} == {(OTHER, "export", f"api:{OTHER}")}


# -- the bureau ---------------------------------------------------------------------------

def test_the_bureau_reading_a_person_file_is_a_staff_view_of_each_of_its_workers(site):
    for agency, i in ((AGENCY, 0), (OTHER, 1)):
        r = site.client.post(f"/api/v1/agencies/{agency}/workers/enrol",
                             headers=site.auth(agency),
                             json={"worker_ref": ref(i), "id_number": GOOD})
        assert r.status_code == 200, r.json
    assert total(site) == 0                                  # enrolment shows nothing
    with site.x.db.session() as s:
        key = registry.create_api_key(s, None, "bureau", site.x.now(), "test", role="bureau")
        digest = s.scalar(select(Person.person_hash))
    r = site.client.get(f"/api/v1/bureau/persons/{digest}",
                        headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200 and len(r.json["person"]["workers"]) == 2
    now = site.x.now()
    assert sorted(rows(site)) == [(AGENCY, ref(0), now, "staff", "bureau", None),
                                  (OTHER, ref(1), now, "staff", "bureau", None)]


# -- reading, purging and erasing ---------------------------------------------------------

def test_for_worker_returns_the_disclosures_newest_first(site):
    now = site.x.now()
    with site.x.db.session() as s:
        disclosures.record(s, AGENCY, ref(0), now - 2 * DAY, "staff", "staff:anna")
        disclosures.record(s, AGENCY, ref(0), now - DAY, "export", "api:A330100")
        disclosures.record(s, AGENCY, ref(2), now - DAY // 2, "staff", "staff:anna")
    site.client.get(site.tap_path(0, "consent", scope=SCOPE_HEALTH), headers=EN)
    with site.x.db.session() as s:
        got = disclosures.for_worker(s, AGENCY, ref(0), 10)
        assert disclosures.for_worker(s, AGENCY, ref(0), 2) == got[:2]
        assert disclosures.for_worker(s, OTHER, ref(0), 10) == []
    assert got == [
        {"at": now, "kind": "consent", "scope": ["health"], "role": "employer",
         "household": None},
        {"at": now - DAY, "kind": "export", "scope": None, "role": "api:A330100",
         "household": None},
        {"at": now - 2 * DAY, "kind": "staff", "scope": None, "role": "staff:anna",
         "household": None}]


def _month(t):
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m")


def test_purge_removes_only_rows_older_than_the_retention_and_counts_them(site):
    now = site.x.now()
    keep = 3 * 365 * DAY
    with site.x.db.session() as s:
        for t, kind in ((now - keep - 1, "staff"), (now - keep - 40 * DAY, "staff"),
                        (now - keep, "status"), (now - 10, "export")):
            disclosures.record(s, AGENCY, ref(0), t, kind, "staff:anna")
    with site.x.db.session() as s:
        assert disclosures.purge(s, now, keep) == 2
    assert [r[2] for r in rows(site)] == [now - keep, now - 10]
    with site.x.db.session() as s:
        assert disclosures.counts(s) == sorted(
            [{"agency": AGENCY, "month": _month(t), "kind": "staff", "count": 1}
             for t in (now - keep - 1, now - keep - 40 * DAY)], key=lambda c: c["month"])
    # the nightly command: DISCLOSURE_RETENTION_DAYS (three years unless configured)
    assert site.app.config["DISCLOSURE_RETENTION_DAYS"] == 3 * 365
    later(site, 1)
    result = site.app.test_cli_runner().invoke(args=["disclosures-purge"])
    assert result.exit_code == 0, result.output
    assert "1 disclosure(s) older than 1095 days purged" in result.output
    assert [r[2] for r in rows(site)] == [now - 10]


def test_cancel_erases_the_workers_log_and_keeps_its_counts(site):
    site.client.get(site.tap_path(0), headers=EN)
    site.client.get(site.tap_path(4), headers=EN)
    later(site, 40 * DAY)                                     # another month
    c = site.login(site.app.test_client())
    assert c.get(f"/console/workers/{site.workers[0]}", headers=EN).status_code == 200
    site.client.get(f"/api/v1/agencies/{AGENCY}/export?period=2026-12",
                    headers=site.auth(AGENCY))
    mine = rows(site, ref(0))
    others = rows(site, ref(4))
    assert len(mine) == 3 and len(others) == 2
    expected = Counter((_month(r[2]), r[3]) for r in mine)
    with site.x.db.session() as s:
        assert disclosures.counts(s) == []
    r = site.client.post(f"/api/v1/agencies/{AGENCY}/workers/{site.workers[0]}/cancel",
                         headers=site.auth(AGENCY), json={"reason": "注销"})
    assert r.status_code == 200, r.json
    assert rows(site, ref(0)) == [] and rows(site, ref(4)) == others
    with site.x.db.session() as s:
        assert disclosures.for_worker(s, AGENCY, ref(0), 10) == []
        got = disclosures.counts(s)
    assert Counter({(g["month"], g["kind"]): g["count"] for g in got}) == expected
    assert {g["agency"] for g in got} == {AGENCY}
    assert len(expected) == 3 and sum(expected.values()) == len(mine)


def test_nothing_about_the_viewer_is_stored(site):
    """The columns are exactly these: no address, browser, cookie or person of the viewer."""
    with site.x.db.session() as s:
        columns = {c["name"] for c in inspect(s.get_bind()).get_columns("disclosures")}
        counts = {c["name"] for c in inspect(s.get_bind()).get_columns("disclosure_counts")}
    assert columns == {"id", "agency_id", "worker_ref", "at", "kind", "role", "scope",
                       "household_id", "token_hash"}
    assert counts == {"id", "agency_id", "month", "kind", "count"}     # no worker at all
    ua = "Mozilla/5.0 (Linux; Android 14; Pixel 8) DisclosureTest/1.0"
    r = site.client.get(site.tap_path(0), headers={**EN, "User-Agent": ua},
                        environ_base={"REMOTE_ADDR": "203.0.113.7"})
    assert verdict(r) == ("green", "ok")
    viewer = site.client.get_cookie("xv", path="/t/").value
    from verifier.services.employer import viewer_hash
    with site.x.db.session() as s:
        (row,) = s.scalars(select(Disclosure)).all()
        values = [str(getattr(row, c)) for c in columns]
    for personal in (ua, "203.0.113.7", viewer, viewer_hash(viewer)):
        assert not any(personal in v for v in values), personal


def test_a_disclosure_needs_a_known_kind_and_a_role(site):
    with site.x.db.session() as s:
        with pytest.raises(ValueError):
            disclosures.record(s, AGENCY, ref(0), 1, "gossip", "employer")
        with pytest.raises(ValueError):
            disclosures.record(s, AGENCY, ref(0), 1, "status", "")
        with pytest.raises(ValueError):
            disclosures.purge(s, 100, 0)
    assert total(site) == 0


def test_scope_names_follow_the_token_bits():
    assert disclosures.scope_names(0) == ""
    assert disclosures.scope_names(wire.tap.SCOPE_CREDIT | SCOPE_CERTIFICATES) == \
        "certificates,credit"
