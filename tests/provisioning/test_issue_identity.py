"""`provision issue --id-number` over a real pty against the real verifier: the number checked
before anything is sent, the person's file linked across agencies (the other agency's live
badge shown), a bureau ban refusing issuance at the agency, at the other one and at a third
agency's desk with its own exit code and the ban's end date (never its reason) without touching
the badge, and issuance working again after the end while the banned badges stay revoked."""
import datetime
import time
from zoneinfo import ZoneInfo

import pytest

from provisioning.cli import main
from provisioning.errors import IdNumberRejected, PersonBanned
from tests.host.test_idnumber import GOOD, wrong_check_digit

from tests.verifier.conftest import (db_kind, new_database, pg_cluster,  # noqa: F401
                                     sqlite_template)
from testkit.desk import AGENCY_NAME, NDEF_HOST, make_profile, set_profile
from testkit.real_verifier import RealVerifier

from .conftest import AGENCY

OTHER = "A330199"
THIRD = "A330188"


@pytest.fixture
def desk(db_kind, request, tmp_path):  # noqa: F811
    """The provisioning desk (tests/provisioning/conftest.py) with the real verifier on
    SQLite and on PostgreSQL."""
    d = tmp_path / "desk"
    d.mkdir()
    prof, akey, trust, authority, status_key = make_profile(
        d, others=[(THIRD, "第三家政服务社", tmp_path / "third")])
    v = RealVerifier(tmp_path / "verifier", AGENCY, AGENCY_NAME, authority, status_key, trust,
                     NDEF_HOST, new_database(db_kind, request, tmp_path))
    set_profile(d, verifier=v.url, api_key=v.api_key)
    yield prof, akey, trust, authority, v, d
    v.stop()


def test_issue_with_an_id_number_links_the_file_and_a_ban_refuses_until_its_end(
        badge_factory, desk, passphrase, capsys):
    prof, akey, trust_bytes, authority, v, d = desk
    op = v.operator
    v.call("POST", "/api/v1/agencies", {"id": OTHER, "name": "另一家政公司"}, op, 201)
    other_key = v.call("POST", f"/api/v1/agencies/{OTHER}/api-keys", {"label": "b"}, op,
                       201)["api_key"]
    v.call("POST", f"/api/v1/agencies/{OTHER}/workers/enrol",
           {"worker_ref": "W-B1", "id_number": GOOD}, other_key, 200)
    v.call("POST", f"/api/v1/agencies/{OTHER}/badges",
           {"kid": "ab" * 8, "serial": "A4CF12FFFF01", "worker_ref": "W-B1"}, other_key, 201)
    badge = badge_factory(1)
    v.requests.clear()

    def blank(b):
        """The badge says it is blank (read over its serial port: its flash image cannot be
        read from outside while it runs)."""
        assert main(["--port", b.port, "inspect"]) == 0
        return "state      blank" in capsys.readouterr().out

    def issue(b, *extra, profile=prof):
        rc = main(["--port", b.port, "--profile", str(profile), "issue", "--worker",
                   "W-0000042", *extra])
        return rc, capsys.readouterr()

    # a wrong check digit: refused here, nothing sent, the badge not touched
    rc, out = issue(badge, "--id-number", wrong_check_digit(GOOD))
    assert rc == IdNumberRejected.exit_code == 28, out.err
    assert "校验位" in out.err and "check digit" in out.err
    assert v.requests == [] and blank(badge)

    # issued, linked to the file the other agency made; its live badge is shown
    rc, out = issue(badge, "--id-number", GOOD)
    assert rc == 0, out.err
    assert "other agencies" in out.out and OTHER in out.out and "A4CF12FFFF01" in out.out
    assert GOOD not in out.out + out.err
    bureau = v.bureau_key()
    (person,) = v.call("GET", f"/api/v1/bureau/persons?agency={AGENCY}&serial=A4CF12000001",
                       key=bureau, expect=200)["persons"]
    assert person["agencies"] == [AGENCY, OTHER]

    # banned for a few seconds from now
    now = int(time.time())
    r = v.call("POST", "/api/v1/bureau/bans", {
        "person_hash": person["person_hash"], "category": "theft",
        "legal_basis": "case 2026-17", "decided_by": "bureau", "appeal_route": "in writing",
        "starts_at": now - 60, "ends_at": now + 30}, bureau, 201)
    assert r["badges_revoked"] == 2
    # the verifier signs this agency's list; it holds no key of the other's (its agency
    # publishes it): said so, not hidden
    assert r["status_lists"] == {AGENCY: "published", OTHER: "no_key"}
    day = datetime.datetime.fromtimestamp(now + 30, ZoneInfo("Asia/Shanghai")).date()

    def refused(out, agency):
        assert day.isoformat() in out.err and "商务局" in out.err and "bureau" in out.err
        assert "theft" not in out.err and "2026-17" not in out.err
        assert v.requests == [("POST", f"/api/v1/agencies/{agency}/workers/enrol")]
        v.requests.clear()
        return True

    second = badge_factory(2)
    v.requests.clear()
    rc, out = issue(second, "--id-number", GOOD)
    assert rc == PersonBanned.exit_code == 29, out.err
    assert refused(out, AGENCY) and blank(second)              # the badge was not touched

    # a third agency, admitted after the ban, at its own desk: refused the same way
    v.call("POST", "/api/v1/agencies", {"id": THIRD, "name": "第三家政服务社"}, op, 201)
    third_key = v.call("POST", f"/api/v1/agencies/{THIRD}/api-keys", {"label": "c"}, op,
                       201)["api_key"]
    third = set_profile(d.parent / "third", verifier=v.url, api_key=third_key)
    v.requests.clear()
    rc, out = issue(second, "--id-number", GOOD, profile=third)
    assert rc == PersonBanned.exit_code, out.err
    assert refused(out, THIRD) and blank(second)

    # after its end: the third agency issues; the badges revoked by the ban stay revoked
    v.app.config["FIXED_NOW"] = now + 31
    rc, out = issue(second, "--id-number", GOOD, profile=third)
    assert rc == 0, out.err
    assert not blank(second)                             # (the earlier look was a real one)
    assert [(b["serial"], b["state"]) for b in v.badges()] == [("A4CF12000001", "revoked")]

    def states(agency, key):
        (w,) = v.call("GET", f"/api/v1/agencies/{agency}/workers", key=key,
                      expect=200)["workers"]
        return [(b["serial"], b["state"]) for b in v.call(
            "GET", f"/api/v1/agencies/{agency}/workers/{w['id']}", key=key,
            expect=200)["badges"]]
    assert states(OTHER, other_key) == [("A4CF12FFFF01", "revoked")]
    assert states(THIRD, third_key) == [("A4CF12000002", "active")]
    (person,) = v.call("GET", f"/api/v1/bureau/persons?agency={THIRD}&serial=A4CF12000002",
                       key=bureau, expect=200)["persons"]
    assert person["agencies"] == [AGENCY, THIRD, OTHER]        # one file, three agencies
