"""Replay bookkeeping: every tap booked once per (badge, counter), and clone evidence
(docs/protocol.md "Replay and clone evidence"). Check-in batches are booked by `ingest`, set-based,
under the same rules.

- `claim_tap`: a (badge, counter) pair is booked once (unique constraint, INSERT .. ON CONFLICT
  DO NOTHING). The same token again is a duplicate. Clone evidence is a property of the set of
  taps, not of the order they arrive in: two different tokens with one counter
  (`counter_collision`), or two taps whose counter order contradicts their time order by more
  than CLOCK_TOLERANCE_S (`counter_regression`: the higher counter was signed earlier). Each tap
  is compared with every booked tap of its badge when it arrives, so whichever of a
  contradicting pair arrives second records the evidence. A fresh tap is one statement: the
  insert, whose RETURNING carries the badge's high-water mark and the id of a contradicting
  tap (scalar subqueries whose conditions leave the new row out, whether they see it or not).
- `record_view` (/verify): the token is verified first, without the database; a status or
  consent tap is then booked in a short transaction of its own on a pooled connection
  (SQLAlchemy Core, no ORM session): the insert above and its disclosure row.

Every statement is Core on the tables (not the ORM entities), built once per dialect with bound
parameters, so it runs the same on a Session (the employer page, inside its savepoint) and on a
Connection.
"""
from dataclasses import dataclass

from sqlalchemy import bindparam, func, insert, literal_column, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..models import CloneEvidence, Tap, ctr_key
from . import disclosures, verification

# A terminal's clock may be off by this much (it syncs its clock with ours); a counter order
# that contradicts the time order by less is not evidence.
CLOCK_TOLERANCE_S = 300

TAPS = Tap.__table__
EVIDENCE = insert(CloneEvidence.__table__)


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


def evidence_row(kid, key, token_hash, kind, source, now, other_key, other_hash):
    """The parameters of one clone_evidence row (EVIDENCE): the tap (kid, key, token_hash)
    and the booked tap it contradicts (other_key, other_hash)."""
    return {"badge_kid": kid, "kind": kind, "ctr_key": key, "high_water_key": other_key,
            "token_hash": token_hash, "other_token_hash": other_hash, "source": source,
            "at": now}


def statements(dialect):
    """The statements of booking a tap, built once per dialect (building SQLAlchemy
    constructs per tap cost more than running them)."""
    st = _STATEMENTS.get(dialect)
    if st is None:
        mod = postgresql if dialect == "postgresql" else sqlite
        p, t, b = bindparam, TAPS, TAPS.alias("booked")
        # a booked tap whose counter order contradicts its time order with (key, t): a higher
        # counter signed before t, the earliest, or a lower one signed after t, the latest
        # (beyond the tolerance); a tie in time goes to the lower counter (as ingest picks)
        # the constants in the SQL text, not parameters (fewer to bind per tap)
        one, tol = literal_column("1"), literal_column(str(CLOCK_TOLERANCE_S))
        higher_earlier = (select(b.c.id).where(b.c.badge_kid == p("kid"), b.c.ctr_key > p("key"),
                                               b.c.seen_at < p("t") - tol)
                          .order_by(b.c.seen_at, b.c.ctr_key).limit(one).scalar_subquery())
        lower_later = (select(b.c.id).where(b.c.badge_kid == p("kid"), b.c.ctr_key < p("key"),
                                            b.c.seen_at > p("t") + tol)
                       .order_by(b.c.seen_at.desc(), b.c.ctr_key).limit(one)
                       .scalar_subquery())
        high = select(func.max(b.c.ctr_key)).where(b.c.badge_kid == p("kid")).scalar_subquery()
        ins = (mod.insert(t).values(badge_kid=p("kid"), ctr_key=p("key"), token_hash=p("h"),
                                    purpose=p("purpose"), seen_at=p("t"), at=p("now"))
               .on_conflict_do_nothing(index_elements=[t.c.badge_kid, t.c.ctr_key])
               .returning(t.c.id, high, higher_earlier, lower_later))
        at_key = select(t.c.token_hash).where(t.c.badge_kid == p("kid"), t.c.ctr_key == p("key"))
        by_id = select(t.c.ctr_key, t.c.token_hash).where(t.c.id == p("id"))
        st = _STATEMENTS[dialect] = (ins, at_key, by_id)
    return st


_STATEMENTS: dict = {}


def claim_tap(conn, tap, now, source) -> Claim:
    """Book (badge, counter) once and record clone evidence (module docstring) on `conn`, a
    Session or a Connection. One statement for a fresh tap without evidence."""
    kid, key, h = tap.badge_kid.hex(), ctr_key(tap.counter), tap.token_hash.hex()
    t = event_time(tap, now)
    ins, at_key, by_id = statements(conn.get_bind().dialect.name if isinstance(conn, Session)
                                    else conn.dialect.name)
    row = conn.execute(ins, {"kid": kid, "key": key, "h": h, "purpose": tap.purpose, "t": t,
                             "now": now}).first()
    if row is None:
        other = conn.execute(at_key, {"kid": kid, "key": key}).scalar_one()
        if other == h:
            return Claim("duplicate")
        conn.execute(EVIDENCE, evidence_row(kid, key, h, "counter_collision", source, now, key,
                                            other))
        return Claim("collision", evidence=True)
    _, high, he, ll = row
    claim = Claim("new", below=high is not None and high > key)
    other_id = he if he is not None else ll
    if other_id is not None:
        other_key, other_hash = conn.execute(by_id, {"id": other_id}).one()
        conn.execute(EVIDENCE, evidence_row(kid, key, h, "counter_regression", source, now,
                                            other_key, other_hash))
        claim.evidence = True
    return claim


def record_view(engine, snapshot, token, credential, now, policy, cache=None,
                role="public"):
    """Verify a status/consent/checkin tap for /verify and book status/consent taps:
    each (badge, counter) once, nothing below the high-water mark. Check-in taps are only
    verified here; they are booked by `ingest`. A booked tap is a "status" disclosure of the
    worker to `role` (the verdict shows the status, never the consent profile), written in the
    booking's transaction, which only a tap that verified opens."""
    verdict, tap = verification.check(snapshot, token, credential, now, policy, cache=cache)
    if verdict.valid and tap.purpose != "checkin":
        with engine.begin() as conn:
            claim = claim_tap(conn, tap, now, "verify")
            if claim.outcome != "new" or claim.below:
                verdict.valid, verdict.reason = False, "replayed"   # a phone token works once
            else:
                disclosures.record(conn, tap.credential.iss, tap.credential.sub, now, "status",
                                   role, token_hash=tap.token_hash.hex())
    return verdict
