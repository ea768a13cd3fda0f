"""Ban proposals: an agency proposes from its console that the bureau ban one of its enrolled
workers (legal basis, evidence); the bureau accepts in its console (the ban is made as the
bureau API makes it: the person's badges revoked at every agency) or rejects, here or over its
API. Bad input refused and nothing written; every step in the audit chain under its actor.
SQLite and PostgreSQL."""
import re

from sqlalchemy import func, select

from tests.web.test_bureau_console import BUREAU_USER, bureau
from tests.web.test_bureau_decisions import form
from tests.web.test_complaints import bureau_key, staff_form
from tests.web.test_employer_page import EN
from verifier.models import AuditEntry, Badge, Ban, BanProposal
from verifier.services import audit

ID_NUMBER = "11010519491231002X"


def enrol(site, agency, ref, id_number=ID_NUMBER):
    r = site.client.post(f"/api/v1/agencies/{agency}/workers/enrol", headers=site.auth(agency),
                         json={"worker_ref": ref, "id_number": id_number})
    assert r.status_code == 200, r.json


def proposals(site):
    with site.x.db.session() as s:
        return s.scalar(select(func.count(BanProposal.id)))


GOOD = {"category": "theft", "legal_basis": "(2026) 浙0106刑初 17 号判决",
        "evidence": "judgment copy on file"}


def test_an_agency_proposes_and_the_bureau_bans(site):
    enrol(site, "A330100", "W-0000000")
    staff = site.login(site.app.test_client())
    wid, other = site.workers[0], site.workers[2]              # other: not enrolled
    page = staff.get(f"/console/workers/{wid}", headers=EN).text
    assert 'id="ban-proposal-form"' in page
    assert 'id="ban-proposal-form"' not in staff.get(f"/console/workers/{other}").text
    r = staff_form(site, staff, f"/console/workers/{other}/ban-proposals", GOOD, wid)
    assert r.status_code == 409 and "not enrolled" in r.text
    for bad, why in ((dict(GOOD, category="gossip"), "category must be one of"),
                     (dict(GOOD, evidence="  "), "evidence"),
                     (dict(GOOD, legal_basis="x" * 2001), "legal_basis")):
        r = staff_form(site, staff, f"/console/workers/{wid}/ban-proposals", bad, wid)
        assert r.status_code == 400 and why in r.text, why
    r = staff.post(f"/console/workers/{wid}/ban-proposals", data=GOOD)
    assert r.status_code == 403                                   # no CSRF token
    assert proposals(site) == 0
    r = staff_form(site, staff, f"/console/workers/{wid}/ban-proposals",
                   dict(GOOD, evidence="<script>alert(1)</script> judgment copy"), wid)
    assert r.status_code == 303 and r.headers["Location"].endswith("#ban-proposals")
    r = staff_form(site, staff, f"/console/workers/{wid}/ban-proposals", GOOD, wid)
    assert r.status_code == 409 and "already waits" in r.text
    with site.x.db.session() as s:
        p = s.scalars(select(BanProposal)).one()
        pid = p.id
        assert (p.state, p.category, p.proposed_by) == ("open", "theft", "staff:anna")
    assert re.search(rf'id="ban-proposal-{pid}" data-state="open"',
                     staff.get(f"/console/workers/{wid}").text)
    # the bureau's queue and case page: the person by hash, no name, no worker reference
    client = bureau(site)
    q = client.get("/bureau/queues", headers=EN).text
    assert f'<tr data-ban-proposal="{pid}">' in q
    case = client.get(f"/bureau/ban-proposals/{pid}", headers=EN).text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in case and "<script>alert" not in case
    assert "W-0000000" not in case and ID_NUMBER not in case
    assert "workers of 1 agencies" in case
    path = f"/bureau/ban-proposals/{pid}"
    r = form(client, path, f"{path}/decision", {"accept": "no", "note": ""})
    assert r.status_code == 400
    r = form(client, path, f"{path}/decision", {"accept": "yes", "decided_by": "",
                                                 "appeal_route": "x"})
    assert r.status_code == 400 and "decided_by" in r.text
    with site.x.db.session() as s:
        assert s.scalar(select(func.count(Ban.id))) == 0
        assert s.get(BanProposal, pid).state == "open"
    r = form(client, path, f"{path}/decision", {
        "accept": "yes", "decided_by": "杭州市商务局 2026-41", "appeal_route": "书面申诉 30 日内"})
    assert r.status_code == 303
    with site.x.db.session() as s:
        p = s.get(BanProposal, pid)
        ban = s.get(Ban, p.ban_id)
        assert (p.state, p.decided_by) == ("accepted", f"staff:{BUREAU_USER}")
        assert (ban.category, ban.legal_basis) == ("theft", GOOD["legal_basis"])
        badge = s.get(Badge, site.badge_ids[0])
        assert badge.state == "revoked"
        steps = [(e.action, e.actor) for e in s.scalars(
            select(AuditEntry).where(AuditEntry.action.like("ban.%")).order_by(AuditEntry.id))]
        assert audit.verify_chain(s)[0]
    assert steps[:3] == [("ban.propose", "staff:anna"),
                         ("ban.create", f"staff:{BUREAU_USER}"),
                         ("ban.start", f"staff:{BUREAU_USER}")]
    assert ("ban.proposal_accept", f"staff:{BUREAU_USER}") in steps
    assert form(client, path, f"{path}/decision",
                {"accept": "no", "note": "late"}).status_code == 409
    assert re.search(rf'id="ban-proposal-{pid}" data-state="accepted"',
                     staff.get(f"/console/workers/{wid}").text)
    assert f'<tr data-ban-proposal="{pid}">' not in client.get("/bureau/queues").text


def test_the_bureau_api_lists_and_rejects(site):
    enrol(site, "A330101", "W-0000001")
    with site.x.db.session() as s:
        from verifier.services import ban_proposals
        p = ban_proposals.propose(s, "A330101", site.workers[1], GOOD, site.x.now(), "test")
        pid = p.id
    auth = {"Authorization": f"Bearer {bureau_key(site)}"}
    assert site.client.get("/api/v1/bureau/ban-proposals",
                           headers=site.auth("A330101")).status_code == 403
    [row] = site.client.get("/api/v1/bureau/ban-proposals", headers=auth).json["ban_proposals"]
    assert (row["id"], row["agency_id"], len(row["person_hash"])) == (pid, "A330101", 64)
    r = site.client.post(f"/api/v1/bureau/ban-proposals/{pid}/decision", headers=auth,
                         json={"accept": "maybe"})
    assert (r.status_code, r.json["reason"]) == (400, "bad_ban_proposal")
    r = site.client.post(f"/api/v1/bureau/ban-proposals/{pid}/decision", headers=auth,
                         json={"accept": False, "note": "the judgment is under appeal"})
    assert r.status_code == 200 and r.json["ban_proposal"]["state"] == "rejected"
    r = site.client.post(f"/api/v1/bureau/ban-proposals/{pid}/decision", headers=auth,
                         json={"accept": True, "decided_by": "x", "appeal_route": "y"})
    assert (r.status_code, r.json["reason"]) == (409, "proposal_closed")
    with site.x.db.session() as s:
        assert s.scalar(select(func.count(Ban.id))) == 0
        last = s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (last.action, last.actor) == ("ban.proposal_reject", "api:bureau")
    assert site.client.get("/api/v1/bureau/ban-proposals", headers=auth).json == \
        {"ban_proposals": []}
