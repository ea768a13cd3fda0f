"""A badge wiped and issued again, over a real pty against the real verifier
(testkit/real_verifier.py): the new registration goes through the verifier's
re-issue, so the old registration of the same serial is revoked in the same transaction
(docs/protocol.md: re-provisioning makes a new key and a new status index; the old one is
revoked at the same moment)."""
from host import wire
from host.wire import sample
from provisioning import issuance_log
from provisioning.cli import main

from .conftest import AGENCY

PURPOSE = "status"


def _issue(badge, prof, worker):
    return main(["--port", badge.port, "--profile", str(prof), "issue", "--worker", worker])


def test_wipe_then_issue_revokes_the_old_registration_at_once(badge, desk, passphrase, capsys):
    prof, akey, trust, authority, v, d = desk
    assert _issue(badge, prof, "W-1") == 0
    [first] = v.badges()
    assert first["state"] == "active"
    # the old key, read from the badge's flash (the test's privilege): a tap it signs
    badge.stop()
    old = sample.Badge(wire.keys.from_secret(badge.read_blob("key")), first["credential"],
                       first["status_idx"], AGENCY, counter=1000)
    badge.start()
    verdict = v.verify(old.tap(PURPOSE), old.credential)
    assert verdict["valid"] is True and verdict["status"] == "valid", verdict

    assert main(["--port", badge.port, "wipe", "--confirm", "WIPE"]) == 0
    assert "revokes its previous registration" in capsys.readouterr().out
    assert [b["state"] for b in v.badges()] == ["active"]       # wiping alone tells nobody
    v.requests.clear()
    assert _issue(badge, prof, "W-1") == 0
    calls, out = list(v.requests), capsys.readouterr().out
    assert "原登记已同时吊销" in out and f"badge {first['id']}" in out

    # the verifier: the old registration revoked, the new one active, a new key and index
    first, second = v.badges()
    assert first["state"] == "revoked" and second["state"] == "active"
    assert first["serial"] == second["serial"] == "A4CF12000001"
    assert second["kid"] != first["kid"] and second["status_idx"] != first["status_idx"]
    assert second["worker_ref"] == "W-1" and len(v.worker_refs()) == 1
    assert v.indices()[second["status_idx"]]["state"] == "registered"
    base = f"/api/v1/agencies/{AGENCY}"
    assert calls == [("GET", f"{base}/issue-scope"), ("GET", f"{base}/badges"),
                     ("POST", f"{base}/status-indices"),
                     ("POST", f"{base}/badges/{first['id']}/reissue"),
                     ("POST", f"{base}/badges/{second['id']}/activate")]
    # revoked by the re-issue that registered the new badge; the published status list revokes
    # the old index and keeps the new one valid
    with v.x.db.session() as s:
        from verifier.models import Badge
        assert s.get(Badge, first["id"]).reason.startswith(f"reissued as badge {second['id']}")
    listed = v.status_list()
    assert listed(first["status_idx"]) == "revoked"
    assert listed(second["status_idx"]) == "valid"

    # a tap signed by the old key with the old credential is refused
    verdict = v.verify(old.tap(PURPOSE), old.credential)
    assert verdict["valid"] is False and verdict["reason"] == "revoked", verdict
    assert verdict["badge"]["kid"] == first["kid"]

    # the log records the replacement
    recs = issuance_log.verify(d / "issuance.log", [akey])
    assert [r["event"] for r in recs] == ["issued", "issued"]
    assert recs[1]["replaced"] == [first["id"]] and recs[0]["replaced"] == []


def test_issue_on_a_fresh_serial_registers_without_reissue(badge, desk, passphrase, capsys):
    prof, *_, v, d = desk
    assert _issue(badge, prof, "W-2") == 0
    assert "原登记" not in capsys.readouterr().out
    assert not any(p.endswith("/reissue") for _, p in v.requests)
