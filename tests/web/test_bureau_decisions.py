"""The bureau's decisions from its console: an admission application sent back, amended and
approved (the agency, its first login and its keys for the trust list), an escalated complaint
decided, appeals decided (one of a grade, its reasons ticked), a ban lifted. Each takes the same
service path as the bureau API, refuses bad input with the page naming the problem and writes
nothing, needs the session's CSRF token and the bureau role, and lands in the hash-chained
audit log under the signed-in user. SQLite and PostgreSQL."""
import json
import re

from sqlalchemy import func, select

from tests.web.conftest import _field
from tests.web.test_bureau_console import BUREAU_USER, _pem, bureau
from tests.web.test_complaints import bureau_key, complain, staff_form
from tests.web.test_employer_page import EN
from tests.web.test_grades import appeal as file_appeal, complaint_id
from tests.web.test_visits import visit_done, vsite  # noqa: F401
from verifier.models import (Agency, AgencyApplication, Appeal, AuditEntry, Ban, Complaint,
                             CreditRecord, StaffUser)
from verifier.services import admission, audit, grades

ACTOR = f"staff:{BUREAU_USER}"


def form(client, page, path, data):
    """POST `data` to `path` with the CSRF token of the page the form is on."""
    token = _field(client.get(page).text, "csrf")
    return client.post(path, headers=EN, data=dict(data, csrf=token))


def last_audit(site):
    with site.x.db.session() as s:
        e = s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).one()
        return e.action, e.actor, e.subject


def count(site, model):
    with site.x.db.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def apply(site, uscc="91110000600037341L", username="bj-admin"):
    x = site.x
    with x.db.session() as s:
        app, token = admission.submit(s, {
            "name": "北京诚信家政", "uscc": uscc, "address": "北京市朝阳区",
            "legal_representative": "王芳", "licence_ref": "scan-1.pdf", "pledge": True,
            "public_keys": site.world.agency_keys["A330100"].public_key().public_bytes(
                *_pem()).decode(), "username": username, "password": "long password 1"},
            x.now(), scrypt_n=x.config["STAFF_SCRYPT_N"])
        return app.id, token


def escalated_complaint(site):
    """A serious complaint about worker 0 the agency proposed to dismiss: with the bureau.
    (staff client, complaint id)."""
    hh = site.app.test_client()
    assert complain(site, hh, visit_done(site, 0, hh)).status_code == 201
    staff = site.login(site.app.test_client())
    cid = complaint_id(site, staff, 0)
    assert staff_form(site, staff, f"/console/complaints/{cid}/propose",
                      {"outcome": "dismissed", "note": "photo"}, site.workers[0]
                      ).status_code == 303
    return staff, cid


def test_an_application_sent_back_amended_and_approved(site):
    app_id, token = apply(site)
    client = bureau(site)
    page = f"/bureau/applications/{app_id}"
    r = client.get(page, headers=EN)
    assert 'id="application" data-state="submitted"' in r.text
    assert "91110000600037341L" in r.text and "王芳" in r.text and "long password" not in r.text
    assert f'<tr data-application="{app_id}">' in client.get("/bureau/queues").text
    # no note, no CSRF token, an agency's staff: refused, nothing changed
    r = form(client, page, f"{page}/request-changes", {"note": "  "})
    assert r.status_code == 400 and "say what to change" in r.text
    r = client.post(f"{page}/request-changes", data={"note": "x"})
    assert r.status_code == 403
    staff = site.login(site.app.test_client())
    r = staff.post(f"{page}/approve", data={"agency_id": "B110000",
                                            "csrf": _field(staff.get("/console/workers").text,
                                                           "csrf")})
    assert r.status_code == 403 and count(site, Agency) == 2
    with site.x.db.session() as s:
        assert admission.get(s, app_id).state == "submitted"
    # sent back: the applicant's note, then the amendment
    r = form(client, page, f"{page}/request-changes", {"note": "licence scan unreadable"})
    assert r.status_code == 303 and r.headers["Location"].endswith("done=request-changes")
    assert last_audit(site) == ("admission.request_changes", ACTOR, f"application {app_id}")
    r = client.get(page, headers=EN)
    assert 'data-state="changes_requested"' in r.text and "licence scan unreadable" in r.text
    assert 'id="approve"' not in r.text
    r = form(client, "/bureau/queues", f"{page}/approve", {"agency_id": "B110000"})
    assert r.status_code == 409 and count(site, Agency) == 2          # not while sent back
    with site.x.db.session() as s:
        row = admission.get(s, app_id)
        admission.amend(s, app_id, token, dict(admission.to_json(row), licence_ref="scan-2.pdf",
                                               public_keys=row.public_keys), site.x.now())
    # approval: a bad id names the rule and writes nothing; then the agency and its login
    for bad in ("", "B", "B 110", "B110000/x", "x" * 33):
        r = form(client, page, f"{page}/approve", {"agency_id": bad})
        assert r.status_code == 400 and "agency_id: 2..32 letters" in r.text, bad
    r = form(client, page, f"{page}/approve", {"agency_id": "A330100"})
    assert r.status_code == 409 and "exists" in r.text
    assert count(site, Agency) == 2 and count(site, StaffUser) == 2
    r = form(client, page, f"{page}/approve", {"agency_id": "B110000"})
    assert r.status_code == 303
    assert last_audit(site) == ("admission.approve", ACTOR, f"application {app_id}")
    with site.x.db.session() as s:
        assert s.get(Agency, "B110000").name == "北京诚信家政"
        login = s.scalar(select(StaffUser).where(StaffUser.username == "bj-admin"))
        assert (login.agency_id, login.role) == ("B110000", "agency")
        assert s.get(AgencyApplication, app_id).decided_by == ACTOR
    r = client.get(page, headers=EN)
    assert 'data-state="approved"' in r.text and "xinka-authority agency add B110000" in r.text
    keys = client.get(f"{page}/keys.pem")
    assert keys.headers["X-Agency-Id"] == "B110000"
    assert keys.data.decode() == site.world.agency_keys["A330100"].public_key().public_bytes(
        *_pem()).decode()
    assert f'<tr data-application="{app_id}">' not in client.get("/bureau/queues").text
    assert 'id="refuse"' not in r.text and 'id="approve"' not in r.text
    r = form(client, page, f"{page}/refuse", {"note": "too late"})
    assert r.status_code == 409                                    # approved is final
    # a second application is refused with its reason
    other, _ = apply(site, "91330106MA2CFY4X5F", "hz-admin")
    r = form(client, f"/bureau/applications/{other}", f"/bureau/applications/{other}/refuse",
             {"note": "no licence"})
    assert r.status_code == 303
    assert last_audit(site) == ("admission.refuse", ACTOR, f"application {other}")
    assert client.get(f"/bureau/applications/{other}/keys.pem").status_code == 409
    assert client.get("/bureau/applications/999").status_code == 404
    assert client.post(f"{page}/promote", data={}).status_code in (403, 404)


def test_a_complaint_and_appeals_decided_from_the_console(vsite):  # noqa: F811
    site = vsite
    staff, cid = escalated_complaint(site)
    client = bureau(site)
    page = f"/bureau/complaints/{cid}"
    r = client.get(page, headers=EN)
    assert 'id="complaint" data-state="escalated"' in r.text and "left the gas on" in r.text
    assert "dismissed" in r.text and "W-0000000" not in r.text
    assert f'href="/bureau/complaints/{cid}"' in client.get("/bureau/queues").text
    r = form(client, page, f"{page}/decision", {"outcome": "maybe", "note": "x"})
    assert r.status_code == 400
    with site.x.db.session() as s:
        assert s.get(Complaint, cid).state == "escalated"
    r = form(client, page, f"{page}/decision", {"outcome": "upheld",
                                                "note": "<script>alert(1)</script>"})
    assert r.status_code == 303
    assert last_audit(site)[:2] == ("complaint.decide", ACTOR)
    with site.x.db.session() as s:
        c = s.get(Complaint, cid)
        assert (c.state, c.outcome, c.decided_by) == ("closed", "upheld", "bureau")
    r = client.get(page, headers=EN)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text and "<script>alert" not in r.text
    assert 'id="decide"' not in r.text
    r = form(client, page, f"{page}/decision", {"outcome": "dismissed", "note": "again"})
    assert r.status_code == 409 and "complaint is closed" in r.text
    # the worker appeals the upheld complaint, then the grade; the bureau decides both here
    assert file_appeal(site, staff, 0, f"complaint:{cid}", "the gas was off").status_code == 303
    with site.x.db.session() as s:
        aid = s.scalar(select(Appeal.id).where(Appeal.target == "complaint"))
    r = form(client, f"/bureau/appeals/{aid}", f"/bureau/appeals/{aid}/decision",
             {"outcome": "rejected", "note": "the neighbour saw it"})
    assert r.status_code == 303 and last_audit(site)[:2] == ("appeal.decide", ACTOR)
    with site.x.db.session() as s:
        g = grades.latest(s, site.workers[0])
        refs = [x["ref"] for x in json.loads(g.reasons) if x.get("ref")]
        gid = g.id
    assert file_appeal(site, staff, 0, f"grade:{gid}", "my certificate").status_code == 303
    with site.x.db.session() as s:
        gaid = s.scalar(select(Appeal.id).where(Appeal.target == "grade"))
    page = f"/bureau/appeals/{gaid}"
    text = client.get(page, headers=EN).text
    assert set(re.findall(r'name="set_aside" value="([^"]+)"', text)) == set(refs)
    r = form(client, page, f"{page}/decision", {"outcome": "upheld", "note": "x"})
    assert r.status_code == 400 and "set_aside" in r.text          # no reason ticked
    record_ref = next(r for r in refs if r.startswith("record:"))
    r = form(client, page, f"{page}/decision",
             {"outcome": "upheld", "note": "checked", "set_aside": record_ref})
    assert r.status_code == 303
    with site.x.db.session() as s:
        assert s.get(Appeal, gaid).state == "upheld"
        assert s.get(CreditRecord, int(record_ref.split(":")[1])).state == "withdrawn"
        actors = {e.actor for e in s.scalars(select(AuditEntry).where(
            AuditEntry.action == "appeal.decide"))}
    assert actors == {ACTOR}
    assert 'data-state="upheld"' in client.get(page).text


def test_a_ban_lifted_from_the_queue(site):
    ban = site.enrol_and_ban([("A330100", "W-0000000")], "11010519491231002X")["ban"]
    client = bureau(site)
    q = client.get("/bureau/queues", headers=EN).text
    assert f'<tr data-ban="{ban["id"]}">' in q
    r = form(client, "/bureau/queues", f'/bureau/bans/{ban["id"]}/lift', {"reason": ""})
    assert r.status_code == 400
    with site.x.db.session() as s:
        assert s.get(Ban, ban["id"]).lifted_at is None
    r = form(client, "/bureau/queues", f'/bureau/bans/{ban["id"]}/lift',
             {"reason": "court quashed the judgment"})
    assert r.status_code == 303
    with site.x.db.session() as s:
        b = s.get(Ban, ban["id"])
        assert (b.lifted_reason, b.lifted_at is not None) == ("court quashed the judgment", True)
        actions = [(e.action, e.actor) for e in s.scalars(
            select(AuditEntry).where(AuditEntry.action.like("ban.%")).order_by(AuditEntry.id))]
    assert ("ban.lift", ACTOR) in actions
    assert f'<tr data-ban="{ban["id"]}">' not in client.get("/bureau/queues").text
    r = client.post(f'/bureau/bans/{ban["id"]}/lift', data={"reason": "again"})
    assert r.status_code == 403                                    # no CSRF token


def test_every_bureau_action_is_in_the_audit_chain(vsite):  # noqa: F811
    """Each of the bureau's actions, over its API (a bureau key) and from its console (a
    bureau user), appends one entry naming the action and the actor; the chain verifies."""
    site = vsite
    key = bureau_key(site)
    auth = {"Authorization": f"Bearer {key}"}
    ban = site.enrol_and_ban([("A330100", "W-0000002")], "11010519491231002X")["ban"]
    api = [("ban.create", None)]
    r = site.client.post(f'/api/v1/bureau/bans/{ban["id"]}/lift', headers=auth,
                         json={"reason": "appeal upheld"})
    assert r.status_code == 200
    api.append(("ban.lift", None))
    app_id, _ = apply(site)
    r = site.client.post(f"/api/v1/admission/applications/{app_id}/request-changes",
                         headers=auth, json={"note": "scan"})
    assert r.status_code == 200
    api.append(("admission.request_changes", None))
    with site.x.db.session() as s:
        entries = list(s.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    by_api = [e for e in entries if e.action in {a for a, _ in api}]
    assert [e.action for e in by_api] == [a for a, _ in api]
    assert {e.actor for e in by_api} == {"api:bureau"}
    client = bureau(site)
    second, _ = apply(site, "91330106MA2CFY4X5F", "hz-admin")
    staff, cid = escalated_complaint(site)
    steps = [(f"/bureau/applications/{second}", f"/bureau/applications/{second}/approve",
              {"agency_id": "B330106"}, "admission.approve"),
             (f"/bureau/complaints/{cid}", f"/bureau/complaints/{cid}/decision",
              {"outcome": "partly_upheld", "note": "half"}, "complaint.decide")]
    for page, path, data, action in steps:
        with site.x.db.session() as s:
            before = s.scalar(select(func.max(AuditEntry.id)))
        assert form(client, page, path, data).status_code == 303, path
        with site.x.db.session() as s:
            new = [(e.action, e.actor) for e in s.scalars(
                select(AuditEntry).where(AuditEntry.id > before).order_by(AuditEntry.id))]
        assert (action, ACTOR) in new, (path, new)
    with site.x.db.session() as s:
        ok, n, bad = audit.verify_chain(s)
        logins = s.scalar(select(func.count()).where(AuditEntry.action == "staff.login",
                                                     AuditEntry.actor == ACTOR))
    assert (ok, bad) == (True, None) and n > 10
    assert logins == 1
