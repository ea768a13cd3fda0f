"""Replay bookkeeping and check-in ingest.

- `claim_tap`: a (badge, counter) pair is booked once (unique constraint, INSERT .. ON CONFLICT
  DO NOTHING). The same token again is a duplicate. Clone evidence is a property of the set of
  taps, not of the order they arrive in (docs/protocol.md "Clone evidence"): two different
  tokens with one counter (`counter_collision`), or two taps whose counter order contradicts
  their time order by more than CLOCK_TOLERANCE_S (`counter_regression`: the higher counter was
  signed earlier). Each tap is compared with every booked tap of its badge when it arrives, so
  whichever of a contradicting pair arrives second records the evidence.
- `ingest`: a batch of check-ins in one transaction, each item inside a savepoint so an item
  is written completely or not at all; concurrent batches on PostgreSQL are arbitrated by the
  unique constraints (a conflicting insert waits for the other transaction and then sees its
  row); deadlocks and serialisation failures are retried by the caller (`run_batch`).
"""
import base64
import binascii
import time
from dataclasses import dataclass

from sqlalchemy import bindparam, case, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

from ..models import Attendance, Checkin, CloneEvidence, Tap, ctr_key
from . import disclosures, links, verification
from .periods import period_of

# A terminal's clock may be off by this much (it syncs its clock with ours); a counter order
# that contradicts the time order by less is not evidence.
CLOCK_TOLERANCE_S = 300


def _insert(session, model):
    mod = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return mod.insert(model)


def event_time(tap, now):
    """When a tap happened: a check-in carries its terminal's time; a phone tap has no clock of
    its own and happened when it reached us."""
    return tap.terminal_time if tap.purpose == "checkin" else now


@dataclass
class Claim:
    """What booking a tap found: `outcome` is 'new', 'duplicate' (this exact token before) or
    'collision' (another token with this counter); `below` is True when a higher counter of the
    badge was booked already; `evidence` when the tap recorded clone evidence."""
    outcome: str
    below: bool = False
    evidence: bool = False


def _evidence(session, tap, kind, source, now, other):
    session.add(CloneEvidence(badge_kid=tap.badge_kid.hex(), kind=kind,
                              ctr_key=ctr_key(tap.counter), high_water_key=other.ctr_key,
                              token_hash=tap.token_hash.hex(), other_token_hash=other.token_hash,
                              source=source, at=now))
    session.flush()


def _statements(dialect):
    """The two statements of booking a new tap, built once per dialect with bound parameters
    (building SQLAlchemy constructs per tap cost more than running them)."""
    st = _STATEMENTS.get(dialect)
    if st is None:
        mod = postgresql if dialect == "postgresql" else sqlite
        p = bindparam
        ins = (mod.insert(Tap).values(badge_kid=p("kid"), ctr_key=p("key"), token_hash=p("h"),
                                      purpose=p("purpose"), seen_at=p("t"), at=p("now"))
               .on_conflict_do_nothing(index_elements=["badge_kid", "ctr_key"])
               .returning(Tap.id))
        # a booked tap whose counter order contradicts its time order with (key, t): a higher
        # counter signed before t, or a lower one signed after t (beyond the tolerance)
        higher_earlier = (select(Tap.id).where(Tap.badge_kid == p("kid"), Tap.ctr_key > p("key"),
                                               Tap.seen_at < p("lo"))
                          .order_by(Tap.seen_at).limit(1).scalar_subquery())
        lower_later = (select(Tap.id).where(Tap.badge_kid == p("kid"), Tap.ctr_key < p("key"),
                                            Tap.seen_at > p("hi"))
                       .order_by(Tap.seen_at.desc()).limit(1).scalar_subquery())
        high = (select(func.max(Tap.ctr_key), higher_earlier, lower_later)
                .where(Tap.badge_kid == p("kid")))
        st = _STATEMENTS[dialect] = (ins, high)
    return st


_STATEMENTS: dict = {}


def claim_tap(session, tap, now, source) -> Claim:
    """Book (badge, counter) once and record clone evidence (module docstring). Two statements
    for a new tap: the insert, and one read of the badge's high-water mark together with a
    contradicting tap's id."""
    kid, key, h = tap.badge_kid.hex(), ctr_key(tap.counter), tap.token_hash.hex()
    t = event_time(tap, now)
    ins, high_stmt = _statements(session.get_bind().dialect.name)
    if session.execute(ins, {"kid": kid, "key": key, "h": h, "purpose": tap.purpose, "t": t,
                             "now": now}).scalar() is None:
        other = session.scalars(select(Tap).where(Tap.badge_kid == kid,
                                                  Tap.ctr_key == key)).one()
        if other.token_hash == h:
            return Claim("duplicate")
        _evidence(session, tap, "counter_collision", source, now, other)
        return Claim("collision", evidence=True)
    high, he, ll = session.execute(high_stmt, {"kid": kid, "key": key,
                                               "lo": t - CLOCK_TOLERANCE_S,
                                               "hi": t + CLOCK_TOLERANCE_S}).one()
    claim = Claim("new", below=high is not None and high > key)
    other_id = he if he is not None else ll
    if other_id is not None:
        _evidence(session, tap, "counter_regression", source, now, session.get(Tap, other_id))
        claim.evidence = True
    return claim


def record_view(session, snapshot, token, credential, now, policy, cache=None,
                role="public"):
    """Verify a status/consent/checkin tap for /verify and book status/consent taps:
    each (badge, counter) once, nothing below the high-water mark. Check-in taps are only
    verified here; they are booked by `ingest`. A booked tap is a "status" disclosure of the
    worker to `role` (the verdict shows the status, never the consent profile)."""
    verdict, tap = verification.check(snapshot, token, credential, now, policy, cache=cache)
    if verdict.valid and tap.purpose != "checkin":
        claim = claim_tap(session, tap, now, "verify")      # the request's one transaction
        if claim.outcome != "new" or claim.below:
            verdict.valid, verdict.reason = False, "replayed"   # a phone token works once
        else:
            disclosures.record(session, tap.credential.iss, tap.credential.sub, now, "status",
                               role, token_hash=tap.token_hash.hex())
    return verdict


# -- check-in ingest ---------------------------------------------------------------------

def _b64(value, what):
    if not isinstance(value, str) or len(value) > 2048:
        raise ValueError(f"{what} must be base64url text")
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as err:
        raise ValueError(f"{what} is not base64url") from err


def parse_item(item):
    """(token, credential, receipt) or ValueError."""
    if not isinstance(item, dict):
        raise ValueError("item must be an object")
    receipt = item.get("receipt")
    if not isinstance(receipt, dict):
        raise ValueError("receipt missing")
    tid, seen, nonce = receipt.get("terminal_id"), receipt.get("seen_at"), receipt.get("nonce")
    if not isinstance(tid, str) or type(seen) is not int or not isinstance(nonce, str):
        raise ValueError("receipt needs terminal_id (text), seen_at (int), nonce (hex)")
    return _b64(item.get("token"), "token"), _b64(item.get("credential"), "credential"), \
        (tid, seen, nonce.lower())


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


def ingest_item(session, snapshot, terminal, item, now, policy, tz, start_day, cache=None,
                link_key=None):
    """One item -> result dict. Writes happen inside a savepoint: all or nothing. An
    accepted check-in keeps the hash of the link code its terminal showed (`link_key`, from
    the terminal's token; services/links.py)."""
    try:
        token, cred, (tid, seen_at, nonce_hex) = parse_item(item)
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
    h = tap.token_hash.hex()
    sp = session.begin_nested()
    try:
        claim = claim_tap(session, tap, now, f"terminal:{terminal.id}")
        if claim.outcome == "duplicate":
            sp.commit()
            return {**out, "result": "duplicate"}
        if claim.outcome == "collision":
            sp.commit()                      # keep the evidence
            return {**out, "result": "refused", "reason": "replayed", "clone_signal": True}
        period = period_of(tap.terminal_time, tz, start_day)
        stmt = (_insert(session, Checkin).values(
            token_hash=h, nonce=tap.nonce.hex(), badge_kid=tap.badge_kid.hex(),
            ctr_key=ctr_key(tap.counter), agency_id=tap.credential.iss,
            worker_ref=tap.credential.sub, terminal_id=terminal.id,
            seen_at=tap.terminal_time, received_at=now, period=period, token=tap.token)
            .on_conflict_do_nothing().returning(Checkin.id))
        if session.execute(stmt).scalar() is None:
            sp.rollback()                    # nonce already used by another token
            return {**out, "result": "refused", "reason": "replayed"}
        _attendance(session, tap.credential.iss, tap.credential.sub, period,
                    tap.terminal_time, terminal.id)
        if link_key is not None:
            links.from_checkin(session, link_key, tap.token_hash, tap.credential.iss,
                               tap.credential.sub, tap.badge_kid.hex(), terminal.id,
                               tap.terminal_time)
        sp.commit()
    except BaseException:
        if sp.is_active:
            sp.rollback()
        raise
    # accepted below the high-water mark too: terminals upload late
    res = {**out, "result": "accepted", "period": period, "stale": verdict.stale}
    if claim.evidence:
        res["clone_signal"] = True
    return res


def run_batch(db, snapshot, terminal, items, now, policy, tz, start_day, cache=None,
              retries=8, link_key=None):
    """Ingest a batch in one transaction; retried whole on deadlock/serialisation errors.
    Items are processed in (badge, counter) order to keep lock order stable."""
    order = sorted(range(len(items)), key=lambda i: _sort_key(items[i]))
    for attempt in range(retries):
        try:
            results = [None] * len(items)
            with db.session() as session:
                for i in order:
                    results[i] = ingest_item(session, snapshot, terminal, items[i], now,
                                             policy, tz, start_day, cache, link_key)
            return results
        except DBAPIError as err:
            if attempt == retries - 1 or not _retryable(err):
                raise
            time.sleep(0.01 * (attempt + 1))
    raise RuntimeError("unreachable")


def _sort_key(item):
    if isinstance(item, dict):
        return (str(item.get("credential", ""))[:64], str(item.get("token", "")))
    return ("", "")


def _retryable(err):
    code = getattr(getattr(err, "orig", None), "sqlstate", None)
    if code in ("40P01", "40001", "23505"):
        return True
    return "database is locked" in str(err)
