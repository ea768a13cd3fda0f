"""Trust list and status lists: import rules, publishing, lifecycle, stale policy."""
from host import wire
from host.wire import sample
from host.wire.status import StatusListToken
from host.wire.trust import build_trust_list
from testkit.verifier import Env, b64, make_app


def verify(env, i, purpose="status"):
    b = env.world.badges[i]
    return env.client.post("/api/v1/verify", data=b.tap(purpose) + b.credential,
                           content_type="application/cbor")


def test_trust_list_import_refuses_older_unsigned_and_foreign(env):
    w = env.world
    post = lambda data: env.client.post("/api/v1/trust-list", data=data,   # noqa: E731
                                        headers=env.auth())
    assert post(w.trust_list).json["reason"] == "not_newer"
    assert post(b"\x00\x01").status_code == 400                # not a COSE_Sign1
    forged = build_trust_list(sample.secret("mallory"), "X", w.agencies, 9,
                              w.now - 10, w.now + 1000)
    r = post(forged)
    assert (r.status_code, r.json["reason"]) == (422, "unknown_key")
    newer = build_trust_list(w.authority, "CN", w.agencies[:1], 2, w.now - 10, w.now + 1000)
    r = post(newer)
    assert r.status_code == 201 and r.json == {"seq": 2, "agencies": 1}
    # agency 1 left the trust list: its badges are now untrusted
    assert verify(env, 1).json["reason"] == "untrusted_issuer"
    assert verify(env, 0).json["valid"] is True
    # an agency key may not import trust lists
    r = env.client.post("/api/v1/trust-list", data=newer, headers=env.auth(w.agencies[0].id))
    assert r.status_code == 403


def test_published_status_list_is_signed_and_reflects_lifecycle(env):
    w, a = env.world, env.world.agencies[0].id
    r = env.client.post(f"/api/v1/agencies/{a}/badges/{env.badge_ids[0]}/suspend",
                        json={"reason": "lost phone"}, headers=env.auth(a))
    assert r.status_code == 200 and r.json["state"] == "suspended"
    assert r.json["status_list"] == "published"
    r = env.client.get(f"/sl/{a}")
    assert r.mimetype == "application/statuslist+cwt"
    lst = StatusListToken.load(r.data, wire.TrustList.load(w.trust_list, w.authority, w.now),
                               w.now)
    assert lst.get(0) == wire.SUSPENDED and lst.get(2) == wire.VALID and lst.seq == 2
    v = verify(env, 0)
    assert (v.status_code, v.json["reason"], v.json["status"]) == (422, "suspended", "suspended")
    env.client.post(f"/api/v1/agencies/{a}/badges/{env.badge_ids[0]}/reinstate",
                    json={"reason": "found"}, headers=env.auth(a))
    assert verify(env, 0).json["valid"] is True
    r = env.client.post(f"/api/v1/agencies/{a}/badges/{env.badge_ids[0]}/revoke",
                        json={"reason": "left"}, headers=env.auth(a))
    assert verify(env, 0).json["reason"] == "revoked"
    r = env.client.post(f"/api/v1/agencies/{a}/badges/{env.badge_ids[0]}/reinstate",
                        json={"reason": "oops"}, headers=env.auth(a))
    assert (r.status_code, r.json["reason"]) == (409, "invalid_transition")
    r = env.client.post(f"/api/v1/agencies/{a}/badges/{env.badge_ids[2]}/suspend",
                        json={}, headers=env.auth(a))
    assert r.status_code == 400                                   # reason is required


def test_imported_status_list_newer_replaces_older_refused(env):
    w = env.world
    a = w.agencies[1].id
    post = lambda data: env.client.post("/api/v1/status-lists", data=data,  # noqa: E731
                                        headers=env.auth())
    r = post(w.status_list(a, revoked=[1], seq=5))
    assert r.status_code == 201
    assert verify(env, 1).json["reason"] == "revoked"
    r = post(w.status_list(a, revoked=[], seq=4))
    assert (r.status_code, r.json["reason"]) == (409, "not_newer")
    assert verify(env, 1).json["reason"] == "revoked"
    # signed by another agency's key: refused
    forged = wire.build_status_list(w.agency_keys[w.agencies[0].id], w.status_uri(a),
                                    wire.StatusList(8), 9, w.now - 10, w.now + 100, 60)
    env.client.post("/api/v1/status-lists", data=forged, headers=env.auth())
    assert verify(env, 1).json["reason"] == "revoked"      # a forged list changes nothing
    r = post(w.status_list(a, seq=6))
    assert verify(env, 1).json["valid"] is True


def test_stale_policy_and_readyz(db_url, world):
    app = make_app(db_url, world)
    env = Env(app, world)
    assert env.client.get("/readyz").status_code == 200
    later = world.now + 7200                                    # ttl 3600 passed
    for policy, expect in (("warn", (200, None)), ("refuse", (422, "stale_status"))):
        a2 = make_app(db_url, world, FIXED_NOW=later, STALE_POLICY=policy)
        c = a2.test_client()
        b = world.badges[0]
        r = c.post("/api/v1/verify", data=b.tap("status") + b.credential,
                   content_type="application/cbor")
        assert (r.status_code, r.json["reason"]) == expect
        assert r.json["stale"] is True and r.json["list_age_s"] == 7200
        ready = c.get("/readyz")
        assert ready.status_code == 503 and "stale" in ready.json["problems"][0]
        a2.extensions["xinka"].db.engine.dispose()
    app.extensions["xinka"].db.engine.dispose()


def test_cli_suspend_with_reason_and_actor(env):
    a = env.world.agencies[0].id
    runner = env.app.test_cli_runner()
    r = runner.invoke(args=["badge-suspend", a, str(env.badge_ids[0]), "--reason", "报失",
                            "--actor", "zhang"])
    assert r.exit_code == 0, r.output
    assert verify(env, 0).json["reason"] == "suspended"
    log = env.client.get("/api/v1/audit", headers=env.auth()).json["entries"]
    assert log[0]["actor"] == "cli:zhang" and log[0]["detail"]["reason"] == "报失"
    r = runner.invoke(args=["badge-suspend", a, str(env.badge_ids[0]), "--actor", "zhang"])
    assert r.exit_code != 0                                     # --reason is required


def test_reissue_revokes_old_in_same_transaction(env):
    w, a = env.world, env.world.agencies[0].id
    nb = w.make_badge(100, agency_id=a, status_idx=100, worker_ref="W-0000000")
    r = env.client.post(f"/api/v1/agencies/{a}/badges/{env.badge_ids[0]}/reissue",
                        json={"reason": "broken", "credential": b64(nb.credential)},
                        headers=env.auth(a))
    assert r.status_code == 200, r.json
    assert r.json["old"]["state"] == "revoked" and r.json["new"]["status_idx"] == 100
    assert verify(env, 0).json["reason"] == "revoked"
    tok = nb.tap("status")
    assert env.client.post("/api/v1/verify", data=tok + nb.credential,
                           content_type="application/cbor").json["valid"] is True
    # a failing re-issue (duplicate key) leaves the old badge as it was
    r = env.client.post(f"/api/v1/agencies/{a}/badges/{env.badge_ids[2]}/reissue",
                        json={"reason": "x", "credential": b64(nb.credential)},
                        headers=env.auth(a))
    assert r.status_code == 409
    assert verify(env, 2).json["valid"] is True
