"""Status index reservations for provisioning: reserve, release (free / retired), registration
that verifies the credential and consumes the reservation. SQLite and PostgreSQL."""
import threading

import pytest

from host import wire
from host.wire import keys, sample
from tests.verifier.conftest import b64

A, B = "A330100", "A330101"       # env.world's agencies; A's badges hold indices 0, 2, 4, 6


def new_badge(env, n, idx, agency=A, worker_ref=None, **overrides):
    """(sample.Badge, kid hex, serial) of a new key n whose credential carries idx."""
    args = dict(agency_id=agency, status_idx=idx, worker_ref=worker_ref or f"W-N{n:05d}")
    args.update(overrides)
    b = env.world.make_badge(n, **args)
    cred = wire.Credential.parse(b.credential)
    return b, cred.badge_kid.hex(), cred.serial


def reserve(env, kid, serial, agency=A, headers=None):
    return env.client.post(f"/api/v1/agencies/{agency}/status-indices",
                           json={"kid": kid, "serial": serial},
                           headers=headers or env.auth(agency))


def release(env, idx, retire, agency=A):
    return env.client.delete(f"/api/v1/agencies/{agency}/status-indices/{idx}",
                             json={"retire": retire, "reason": "test"}, headers=env.auth(agency))


def register(env, b, kid, serial, idx, worker_ref, agency=A, **extra):
    body = {"credential": b64(b.credential), "kid": kid, "serial": serial, "status_idx": idx,
            "worker_ref": worker_ref, **extra}
    return env.client.post(f"/api/v1/agencies/{agency}/badges", json=body,
                           headers=env.auth(agency))


def indices(env, state=None, agency=A):
    q = f"?state={state}" if state else ""
    r = env.client.get(f"/api/v1/agencies/{agency}/status-indices{q}", headers=env.auth(agency))
    assert r.status_code == 200, r.json
    return {e["status_idx"]: e for e in r.json["indices"]}


def verify(env, b):
    return env.client.post("/api/v1/verify", data=b.tap("status") + b.credential,
                           content_type="application/cbor").json


def test_reserve_register_consumes_the_reservation_and_creates_the_worker(env):
    b, kid, serial = new_badge(env, 100, idx=7)
    r = reserve(env, kid, serial)
    assert r.status_code == 201, r.json
    assert r.json["status_idx"] == 7                    # above A's badges 0..6
    assert r.json["uri"] == env.world.status_uri(A)
    assert verify(env, b)["valid"] is True             # not yet registered: reads as valid
    r = register(env, b, kid, serial, 7, "W-N00100")
    assert r.status_code == 201, r.json
    assert r.json["state"] == "registered" and r.json["status_idx"] == 7
    assert r.json["kid"] == kid and r.json["serial"] == serial
    assert r.json["worker_ref"] == "W-N00100" and r.json["status_list"] == "published"
    assert indices(env)[7]["state"] == "registered"
    assert indices(env, "reserved") == {}
    workers = env.client.get(f"/api/v1/agencies/{A}/workers", headers=env.auth(A)).json
    w = [w for w in workers["workers"] if w["worker_ref"] == "W-N00100"]
    assert len(w) == 1
    one = env.client.get(f"/api/v1/agencies/{A}/workers/{w[0]['id']}", headers=env.auth(A))
    assert [x["kid"] for x in one.json["badges"]] == [kid]
    v = verify(env, b)
    assert v["valid"] is True and v["status"] == "valid" and v["badge"]["kid"] == kid
    # activate: registered -> active
    r = env.client.post(f"/api/v1/agencies/{A}/badges/{one.json['badges'][0]['id']}/activate",
                        json={"reason": "provisioned"}, headers=env.auth(A))
    assert r.json["state"] == "active"
    # a registered worker is found by its reference, not created twice
    b2, kid2, serial2 = new_badge(env, 101, idx=8, worker_ref="W-N00100")
    assert reserve(env, kid2, serial2).json["status_idx"] == 8
    assert register(env, b2, kid2, serial2, 8, "W-N00100").status_code == 201
    workers = env.client.get(f"/api/v1/agencies/{A}/workers", headers=env.auth(A)).json
    assert [w["worker_ref"] for w in workers["workers"]].count("W-N00100") == 1


def test_a_reserved_index_is_never_handed_to_anyone_else(env):
    _, k1, s1 = new_badge(env, 100, 0)
    _, k2, s2 = new_badge(env, 101, 0)
    first = reserve(env, k1, s1)
    again = reserve(env, k1, s1)                        # a retry after a lost answer
    assert first.status_code == 201 and again.status_code == 200
    assert again.json["status_idx"] == first.json["status_idx"] == 7
    assert reserve(env, k2, s2).json["status_idx"] == 8
    r = reserve(env, k1, "A4CF12FFFFFF")                 # the same key for another badge
    assert (r.status_code, r.json["reason"]) == (409, "index_reserved")
    # a key that is already registered gets no index
    kid0 = keys.kid(env.world.badges[0].key.public_key()).hex()
    r = reserve(env, kid0, "A4CF12000000")
    assert (r.status_code, r.json["reason"]) == (409, "kid_registered")
    # the legacy path (no index given) takes a new index, not a reserved one
    b, k3, s3 = new_badge(env, 102, 0)
    r = env.client.post(f"/api/v1/agencies/{A}/badges", json={"kid": k3, "serial": s3},
                        headers=env.auth(A))
    assert r.status_code == 201 and r.json["status_idx"] == 9
    # a badge whose credential carries an index reserved for another key
    b, k4, s4 = new_badge(env, 103, 7)
    r = register(env, b, k4, s4, 7, "W-N00103")
    assert (r.status_code, r.json["reason"]) == (409, "index_reserved")
    assert indices(env, "reserved").keys() == {7, 8}


def test_released_index_is_reused_retired_one_never_and_is_revoked(env):
    _, k1, s1 = new_badge(env, 100, 0)
    _, k2, s2 = new_badge(env, 101, 0)
    i = reserve(env, k1, s1).json["status_idx"]
    r = release(env, i, retire=False)
    assert r.status_code == 200 and r.json == {"status_idx": i, "state": "free",
                                               "status_list": "unchanged"}
    assert reserve(env, k2, s2).json["status_idx"] == i       # free: handed out again
    b3, k3, s3 = new_badge(env, 102, i + 1)
    assert reserve(env, k3, s3).json["status_idx"] == i + 1
    assert verify(env, b3)["valid"] is True
    r = release(env, i + 1, retire=True)
    assert r.status_code == 200 and r.json["state"] == "retired"
    assert r.json["status_list"] == "published"
    # the credential that was sent with the retired index is revoked in the list
    v = verify(env, b3)
    assert v["valid"] is False and v["reason"] == "revoked"
    # never handed out again, nor registered
    _, k4, s4 = new_badge(env, 103, 0)
    assert reserve(env, k4, s4).json["status_idx"] == i + 2
    r = register(env, b3, k3, s3, i + 1, "W-N00102")
    assert (r.status_code, r.json["reason"]) == (409, "index_retired")
    # only a reservation can be released
    assert release(env, i + 1, retire=False).json["reason"] == "not_reserved"
    assert release(env, 500, retire=True).status_code == 404
    r = release(env, 0, retire=True)                          # badge 0 of the world
    assert (r.status_code, r.json["reason"]) == (409, "index_registered")
    assert r.json["badge_id"] == env.badge_ids[0]
    assert indices(env, "retired").keys() == {i + 1} and indices(env, "free") == {}


def test_registration_after_a_lost_answer_is_visible_to_release(env):
    b, kid, serial = new_badge(env, 100, 7)
    reserve(env, kid, serial)
    bid = register(env, b, kid, serial, 7, "W-N00100").json["id"]
    r = release(env, 7, retire=True)
    assert r.status_code == 409
    assert r.json == {"reason": "index_registered", "message": r.json["message"],
                      "badge_id": bid, "kid": kid}
    r = register(env, b, kid, serial, 7, "W-N00100")          # the same registration again
    assert (r.status_code, r.json["reason"]) == (409, "kid_registered")


def _refusals(env):
    w = env.world
    mallory = sample.secret("mallory")
    return [
        # (what, make(kid, serial, idx) -> (credential, extra body), status, reason)
        ("another agency's credential", lambda k, s, i, b: dict(
            agency_id=B, agency_key=w.agency_keys[B], status_uri=w.status_uri(B)), 422,
         "wrong_agency"),
        ("agency A's claim, B's key", lambda k, s, i, b: dict(agency_key=w.agency_keys[B]),
         422, "untrusted_issuer"),
        ("an unknown key", lambda k, s, i, b: dict(agency_key=mallory), 422, "unknown_key"),
        ("expired", lambda k, s, i, b: dict(exp=w.now - 86400), 422, "expired"),
        ("another status uri", lambda k, s, i, b: dict(status_uri="https://x.example/sl/A"),
         422, "wrong_status_uri"),
        ("another status index", lambda k, s, i, b: dict(status_idx=i + 1), 422,
         "status_idx_mismatch"),
        ("another worker", lambda k, s, i, b: dict(worker_ref="W-OTHER"), 422,
         "worker_mismatch"),
    ]


@pytest.mark.parametrize("case", range(7))
def test_registration_refuses_a_credential_that_does_not_match(env, case):
    what, make, status, reason = _refusals(env)[case]
    _, kid, serial = new_badge(env, 100, 7)
    assert reserve(env, kid, serial).json["status_idx"] == 7
    bad, *_ = new_badge(env, 100, 7, **make(kid, serial, 7, None))
    r = register(env, bad, kid, serial, 7, "W-N00100")
    assert (r.status_code, r.json["reason"]) == (status, reason), what
    assert set(r.json) == {"reason", "message"}
    # nothing registered, nothing created, the reservation still held
    assert indices(env)[7]["state"] == "reserved"
    workers = env.client.get(f"/api/v1/agencies/{A}/workers", headers=env.auth(A)).json
    assert "W-N00100" not in {w["worker_ref"] for w in workers["workers"]}


def test_registration_checks_kid_serial_and_shape(env):
    b, kid, serial = new_badge(env, 100, 7)
    reserve(env, kid, serial)
    other_kid = keys.kid(sample.secret("other").public_key()).hex()
    r = register(env, b, other_kid, serial, 7, "W-N00100")
    assert (r.status_code, r.json["reason"]) == (422, "kid_mismatch")
    r = register(env, b, kid, "A4CF12FFFFFF", 7, "W-N00100")
    assert (r.status_code, r.json["reason"]) == (422, "serial_mismatch")
    r = env.client.post(f"/api/v1/agencies/{A}/badges", headers=env.auth(A), json={
        "credential": b64(b.credential[:-3]), "kid": kid, "serial": serial, "status_idx": 7,
        "worker_ref": "W-N00100"})
    assert (r.status_code, r.json["reason"]) == (400, "malformed")
    for body in ({"kid": "xyz", "serial": serial}, {"kid": kid, "serial": 5}, {}):
        r = env.client.post(f"/api/v1/agencies/{A}/status-indices", json=body,
                            headers=env.auth(A))
        assert (r.status_code, r.json["reason"]) == (400, "malformed")
    r = register(env, b, kid, serial, "7", "W-N00100")
    assert (r.status_code, r.json["reason"]) == (400, "malformed")
    assert indices(env)[7]["state"] == "reserved"


def test_cancelled_worker_gets_no_badge(env):
    b, kid, serial = new_badge(env, 100, 7, worker_ref="W-0000000")   # env's worker 0
    reserve(env, kid, serial)
    r = env.client.post(f"/api/v1/agencies/{A}/workers/{env.workers[0]}/cancel",
                        json={"reason": "注销"}, headers=env.auth(A))
    assert r.status_code == 200
    r = register(env, b, kid, serial, 7, "W-0000000")
    assert (r.status_code, r.json["reason"]) == (409, "worker_cancelled")
    assert indices(env)[7]["state"] == "reserved"


def test_agency_keys_reach_only_their_own_reservations(env):
    _, kid, serial = new_badge(env, 100, 7)
    assert reserve(env, kid, serial, agency=B, headers=env.auth(A)).status_code == 403
    i = reserve(env, kid, serial, agency=B).json["status_idx"]
    r = env.client.delete(f"/api/v1/agencies/{B}/status-indices/{i}", json={"retire": True},
                          headers=env.auth(A))
    assert r.status_code == 403
    assert env.client.get(f"/api/v1/agencies/{B}/status-indices",
                          headers=env.auth(A)).status_code == 403
    assert indices(env, agency=B)[i]["state"] == "reserved"
    assert indices(env) == {}
    actions = [e["action"] for e in env.client.get("/api/v1/audit",
                                                   headers=env.auth(B)).json["entries"]]
    assert "status_index.reserve" in actions


def test_concurrent_reservations_get_distinct_indices(env):
    got, errors = [], []

    def worker(t):
        client = env.app.test_client()
        for n in range(5):
            kid = keys.kid(sample.secret(f"c{t}-{n}").public_key()).hex()
            r = client.post(f"/api/v1/agencies/{A}/status-indices",
                            json={"kid": kid, "serial": f"A4CF12{t:02X}{n:04X}"},
                            headers=env.auth(A))
            (got if r.status_code == 201 else errors).append(r.json)
    threads = [threading.Thread(target=worker, args=(t,)) for t in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    idx = [r["status_idx"] for r in got]
    assert len(idx) == 30 and sorted(idx) == list(range(7, 37))


def test_reissue_with_a_reserved_index_revokes_the_old_badge_at_once(env):
    """Re-provisioning one physical badge (the same serial): a new key and a reserved new
    index, registered through re-issue, which revokes the old badge in the same transaction."""
    old = env.world.badges[0]
    serial0 = wire.Credential.parse(old.credential).serial
    by_serial = f"/api/v1/agencies/{A}/badges?serial={serial0}"
    live = env.client.get(by_serial + "&live=1", headers=env.auth(A)).json["badges"]
    assert [x["id"] for x in live] == [env.badge_ids[0]]
    ueid = wire.ueid_from_mac(bytes.fromhex("A4CF12000000"))
    b, kid, serial = new_badge(env, 100, 7, worker_ref="W-0000000", ueid=ueid)
    assert serial == serial0
    assert reserve(env, kid, serial).json["status_idx"] == 7
    url = f"/api/v1/agencies/{A}/badges/{env.badge_ids[0]}/reissue"
    body = {"reason": "wiped and re-provisioned", "credential": b64(b.credential), "kid": kid,
            "serial": serial, "status_idx": 7, "worker_ref": "W-0000000"}
    # refusals leave the old badge and the reservation as they were
    other, _, _ = new_badge(env, 101, 7, worker_ref="W-0000000", ueid=ueid)
    for change, want in (({"credential": b64(other.credential), "kid": None}, 409),
                         ({"status_idx": 8}, 422), ({"worker_ref": "W-0000002"}, 422)):
        r = env.client.post(url, json={**body, **change}, headers=env.auth(A))
        assert r.status_code == want, r.json
        assert verify(env, old)["status"] == "valid"
        assert indices(env)[7]["state"] == "reserved"
    r = env.client.post(url, json=body, headers=env.auth(A))
    assert r.status_code == 200, r.json
    assert r.json["old"]["state"] == "revoked" and r.json["old"]["status_idx"] == 0
    new = r.json["new"]
    assert (new["kid"], new["serial"], new["status_idx"], new["state"]) == \
        (kid, serial0, 7, "registered")
    assert new["worker_id"] == env.workers[0] and r.json["status_list"] == "published"
    assert indices(env)[7]["state"] == "registered"
    v = verify(env, old)
    assert v["valid"] is False and v["reason"] == "revoked"
    assert verify(env, b)["valid"] is True
    rows = env.client.get(by_serial, headers=env.auth(A)).json["badges"]
    assert [(x["id"], x["state"]) for x in rows] == [(env.badge_ids[0], "revoked"),
                                                     (new["id"], "registered")]
    live = env.client.get(by_serial + "&live=1", headers=env.auth(A)).json["badges"]
    assert [x["id"] for x in live] == [new["id"]]
    # the old badge is revoked once only
    assert env.client.post(url, json=body, headers=env.auth(A)).status_code == 409
    # re-issued again, to another worker (found or created by its reference)
    b2, kid2, _ = new_badge(env, 102, 8, worker_ref="W-N00200", ueid=ueid)
    assert reserve(env, kid2, serial).json["status_idx"] == 8
    r = env.client.post(f"/api/v1/agencies/{A}/badges/{new['id']}/reissue", headers=env.auth(A),
                        json={"reason": "another worker", "credential": b64(b2.credential),
                              "status_idx": 8, "worker_ref": "W-N00200"})
    assert r.status_code == 200, r.json
    assert r.json["new"]["worker_id"] != env.workers[0]
    assert verify(env, b)["reason"] == "revoked"
    # the serial is checked; another agency's key reaches nothing
    r = env.client.get(f"/api/v1/agencies/{A}/badges?serial=xyz", headers=env.auth(A))
    assert (r.status_code, r.json["reason"]) == (400, "malformed")
    assert env.client.get(by_serial, headers=env.auth(B)).status_code == 403
