"""Agency isolation, rate limits, the hash-chained audit log."""
import pytest
from sqlalchemy import text

from tests.verifier.conftest import Env, make_app
from verifier.services import audit


def test_agency_a_cannot_read_revoke_or_export_agency_b(env):
    a, b = env.world.agencies[0].id, env.world.agencies[1].id
    h = env.auth(a)
    wb, bb = env.workers[1], env.badge_ids[1]                 # agency b's worker and badge
    for method, url, body in [
        ("get", f"/api/v1/agencies/{b}/workers", None),
        ("get", f"/api/v1/agencies/{b}/workers/{wb}", None),
        ("get", f"/api/v1/agencies/{b}/workers/{wb}/attendance", None),
        ("get", f"/api/v1/agencies/{b}/attendance?period=2027-01", None),
        ("get", f"/api/v1/agencies/{b}/export?period=2027-01", None),
        ("get", f"/api/v1/agencies/{b}/clone-evidence", None),
        ("post", f"/api/v1/agencies/{b}/badges/{bb}/revoke", {"reason": "x"}),
        ("post", f"/api/v1/agencies/{b}/workers/{wb}/cancel", {"reason": "x"}),
        ("post", f"/api/v1/agencies/{b}/workers", {"worker_ref": "W-x"}),
        ("post", f"/api/v1/agencies/{b}/api-keys", {"label": "x"}),
    ]:
        r = getattr(env.client, method)(url, json=body, headers=h)
        assert r.status_code == 403, (url, r.status_code)
    # through its own agency path, B's objects are not found either
    r = env.client.get(f"/api/v1/agencies/{a}/workers/{wb}", headers=h)
    assert r.status_code == 404
    r = env.client.post(f"/api/v1/agencies/{a}/badges/{bb}/revoke", json={"reason": "x"},
                        headers=h)
    assert r.status_code == 404
    workers = env.client.get(f"/api/v1/agencies/{a}/workers", headers=h).json["workers"]
    assert {w["agency"] for w in workers} == {a}
    assert env.client.get(f"/api/v1/agencies/{b}/workers", headers={}).status_code == 401
    # nothing of B changed
    r = env.client.get(f"/api/v1/agencies/{b}/workers/{wb}", headers=env.auth(b)).json
    assert r["state"] == "active" and r["badges"][0]["state"] == "registered"
    audit_a = env.client.get("/api/v1/audit", headers=h).json["entries"]
    assert audit_a and {e["agency_id"] for e in audit_a} == {a}


def test_rate_limit_on_public_endpoints(db_url, world):
    app = make_app(db_url, world, RATE_LIMIT_PER_MIN=5)
    Env(app, world)
    c = app.test_client()
    codes = [c.post("/api/v1/verify", data=b"x", content_type="application/cbor").status_code
             for _ in range(7)]
    assert codes[:5] == [400] * 5 and codes[5:] == [429, 429]
    app.extensions["xinka"].db.engine.dispose()


def test_audit_chain_verifies_and_detects_tampering(env):
    a = env.world.agencies[0].id
    env.client.post(f"/api/v1/agencies/{a}/badges/{env.badge_ids[0]}/suspend",
                    json={"reason": "check"}, headers=env.auth(a))
    runner = env.app.test_cli_runner()
    r = runner.invoke(args=["audit-verify"])
    assert r.exit_code == 0 and "audit chain ok" in r.output
    with env.x.db.session() as s:
        ok, n, _ = audit.verify_chain(s)
        assert ok and n > 10
        s.execute(text("UPDATE audit_log SET actor='mallory' WHERE id=3"))
    with env.x.db.session() as s:
        ok, _, bad = audit.verify_chain(s)
    assert not ok and bad == 3
    assert runner.invoke(args=["audit-verify"]).exit_code == 1


def test_audit_chain_detects_deletion(env):
    with env.x.db.session() as s:
        s.execute(text("DELETE FROM audit_log WHERE id=2"))
    with env.x.db.session() as s:
        assert audit.verify_chain(s)[0] is False


def test_audit_fork_is_impossible(env):
    """Two entries cannot share a predecessor (unique prev_hash)."""
    from sqlalchemy.exc import IntegrityError
    with pytest.raises(IntegrityError):
        with env.x.db.session() as s:
            s.execute(text("INSERT INTO audit_log (at, actor, action, agency_id, subject, "
                           "detail, prev_hash, hash) SELECT at, actor, action, agency_id, "
                           "subject, detail, prev_hash, 'f' FROM audit_log WHERE id=2"))
