"""Clone evidence does not depend on the order taps reach the verifier (docs/protocol.md "Clone
evidence"): every physically possible arrival order of one scenario is played against a fresh
verifier.

A badge's flash is copied when its counter is 10; from then on the original (A) and the copy
(A') sign with one key, each from counter 11 on, and each also rewrites its tag unseen, so the
counters the verifier sees interleave:

    A   check-in at the desk terminal   ctr 11   T+0h    uploaded late
    A   check-in at the ESP32 terminal  ctr 13   T+1h    uploaded late
    A'  status tap on a phone           ctr 12   T+2h    arrives at once
    A   status tap on a phone           ctr 15   T+3h    arrives at once
    A'  check-in at the desk terminal   ctr 14   T+4h    uploaded late

No counter repeats, so only the time rule can see the clone: ctr 13 was signed before ctr 12,
and ctr 15 before ctr 14. The same day played by one honest badge (counters in time order,
uploads just as late) must give no evidence in any order: a rule that compares arrival order
with counter order flags the late uploads there and misses the clone in some orders here.
"""
import dataclasses
import itertools
import os

import pytest
from sqlalchemy import select

from verifier.models import CloneEvidence
from verifier.services import registry

H = 3600
# (who, kind, counter, hours after T)
CLONED = [("A", "desk", 11, 0), ("A", "esp32", 13, 1), ("A'", "phone", 12, 2),
          ("A", "phone", 15, 3), ("A'", "desk", 14, 4)]
HONEST = [("A", "desk", 11, 0), ("A", "esp32", 13, 1), ("A", "phone", 14, 2),
          ("A", "phone", 15, 3), ("A", "desk", 16, 4)]
# the demo's clone (demo/month.py): both copies boot and write a status token (11, unseen);
# the original checks in on two days (12, 14: a rewrite after each), the copy on the third (12)
DEMO = [("A", "desk", 12, 0), ("A", "desk", 14, 24), ("A'", "esp32", 12, 48)]
UPLOAD_DELAY = {"desk": 6 * H, "esp32": 3 * H, "phone": 0}   # at the latest
DEMO_DELAY = {"desk": 72 * H, "esp32": 72 * H, "phone": 0}   # terminals offline for days


def arrival_orders(scenario, delays=UPLOAD_DELAY):
    """Every order in which the items can arrive: a phone tap arrives when it happens; a
    terminal's item at any moment from its tap to its terminal's next upload. The verifier's
    clock only goes forward, so an order is possible when an arrival time can be given to each
    item in turn."""
    orders = []
    for perm in itertools.permutations(range(len(scenario))):
        clock, ok = -1, True
        for i in perm:
            _, kind, _, hours = scenario[i]
            earliest, latest = hours * H, hours * H + delays[kind]
            clock = max(clock, earliest)
            if clock > latest:
                ok = False
                break
        if ok:
            orders.append(perm)
    return orders


def _id(perm):
    return "-".join(str(i + 1) for i in perm)


def play(env, scenario, order):
    """Deliver the scenario's items in `order`; the verifier's clock at each arrival is the
    earliest moment the order allows. Returns the per-item results in scenario order."""
    agency = env.world.agencies[0].id
    original = env.world.badges[0]
    original.counter = 10
    badges = {"A": original, "A'": dataclasses.replace(original)}
    with env.x.db.session() as s:
        esp32 = ("T-%s-ESP32" % agency,
                 registry.create_terminal(s, agency, "T-%s-ESP32" % agency, "esp32",
                                          env.world.now, "test"))
    terminals = {"desk": env.terminals[agency], "esp32": esp32}
    t0 = env.world.now - 4 * 24 * H
    tokens = {}
    for i, (who, kind, ctr, hours) in enumerate(scenario):   # each copy signs in its own order
        b = badges[who]
        b.counter = ctr - 1
        if kind == "phone":
            tokens[i] = b.tap("status")
        else:
            tid = terminals[kind][0]
            t, nonce = t0 + hours * H, os.urandom(16)
            tokens[i] = {"token": b.tap("checkin", terminal_id=tid, terminal_time=t,
                                        nonce=nonce),
                         "receipt": {"terminal_id": tid, "seen_at": t, "nonce": nonce.hex()}}
    results, clock = {}, -1
    for i in order:
        _, kind, _, hours = scenario[i]
        clock = max(clock, hours * H)
        env.app.config["FIXED_NOW"] = t0 + clock
        if kind == "phone":
            r = env.client.post("/api/v1/verify", data=tokens[i] + original.credential,
                                content_type="application/cbor")
            results[i] = r.json.get("reason") or "accepted"
        else:
            item = dict(tokens[i], token=_b64(tokens[i]["token"]),
                        credential=_b64(original.credential))
            r = env.client.post("/api/v1/checkins", json={"items": [item]},
                                headers={"Authorization": "Bearer " + terminals[kind][1]})
            res = r.json["results"][0]
            results[i] = res.get("reason") or res["result"]
    with env.x.db.session() as s:
        evidence = s.execute(select(CloneEvidence.kind, CloneEvidence.ctr_key,
                                    CloneEvidence.high_water_key)).all()
    return [results[i] for i in range(len(scenario))], evidence


def _b64(data):
    import base64
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


CLONED_ORDERS = arrival_orders(CLONED)
HONEST_ORDERS = arrival_orders(HONEST)
DEMO_ORDERS = arrival_orders(DEMO, DEMO_DELAY)


def test_the_scenarios_have_many_arrival_orders():
    # uploads late, desk before ESP32 and after it, phone taps between: all of them occur
    assert len(CLONED_ORDERS) >= 10 and len(HONEST_ORDERS) >= 10
    assert any(p.index(4) < p.index(0) for p in CLONED_ORDERS)        # a late desk upload
    assert any(p.index(0) > p.index(1) for p in CLONED_ORDERS)        # ESP32 before desk
    assert any(p.index(1) > p.index(2) for p in CLONED_ORDERS)        # upload after a phone


@pytest.mark.parametrize("order", CLONED_ORDERS, ids=[_id(p) for p in CLONED_ORDERS])
def test_a_clone_is_evidence_in_every_arrival_order(env, order):
    results, evidence = play(env, CLONED, order)
    assert evidence, "no clone evidence for arrival order %s: %s" % (_id(order), results)
    assert {kind for kind, _, _ in evidence} == {"counter_regression"}
    # every pair recorded is one the scenario contradicts: (13 before 12) or (15 before 14)
    pairs = {frozenset((k + 2 ** 63, h + 2 ** 63)) for _, k, h in evidence}
    assert pairs <= {frozenset((12, 13)), frozenset((14, 15))}, pairs
    # check-ins are never lost to the evidence: each one counts, as a late upload must
    assert [results[i] for i in (0, 1, 4)] == ["accepted"] * 3


@pytest.mark.parametrize("order", HONEST_ORDERS, ids=[_id(p) for p in HONEST_ORDERS])
def test_one_honest_badge_is_never_evidence_whatever_the_order(env, order):
    results, evidence = play(env, HONEST, order)
    assert evidence == [], (results, evidence)
    assert results == ["accepted"] * len(HONEST)


@pytest.mark.parametrize("order", DEMO_ORDERS, ids=[_id(p) for p in DEMO_ORDERS])
def test_the_demos_clone_is_evidence_in_every_arrival_order(env, order):
    assert len(DEMO_ORDERS) == 6                        # all of them: uploads days late
    results, evidence = play(env, DEMO, order)
    assert evidence, (results, evidence)
    kinds = {kind for kind, _, _ in evidence}
    assert kinds <= {"counter_collision", "counter_regression"}
    # whichever copy's 12 came first was booked; the other's is the evidence and refused
    assert sorted(results[i] for i in (0, 2)) == ["accepted", "replayed"]
