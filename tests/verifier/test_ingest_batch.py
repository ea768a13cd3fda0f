"""Set-based check-in ingest (verifier/services/ingest.py) against the item-by-item booking it
replaced: the same per-item results and the same rows, whatever a batch holds (items that
collide with each other or with the database, refusals of every kind, clone evidence both
ways, nonces used twice).

The oracle is the old path, kept here and only here: each item in the batch's order inside a
savepoint, ledger.claim_tap, then its check-in, its attendance row and its link code. Both run
on twin databases (SQLite and PostgreSQL) that hold the same taps before the batch."""
import os
import random

import pytest
from sqlalchemy import case, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from tests.verifier.conftest import Env, b64, make_app, new_database
from verifier.models import Attendance, Checkin, CloneEvidence, LinkCode, Tap, Terminal, ctr_key
from verifier.services import ingest, ledger, links, verification
from verifier.services.periods import period_of
from xinka import linkcode

TZ, START_DAY = "Asia/Shanghai", 1
LINK_KEY = b"k" * 32
H = 3600


# -- the oracle: item by item, a savepoint each (the code ingest replaced) ---------------

def _insert(session, model):
    mod = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return mod.insert(model)


def _attendance(session, agency_id, worker_ref, period, at, terminal_id):
    ins = _insert(session, Attendance).values(
        agency_id=agency_id, worker_ref=worker_ref, period=period, first_at=at, last_at=at,
        first_terminal=terminal_id, last_terminal=terminal_id, count=1)
    ex, t = ins.excluded, Attendance.__table__.c
    session.execute(ins.on_conflict_do_update(
        index_elements=["agency_id", "period", "worker_ref"],
        set_={"first_at": case((ex.first_at < t.first_at, ex.first_at), else_=t.first_at),
              "first_terminal": case((ex.first_at < t.first_at, ex.first_terminal),
                                     else_=t.first_terminal),
              "last_at": case((ex.last_at > t.last_at, ex.last_at), else_=t.last_at),
              "last_terminal": case((ex.last_at > t.last_at, ex.last_terminal),
                                    else_=t.last_terminal),
              "count": t.count + 1}))


def _old_item(session, snapshot, terminal, item, now, policy, cache):
    try:
        token, cred, (tid, seen_at, nonce_hex) = ingest.parse_item(item)
    except ValueError as err:
        return {"result": "refused", "reason": "malformed", "detail": str(err)}
    verdict, tap = verification.check(snapshot, token, cred, now, policy, ("checkin",), cache)
    if tap is None:
        return {"result": "refused", "reason": verdict.reason}
    out = {"badge": tap.badge_kid.hex(), "counter": verdict.to_json()["counter"],
           "worker_ref": verdict.worker_ref}
    if tid != terminal.id or tap.terminal_id != terminal.id or seen_at != tap.terminal_time \
            or nonce_hex != tap.nonce.hex():
        return {**out, "result": "refused", "reason": "receipt_mismatch"}
    if tap.credential.iss != terminal.agency_id:
        return {**out, "result": "refused", "reason": "wrong_agency"}
    if tap.terminal_time > now + 300:
        return {**out, "result": "refused", "reason": "not_yet_valid"}
    if not verdict.valid:
        return {**out, "result": "refused", "reason": verdict.reason}
    sp = session.begin_nested()
    claim = ledger.claim_tap(session, tap, now, f"terminal:{terminal.id}")
    if claim.outcome == "duplicate":
        sp.commit()
        return {**out, "result": "duplicate"}
    if claim.outcome == "collision":
        sp.commit()
        return {**out, "result": "refused", "reason": "replayed", "clone_signal": True}
    period = period_of(tap.terminal_time, TZ, START_DAY)
    h = tap.token_hash.hex()
    stmt = (_insert(session, Checkin).values(
        token_hash=h, nonce=tap.nonce.hex(), badge_kid=tap.badge_kid.hex(),
        ctr_key=ctr_key(tap.counter), agency_id=tap.credential.iss,
        worker_ref=tap.credential.sub, terminal_id=terminal.id,
        seen_at=tap.terminal_time, received_at=now, period=period, token=tap.token)
        .on_conflict_do_nothing().returning(Checkin.id))
    if session.execute(stmt).scalar() is None:
        sp.rollback()                    # nonce already used by another token
        return {**out, "result": "refused", "reason": "replayed"}
    _attendance(session, tap.credential.iss, tap.credential.sub, period, tap.terminal_time,
                terminal.id)
    code = linkcode.code_of_hash(LINK_KEY, tap.token_hash)
    session.execute(insert(LinkCode).values(
        code_hash=links.code_hash(code), agency_id=tap.credential.iss,
        worker_ref=tap.credential.sub, badge_kid=tap.badge_kid.hex(),
        source=f"terminal:{terminal.id}"[:80], issued_at=tap.terminal_time,
        valid_until=tap.terminal_time + links.LINK_S))
    sp.commit()
    res = {**out, "result": "accepted", "period": period, "stale": verdict.stale}
    if claim.evidence:
        res["clone_signal"] = True
    return res


def old_run_batch(env, items):
    x, now, term = env.x, env.x.now(), terminal(env)
    results = [None] * len(items)
    with x.db.session() as s:
        for i in sorted(range(len(items)), key=lambda i: ingest._sort_key(items[i])):
            results[i] = _old_item(s, x.store.snapshot, term, items[i], now, x.policy,
                                   x.store.cache)
    return results


def new_run_batch(env, items):
    x = env.x
    return ingest.run_batch(x.db, x.store.snapshot, terminal(env), items, x.now(), x.policy,
                            TZ, START_DAY, x.store.cache, link_key=LINK_KEY)


def terminal(env):
    with env.x.db.session() as s:
        term = s.get(Terminal, env.terminals[env.world.agencies[0].id][0])
        s.expunge(term)
    return term


def state(env):
    """Every row ingest writes, in a comparable form."""
    with env.x.db.session() as s:
        return {
            "taps": sorted(s.execute(select(Tap.badge_kid, Tap.ctr_key, Tap.token_hash,
                                            Tap.purpose, Tap.seen_at)).all()),
            "checkins": sorted(s.execute(select(
                Checkin.token_hash, Checkin.nonce, Checkin.badge_kid, Checkin.ctr_key,
                Checkin.worker_ref, Checkin.terminal_id, Checkin.seen_at, Checkin.period,
                Checkin.token)).all()),
            "attendance": sorted(s.execute(select(
                Attendance.agency_id, Attendance.period, Attendance.worker_ref,
                Attendance.first_at, Attendance.last_at, Attendance.first_terminal,
                Attendance.last_terminal, Attendance.count)).all()),
            "evidence": sorted(s.execute(select(
                CloneEvidence.badge_kid, CloneEvidence.kind, CloneEvidence.ctr_key,
                CloneEvidence.high_water_key, CloneEvidence.token_hash,
                CloneEvidence.other_token_hash, CloneEvidence.source)).all()),
            "links": sorted(s.execute(select(LinkCode.code_hash, LinkCode.badge_kid,
                                             LinkCode.worker_ref, LinkCode.issued_at)).all()),
        }


@pytest.fixture
def twins(db_kind, request, tmp_path, world):
    """Two verifiers on two databases of one kind, one world: new path and oracle."""
    envs = [Env(make_app(new_database(db_kind, request, tmp_path), world), world)
            for _ in range(2)]
    yield envs
    for e in envs:
        e.x.db.engine.dispose()


def both(twins, items):
    """The batch through the new path (first twin) and the oracle (second): the results."""
    new, old = new_run_batch(twins[0], items), old_run_batch(twins[1], items)
    assert new == old
    assert state(twins[0]) == state(twins[1])
    return new


def prior(twins, items, status_taps=()):
    """The same earlier state in both twins: a batch, and phone taps (status) of badges."""
    for e in twins:
        assert all(r["result"] == "accepted" for r in new_run_batch(e, items))
    for tok, cred in status_taps:
        for e in twins:
            r = e.client.post("/api/v1/verify", data=tok + cred, content_type="application/cbor")
            assert r.status_code == 200, r.json


# -- the cases ------------------------------------------------------------------------------

def test_the_same_token_twice_in_one_batch_is_accepted_once(twins):
    e = twins[0]
    item = e.checkin_item(0)
    res = both(twins, [item, e.checkin_item(2), item, item])
    assert [r["result"] for r in res].count("accepted") == 2
    assert [r["result"] for r in res].count("duplicate") == 2
    assert res[1]["result"] == "accepted"
    with e.x.db.session() as s:
        assert s.scalar(select(func.sum(Attendance.count))) == 2


def test_two_tokens_with_one_counter_in_one_batch_are_evidence(twins):
    e, b = twins[0], twins[0].world.badges[0]
    t0 = e.world.now - 2 * H
    one = e.checkin_item(0, t=t0)
    b.counter -= 1
    other = e.checkin_item(0, t=t0 + 60)           # the same counter, another token
    res = both(twins, [one, other])
    assert sorted(r["result"] for r in res) == ["accepted", "refused"]
    refused = next(r for r in res if r["result"] == "refused")
    assert refused["reason"] == "replayed" and refused["clone_signal"] is True
    ev = state(e)["evidence"]
    assert [k for _, k, *_ in ev] == ["counter_collision"]


def test_a_regression_inside_one_batch_is_evidence_and_both_count(twins):
    e, b = twins[0], twins[0].world.badges[0]
    t0 = e.world.now - 5 * H
    b.counter += 5
    high = e.checkin_item(0, t=t0)                 # the higher counter signed first
    b.counter -= 3
    low = e.checkin_item(0, t=t0 + 3600)           # a lower one an hour later: a second key
    res = both(twins, [high, low])
    assert [r["result"] for r in res] == ["accepted", "accepted"]
    assert sum(bool(r.get("clone_signal")) for r in res) == 1
    assert [k for _, k, *_ in state(e)["evidence"]] == ["counter_regression"]


def test_a_regression_within_the_clock_tolerance_is_not_evidence(twins):
    e, b = twins[0], twins[0].world.badges[0]
    t0 = e.world.now - 5 * H
    b.counter += 5
    high = e.checkin_item(0, t=t0)
    b.counter -= 3
    low = e.checkin_item(0, t=t0 + ledger.CLOCK_TOLERANCE_S)
    res = both(twins, [high, low])
    assert [r["result"] for r in res] == ["accepted", "accepted"]
    assert not any(r.get("clone_signal") for r in res) and state(e)["evidence"] == []


def test_nonces_used_twice_in_the_batch_and_before_it(twins):
    e = twins[0]
    used = os.urandom(16)
    prior(twins, [e.checkin_item(4, nonce=used)])
    again = os.urandom(16)
    res = both(twins, [e.checkin_item(0, nonce=used),          # used before the batch
                       e.checkin_item(2, nonce=again), e.checkin_item(6, nonce=again),
                       e.checkin_item(0)])
    assert sorted(r.get("reason") or r["result"] for r in res) == \
        ["accepted", "accepted", "replayed", "replayed"]
    assert not any(r.get("clone_signal") for r in res)


def test_a_counter_whose_first_item_is_refused_goes_to_the_next(twins):
    """The batch's first item of a counter books its tap; when it is then refused (its nonce
    was used), the next item of that counter is booked instead, as it would have been had the
    refused one never come. Both orders of the two items."""
    e, b = twins[0], twins[0].world.badges[0]
    used = os.urandom(16)
    prior(twins, [e.checkin_item(2, nonce=used)])
    seen = set()
    for k in range(6):                  # the batch's order follows the tokens' bytes: time
        t = e.world.now - 3 * H
        a = e.checkin_item(0, nonce=used, t=t)
        b.counter -= 1
        c = e.checkin_item(0, t=t + (30 if k % 2 else -30))
        res = both(twins, [a, c])
        a_first = ingest._sort_key(a) < ingest._sort_key(c)
        seen.add(a_first)
        # a first: its nonce refuses it and c, next, is booked; c first: c is booked and a
        # is another token with c's counter (evidence)
        assert res[0] == {**res[0], "result": "refused", "reason": "replayed"}
        assert res[0].get("clone_signal", False) is not a_first
        assert res[1]["result"] == "accepted"
    assert seen == {True, False}


def test_refusals_of_every_kind_beside_acceptances(twins):
    e = twins[0]
    a0, a1 = e.world.agencies[0].id, e.world.agencies[1].id
    now = e.world.now
    done = e.checkin_item(0, t=now - 4 * H)
    prior(twins, [done])
    for env in twins:                               # badge 4 suspended in both
        r = env.client.post(f"/api/v1/agencies/{a0}/badges/{env.badge_ids[4]}/suspend",
                            json={"reason": "x"}, headers=env.auth(a0))
        assert r.status_code == 200, r.json
    item = e.checkin_item(2)
    bad_receipt = dict(item, receipt=dict(item["receipt"], seen_at=item["receipt"]["seen_at"] + 1))
    status = dict(e.checkin_item(6), token=b64(e.world.badges[6].tap("status")))
    tid = e.terminals[a0][0]
    res = both(twins, [
        done,                                       # booked before: duplicate
        bad_receipt,                                # receipt_mismatch
        e.checkin_item(1, terminal_id=tid),         # agency 1's badge at agency 0's terminal
        e.checkin_item(0, t=now + 301),             # not_yet_valid
        e.checkin_item(4),                          # suspended
        status,                                     # wrong_purpose
        "junk", {"receipt": {}}, {"token": 7, "credential": "x", "receipt": {
            "terminal_id": tid, "seen_at": 1, "nonce": "00"}},   # malformed
        e.checkin_item(0), e.checkin_item(6)])      # accepted
    assert [r.get("reason") or r["result"] for r in res] == [
        "duplicate", "receipt_mismatch", "wrong_agency", "not_yet_valid", "suspended",
        "wrong_purpose", "malformed", "malformed", "malformed", "accepted", "accepted"]
    assert a1                                       # (the other agency exists)


def test_evidence_against_taps_of_the_database_and_of_the_batch(twins):
    """A clone's taps spread over the database (check-ins and a phone tap) and the batch: the
    contradicting tap the rule picks may be either."""
    e, b = twins[0], twins[0].world.badges[0]
    now = e.world.now
    b.counter = 100
    early_high = e.checkin_item(0, t=now - 10 * H)            # 101 at -10 h
    b.counter = 149
    prior(twins, [early_high], [(b.tap("status"), b.credential)])   # 150, now
    b.counter = 110
    batch_high = e.checkin_item(0, t=now - 12 * H)            # 111 at -12 h
    b.counter = 80
    lows = [e.checkin_item(0, t=now - k * H) for k in (9, 8, 3)]   # 81, 82, 83: later, lower
    b.counter = 50
    lower_earlier = e.checkin_item(0, t=now - 20 * H)        # 51 at -20 h: honest
    res = both(twins, [*lows, batch_high, lower_earlier])
    assert all(r["result"] == "accepted" for r in res)
    assert any(r.get("clone_signal") for r in res)
    assert state(e)["evidence"]


@pytest.mark.parametrize("seed", range(4))
def test_random_batches_give_what_item_by_item_gave(twins, seed):
    """Batches drawn at random from a pool that holds re-sends, tokens sharing a counter,
    counters out of time order, nonces used twice and refusals, three batches in a row."""
    rnd = random.Random(seed)
    e = twins[0]
    now = e.world.now
    mine = [i for i, b in enumerate(e.world.badges) if b.agency_id == e.world.agencies[0].id]
    pool = []
    nonces = [os.urandom(16) for _ in range(4)]
    for _ in range(60):
        i = rnd.choice(mine)
        b = e.world.badges[i]
        kind = rnd.random()
        if kind < 0.15 and b.counter > 1:
            b.counter -= rnd.randint(1, 2)          # a counter that was or will be used
        elif kind < 0.3:
            b.counter += rnd.randint(1, 4)
        t = now - rnd.randint(0, 20) * 900
        nonce = rnd.choice(nonces) if rnd.random() < 0.1 else None
        pool.append(e.checkin_item(i, t=t, nonce=nonce))
    pool.append("junk")
    pool.append(e.checkin_item(mine[0], t=now + 1000))
    for _ in range(3):
        batch = rnd.sample(pool, 25)
        batch += rnd.sample(batch, 5)               # the same items again in the batch
        res = both(twins, batch)
        assert len(res) == len(batch)


def test_hostile_items_are_refused_beside_a_good_one_and_nothing_half_written(env):
    """Bad input is a refused item, never a 500 nor a row: every field of the wrong type, too
    long, flipped bits in the token and the credential, receipts that lie."""
    a = env.world.agencies[0].id
    rnd = random.Random(7)
    good = env.checkin_item(0)
    base = env.checkin_item(2)
    tok = ingest._b64(base["token"], "token")
    hostile = [None, 1, "x", [], {}, {"receipt": None}, {"receipt": []},
               dict(base, receipt=dict(base["receipt"], seen_at=True)),
               dict(base, receipt=dict(base["receipt"], seen_at=2 ** 70)),
               dict(base, receipt=dict(base["receipt"], seen_at=-1)),
               dict(base, receipt=dict(base["receipt"], seen_at=1.5)),
               dict(base, receipt=dict(base["receipt"], nonce="zz" * 16)),
               dict(base, receipt=dict(base["receipt"], nonce=7)),
               dict(base, receipt=dict(base["receipt"], terminal_id="T-other")),
               dict(base, token="A" * 5000), dict(base, token="!!!"), dict(base, token=None),
               dict(base, credential="A" * 5000), dict(base, credential=b64(b"\xa0")),
               dict(base, credential=base["token"])]
    for _ in range(30):
        data = bytearray(tok)
        data[rnd.randrange(len(data))] ^= rnd.randrange(1, 256)
        hostile.append(dict(base, token=b64(bytes(data))))
    r = env.post_checkins(a, [*hostile, good])
    assert r.status_code == 200
    results = r.json["results"]
    assert [x["result"] for x in results] == ["refused"] * len(hostile) + ["accepted"]
    with env.x.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Checkin)) == 1
        assert s.scalar(select(func.count()).select_from(Tap)) == 1
        assert s.scalar(select(func.sum(Attendance.count))) == 1
        assert s.scalar(select(func.count()).select_from(LinkCode)) == 1
