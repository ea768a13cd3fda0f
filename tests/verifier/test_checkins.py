"""POST /api/v1/checkins: verification, idempotency, nonce once, clone evidence, receipts."""
import os

from sqlalchemy import func, select

from verifier.models import Attendance, Checkin, CloneEvidence, Tap


def count(env, model):
    with env.x.db.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_batch_accepts_then_duplicates_idempotently(env):
    a = env.world.agencies[0].id
    items = [env.checkin_item(0), env.checkin_item(2), env.checkin_item(4)]
    r = env.post_checkins(a, items)
    assert r.status_code == 200 and r.json["summary"] == {"accepted": 3}
    r = env.post_checkins(a, items + items[:1])
    assert r.json["summary"] == {"duplicate": 4}
    assert [x["index"] for x in r.json["results"]] == [0, 1, 2, 3]
    assert count(env, Checkin) == 3 and count(env, Tap) == 3


def test_nonce_is_accepted_once(env):
    a = env.world.agencies[0].id
    nonce = os.urandom(16)
    r = env.post_checkins(a, [env.checkin_item(0, nonce=nonce), env.checkin_item(2, nonce=nonce)])
    assert [x["result"] for x in r.json["results"]] == ["accepted", "refused"]
    assert r.json["results"][1]["reason"] == "replayed"
    assert count(env, Checkin) == 1 and count(env, Tap) == 1   # the refused item left nothing


def test_same_counter_other_token_and_regression_are_evidence(env):
    a, b, t0 = env.world.agencies[0].id, env.world.badges[0], env.world.now - 3600
    first = env.checkin_item(0, t=t0)
    b.counter -= 1
    clone = env.checkin_item(0, t=t0 + 60)          # same counter, other nonce -> other token
    r = env.post_checkins(a, [first])
    assert r.json["summary"] == {"accepted": 1}
    r = env.post_checkins(a, [clone])
    assert r.json["results"][0]["reason"] == "replayed" and r.json["results"][0]["clone_signal"]
    b.counter += 5
    high = env.checkin_item(0, t=t0 + 600)
    b.counter -= 3
    low = env.checkin_item(0, t=t0 + 1200)          # a lower counter signed LATER: a second key
    r = env.post_checkins(a, [high])
    r = env.post_checkins(a, [low])
    assert r.json["results"][0]["result"] == "accepted" and r.json["results"][0]["clone_signal"]
    with env.x.db.session() as s:
        kinds = sorted(s.scalars(select(CloneEvidence.kind)))
    assert kinds == ["counter_collision", "counter_regression"]


def test_a_late_upload_below_the_high_water_mark_is_not_evidence(env):
    """A terminal that uploads this morning's check-in after a phone tap of this afternoon: a
    lower counter, signed earlier. One badge does exactly that; nothing is recorded."""
    a, b, now = env.world.agencies[0].id, env.world.badges[0], env.world.now
    morning = env.checkin_item(0, t=now - 6 * 3600)
    r = env.client.post("/api/v1/verify", data=b.tap("status") + b.credential,
                        content_type="application/cbor")
    assert r.status_code == 200
    r = env.post_checkins(a, [morning])
    assert r.json["results"][0]["result"] == "accepted"
    assert "clone_signal" not in r.json["results"][0]
    assert count(env, CloneEvidence) == 0


def test_receipt_and_terminal_binding(env):
    a, other = env.world.agencies[0].id, env.world.agencies[1].id
    item = env.checkin_item(0)
    bad = dict(item, receipt=dict(item["receipt"], seen_at=item["receipt"]["seen_at"] + 1))
    r = env.post_checkins(a, [bad])
    assert r.json["results"][0]["reason"] == "receipt_mismatch"
    # the token names agency 0's terminal; sent with agency 1's terminal token
    r = env.post_checkins(other, [env.checkin_item(0)])
    assert r.json["results"][0]["reason"] == "receipt_mismatch"
    # agency 1's worker at agency 0's terminal
    tid = env.terminals[a][0]
    r = env.post_checkins(a, [env.checkin_item(1, terminal_id=tid)])
    assert r.json["results"][0]["reason"] == "wrong_agency"
    # a status token is not a check-in
    b = env.world.badges[0]
    from tests.verifier.conftest import b64
    st = dict(item, token=b64(b.tap("status")))
    r = env.post_checkins(a, [st, "junk", {"receipt": {}}])
    assert [x["reason"] for x in r.json["results"]] == ["wrong_purpose", "malformed",
                                                        "malformed"]
    assert count(env, Checkin) == 0


def test_auth_and_body_limits(env):
    a = env.world.agencies[0].id
    r = env.client.post("/api/v1/checkins", json={"items": []},
                        headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401
    r = env.client.post("/api/v1/checkins", json={"items": []}, headers=env.auth(a))
    assert r.status_code == 401                      # an API key is not a terminal token
    r = env.client.post("/api/v1/checkins", data=b"[", headers=env.terminal_auth(a))
    assert r.status_code == 400
    r = env.client.post("/api/v1/checkins", json={"items": [{}] * 1001},
                        headers=env.terminal_auth(a))
    assert (r.status_code, r.json["reason"]) == (413, "oversized")


def test_suspended_badge_checkin_refused(env):
    a = env.world.agencies[0].id
    env.client.post(f"/api/v1/agencies/{a}/badges/{env.badge_ids[0]}/suspend",
                    json={"reason": "x"}, headers=env.auth(a))
    r = env.post_checkins(a, [env.checkin_item(0)])
    assert r.json["results"][0]["reason"] == "suspended"
    assert count(env, Attendance) == 0
