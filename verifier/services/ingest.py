"""Check-in ingest (`POST /api/v1/checkins`): a batch in one transaction, booked set-based
(docs/verifier.md "Check-in ingest"); the rules are ledger's (docs/protocol.md "Replay and clone
evidence") and the results those of booking the items one by one in the batch's order.

1. Every item is parsed and verified in Python, before the transaction opens: token and
   credential, status, receipt (terminal, time, nonce), agency, clock. A refusal is final here.
2. The taps of the verified items are booked with one multi-row `INSERT … ON CONFLICT DO
   NOTHING RETURNING`: the first item of each (badge, counter) in the batch's order, rows in
   (badge, counter) order, the lock order of concurrent batches. On PostgreSQL a row that
   conflicts with a concurrent batch's waits for it and is then seen committed; on SQLite the
   batch holds the write lock from BEGIN IMMEDIATE.
3. The taps that were there already are read (only when there are any: a re-sent batch).
4. The batch is resolved in Python in its order (`_sort_key`), each item as if booked after
   the ones before it. The same token twice: the second is a duplicate; another token with a
   counter booked before it, in the database or the batch: `counter_collision`, refused
   `replayed`; a nonce or token already checked in: refused `replayed`, the tap it took handed
   to the next item of its counter or dropped.
5. Counter regressions: one query over the batch's own new tap rows finds, for each, the
   contradicting tap of the database (the batch's rows left out), and the batch's own
   contradictions are found in Python; the rule picks between them (`_pick`).
6. The writes, one statement each: checkins (`ON CONFLICT DO NOTHING RETURNING`), the
   attendance upsert (one row per worker and period, the counts added), clone evidence, link
   codes. On PostgreSQL each takes its rows as one JSON parameter (services/bulk.py).

Nonces are taken to be fresh: when the checkins insert finds a nonce or token hash already
there (a terminal replaying a nonce, or a concurrent batch), the transaction is rolled back and
the batch resolved again with a lookup of both (`book(lookup=True)`). Exactly once: a tap is
booked once by the unique (badge, counter), a check-in once by its unique nonce and token hash,
and a batch commits whole or not at all; deadlocks and serialisation failures are retried by
`run_batch`.
"""
from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, case, delete, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from ..db import Database
from ..models import Attendance, Checkin, Tap, Terminal, ctr_key
from . import bulk, links, verification
from .ledger import CLOCK_TOLERANCE_S, EVIDENCE, evidence_row
from .periods import period_of
from .trust import Snapshot

TAPS = cast(Table, Tap.__table__)
CHECKINS = cast(Table, Checkin.__table__)
ATTENDANCE = cast(Table, Attendance.__table__)


@dataclass(slots=True)
class _Item:
    """A verified check-in waiting to be booked."""
    index: int
    out: dict[str, Any]          # badge, counter, worker_ref: the start of its result
    kid: str
    key: int
    h: str
    t: int                       # the terminal's time
    nonce: str
    agency_id: str
    worker_ref: str
    period: str
    stale: bool
    token: bytes
    token_hash: bytes


@dataclass(slots=True)
class _Booked:
    """A tap of the (badge, counter) an item needs, booked before it."""
    h: str
    t: int
    item: _Item | None = None    # None: in the database


# -- 1. parsing and verification ---------------------------------------------------------

def _b64(value: object, what: str) -> bytes:
    if not isinstance(value, str) or len(value) > 2048:
        raise ValueError(f"{what} must be base64url text")
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as err:
        raise ValueError(f"{what} is not base64url") from err


def parse_item(item: object) -> tuple[bytes, bytes, tuple[str, int, str]]:
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


def check_item(snapshot: Snapshot, terminal: Terminal, index: int, item: object, now: int,
               policy: verification.Policy, tz: str, start_day: int,
               cache: Any = None) -> dict[str, Any] | _Item:
    """A refused item's result, or the verified item to book."""
    try:
        token, cred, (tid, seen_at, nonce_hex) = parse_item(item)
    except ValueError as err:
        return {"result": "refused", "reason": "malformed", "detail": str(err)}
    verdict, tap = verification.check(snapshot, token, cred, now, policy, ("checkin",), cache)
    if tap is None:
        return {"result": "refused", "reason": verdict.reason}
    n = tap.counter
    out = {"badge": tap.badge_kid.hex(), "counter": str(n) if n >= 2 ** 53 else n,
           "worker_ref": verdict.worker_ref}        # the counter as Verdict.to_json gives it
    t = tap.terminal_time
    if tid != terminal.id or tap.terminal_id != terminal.id or seen_at != t or \
            tap.nonce is None or t is None or nonce_hex != tap.nonce.hex():
        return {**out, "result": "refused", "reason": "receipt_mismatch"}
    if tap.credential.iss != terminal.agency_id:
        return {**out, "result": "refused", "reason": "wrong_agency"}
    if t > now + 300:
        return {**out, "result": "refused", "reason": "not_yet_valid"}
    if not verdict.valid:
        return {**out, "result": "refused", "reason": verdict.reason}
    return _Item(index, out, out["badge"], ctr_key(tap.counter), tap.token_hash.hex(), t,
                 nonce_hex, tap.credential.iss, tap.credential.sub,
                 period_of(t, tz, start_day), verdict.stale, tap.token, tap.token_hash)


# -- 2.-5. booking ------------------------------------------------------------------------

TAP_COLUMNS = ("badge_kid", "ctr_key", "token_hash", "purpose", "seen_at", "at")
CHECKIN_COLUMNS = ("token_hash", "nonce", "badge_kid", "ctr_key", "agency_id", "worker_ref",
                   "terminal_id", "seen_at", "received_at", "period", "token")
ATTENDANCE_COLUMNS = ("agency_id", "period", "worker_ref", "first_at", "last_at",
                      "first_terminal", "last_terminal", "count")


@dataclass(frozen=True)
class _Statements:
    dialect: str
    taps: Any
    booked: Any
    used: Any
    contradictions: Any
    checkins: Any
    attendance: Any


def _statements(dialect: str) -> _Statements:
    """The batch's statements, built once per dialect (services/bulk.py: a handful of
    parameters per statement on PostgreSQL, whatever the batch's size)."""
    st = _STATEMENTS.get(dialect)
    if st is None:
        t, c, a = TAPS.c, CHECKINS.c, ATTENDANCE.c
        taps = (bulk.insert(TAPS, TAP_COLUMNS, dialect)
                .on_conflict_do_nothing(index_elements=[t.badge_kid, t.ctr_key])
                .returning(t.id, t.badge_kid, t.ctr_key))
        booked = select(t.badge_kid, t.ctr_key, t.token_hash, t.seen_at).where(
            bulk.pair_of(t.badge_kid, t.ctr_key, "kids", "keys", dialect))
        used = select(c.nonce, c.token_hash).where(or_(
            bulk.one_of(c.nonce, "nonces", dialect), bulk.one_of(c.token_hash, "hashes", dialect)))
        # for each tap the batch booked (n, `ours`): a booked tap of its badge, not the
        # batch's, with a higher counter signed before it, the earliest, and one with a lower
        # counter signed after it, the latest (ledger.statements, for many taps at once)
        n, b = TAPS.alias("n"), TAPS.alias("b")
        higher_earlier = (select(b.c.id).where(
            b.c.badge_kid == n.c.badge_kid, b.c.ctr_key > n.c.ctr_key,
            b.c.seen_at < n.c.seen_at - CLOCK_TOLERANCE_S, bulk.none_of(b.c.id, "ours", dialect))
            .order_by(b.c.seen_at, b.c.ctr_key).limit(1).scalar_subquery())
        lower_later = (select(b.c.id).where(
            b.c.badge_kid == n.c.badge_kid, b.c.ctr_key < n.c.ctr_key,
            b.c.seen_at > n.c.seen_at + CLOCK_TOLERANCE_S, bulk.none_of(b.c.id, "ours", dialect))
            .order_by(b.c.seen_at.desc(), b.c.ctr_key).limit(1).scalar_subquery())
        contradictions = select(n.c.id, higher_earlier, lower_later).where(
            bulk.one_of(n.c.id, "ours", dialect))
        ins = bulk.insert(ATTENDANCE, ATTENDANCE_COLUMNS, dialect)
        ex = ins.excluded
        earlier, later = ex.first_at < a.first_at, ex.last_at > a.last_at
        att = ins.on_conflict_do_update(
            index_elements=[a.agency_id, a.period, a.worker_ref],
            set_={"first_at": case((earlier, ex.first_at), else_=a.first_at),
                  "first_terminal": case((earlier, ex.first_terminal), else_=a.first_terminal),
                  "last_at": case((later, ex.last_at), else_=a.last_at),
                  "last_terminal": case((later, ex.last_terminal), else_=a.last_terminal),
                  "count": a.count + ex.count})
        st = _STATEMENTS[dialect] = _Statements(
            dialect, taps, booked, used, contradictions,
            bulk.insert(CHECKINS, CHECKIN_COLUMNS, dialect).on_conflict_do_nothing()
            .returning(c.id), att)
    return st


_STATEMENTS: dict[str, _Statements] = {}
_TAKE_OVER = update(TAPS).where(TAPS.c.id == bindparam("tap_id")).values(
    token_hash=bindparam("h"), seen_at=bindparam("t"))
_DROP = delete(TAPS).where(TAPS.c.id == bindparam("tap_id"))


def _rows(result: Any) -> Iterable[tuple[Any, ...]]:
    """A result's rows, typed as the tuples they unpack as."""
    return cast("Iterable[tuple[Any, ...]]", result)


class _Recheck(Exception):
    """A check-in of the batch found its nonce or token hash in checkins: the batch is rolled
    back and resolved again with the lookup of both (`book(lookup=True)`)."""


def book(session: Session, terminal: Terminal, items: Sequence[_Item], now: int,
         link_key: bytes | None = None, lookup: bool = False) -> list[dict[str, Any]]:
    """Book verified items (in the batch's order) in the session's transaction; their
    results, in the same order (module docstring, steps 2-5). Without `lookup` the nonces
    and token hashes checkins hold are taken to be none of the batch's, and _Recheck raised
    when the insert finds one."""
    if not items:
        return []
    st = _statements(session.get_bind().dialect.name)
    d = st.dialect
    source = f"terminal:{terminal.id}"
    first: dict[tuple[str, int], _Item] = {}
    for it in items:
        first.setdefault((it.kid, it.key), it)
    rows = [{"badge_kid": it.kid, "ctr_key": it.key, "token_hash": it.h, "purpose": "checkin",
             "seen_at": it.t, "at": now} for _, it in sorted(first.items(), key=lambda p: p[0])]
    ours = {(kid, key): tap_id for tap_id, kid, key
            in _rows(session.execute(st.taps, bulk.rows(d, rows, TAP_COLUMNS)))}
    booked: dict[tuple[str, int], _Booked] = {}
    there = [p for p in first if p not in ours]
    if there:
        for kid, key, h, t in _rows(session.execute(
                st.booked, bulk.pairs(d, "kids", "keys", there))):
            booked[(kid, key)] = _Booked(h, t)
    nonces: set[str] = set()
    hashes: set[str] = set()
    if lookup:
        for nonce, h in _rows(session.execute(st.used, {"nonces": list({it.nonce for it in items}),
                                                  "hashes": list({it.h for it in items})})):
            nonces.add(nonce)
            hashes.add(h)

    results: list[dict[str, Any]] = []
    evidence: list[dict[str, Any]] = []
    accepted: list[tuple[int, _Item]] = []          # (position in results, item)
    by_badge: dict[str, list[_Item]] = {}
    inside: dict[int, _Item] = {}                   # position -> a contradicting batch item
    for it in items:
        other = booked.get((it.kid, it.key))
        if other is not None:
            if other.h == it.h:
                results.append({**it.out, "result": "duplicate"})
            else:
                evidence.append(evidence_row(it.kid, it.key, it.h, "counter_collision", source,
                                             now, it.key, other.h))
                results.append({**it.out, "result": "refused", "reason": "replayed",
                                "clone_signal": True})
            continue
        if it.nonce in nonces or it.h in hashes:    # checked in by another token
            results.append({**it.out, "result": "refused", "reason": "replayed"})
            continue
        booked[(it.kid, it.key)] = _Booked(it.h, it.t, it)
        nonces.add(it.nonce)
        hashes.add(it.h)
        same = by_badge.setdefault(it.kid, [])
        hit = _contradicting(it, same)
        if hit is not None:
            inside[len(results)] = hit
        same.append(it)
        accepted.append((len(results), it))
        results.append({**it.out, "result": "accepted", "period": it.period,
                        "stale": it.stale})

    # the taps taken by an item the batch then refused: to the next item of the counter, or gone
    kept: dict[int, int] = {}                       # tap id -> position of the item it books
    position = {id(it): pos for pos, it in accepted}
    for p, tap_id in ours.items():
        taker = booked.get(p)
        if taker is None or taker.item is None:
            session.execute(_DROP, {"tap_id": tap_id})
            continue
        if taker.item is not first[p]:
            session.execute(_TAKE_OVER, {"tap_id": tap_id, "h": taker.h, "t": taker.t})
        kept[tap_id] = position[id(taker.item)]
    if accepted:
        _regressions(session, st, accepted, kept, inside, results, evidence, source, now)
        written = session.execute(st.checkins, bulk.rows(d, [
            {"token_hash": it.h, "nonce": it.nonce, "badge_kid": it.kid, "ctr_key": it.key,
             "agency_id": it.agency_id, "worker_ref": it.worker_ref,
             "terminal_id": terminal.id, "seen_at": it.t, "received_at": now,
             "period": it.period, "token": it.token} for _, it in accepted],
            CHECKIN_COLUMNS)).all()
        if len(written) != len(accepted):
            # a nonce or token checked in already: resolve the batch again, knowing them
            raise _Recheck()
        session.execute(st.attendance, bulk.rows(d, _attendance(accepted, terminal.id),
                                                 ATTENDANCE_COLUMNS))
        if link_key is not None:
            links.from_checkins(session, link_key, terminal.id,
                                [(it.token_hash, it.agency_id, it.worker_ref, it.kid, it.t)
                                 for _, it in accepted])
    if evidence:
        session.execute(EVIDENCE, evidence)
    return results


def _contradicting(it: _Item, before: list[_Item]) -> _Item | None:
    """The batch item booked before `it` (same badge) that it contradicts, chosen as the
    database query chooses: a higher counter signed earliest, else a lower one signed latest;
    a tie in time to the lower counter."""
    lo, hi = it.t - CLOCK_TOLERANCE_S, it.t + CLOCK_TOLERANCE_S
    higher = [b for b in before if b.key > it.key and b.t < lo]
    if higher:
        return min(higher, key=lambda b: (b.t, b.key))
    lower = [b for b in before if b.key < it.key and b.t > hi]
    return min(lower, key=lambda b: (-b.t, b.key)) if lower else None


def _regressions(session: Session, st: _Statements, accepted: list[tuple[int, _Item]],
                 kept: dict[int, int], inside: dict[int, _Item], results: list[dict[str, Any]],
                 evidence: list[dict[str, Any]], source: str, now: int) -> None:
    """Counter-regression evidence of the accepted items: against the taps of the database
    (one query over the batch's own tap rows, `kept`) and the batch's items before each
    (`inside`), whichever the rule picks."""
    found = {kept[tap_id]: (he, ll) for tap_id, he, ll
             in _rows(session.execute(st.contradictions, {"ours": list(kept)}))
             if he is not None or ll is not None}
    if not found and not inside:
        return
    ids = [x for pair in found.values() for x in pair if x is not None]
    taps: dict[int, tuple[int, str, int]] = {}
    if ids:
        for tap_id, key, h, t in _rows(session.execute(
                select(TAPS.c.id, TAPS.c.ctr_key, TAPS.c.token_hash, TAPS.c.seen_at)
                .where(TAPS.c.id.in_(ids)))):
            taps[tap_id] = (key, h, t)
    for pos, it in accepted:
        he, ll = found.get(pos, (None, None))
        mine = inside.get(pos)
        other = _pick(it, taps.get(he) if he is not None else None,
                      taps.get(ll) if ll is not None else None,
                      None if mine is None else (mine.key, mine.h, mine.t))
        if other is not None:
            evidence.append(evidence_row(it.kid, it.key, it.h, "counter_regression", source,
                                         now, other[0], other[1]))
            results[pos]["clone_signal"] = True


def _pick(it: _Item, he: tuple[int, str, int] | None, ll: tuple[int, str, int] | None,
          mine: tuple[int, str, int] | None) -> tuple[int, str, int] | None:
    """The contradicting tap (counter, hash, time) over the database's (he: higher and
    earlier, ll: lower and later) and the batch's (`mine`, either kind), as the rule picks:
    a higher counter signed earlier before any lower one signed later; the earliest of the
    first kind, the latest of the second; a tie in time to the lower counter."""
    if mine is not None and mine[0] > it.key:
        return mine if he is None or (mine[2], mine[0]) < (he[2], he[0]) else he
    if he is not None:
        return he
    if mine is not None:
        return mine if ll is None or (-mine[2], mine[0]) < (-ll[2], ll[0]) else ll
    return ll


def _attendance(accepted: list[tuple[int, _Item]], terminal_id: str) -> list[dict[str, Any]]:
    """The attendance rows of the accepted items, one per (agency, period, worker), in key
    order (the lock order of concurrent batches): first and last time, count. The upsert
    keeps the earlier first and the later last of the row and the batch, and adds the
    counts."""
    rows: dict[tuple[str, str, str], dict[str, Any]] = {}
    for _, it in accepted:
        k = (it.agency_id, it.period, it.worker_ref)
        row = rows.get(k)
        if row is None:
            rows[k] = {"agency_id": it.agency_id, "period": it.period,
                       "worker_ref": it.worker_ref, "first_at": it.t, "last_at": it.t,
                       "first_terminal": terminal_id, "last_terminal": terminal_id, "count": 1}
        else:
            row["first_at"] = min(row["first_at"], it.t)
            row["last_at"] = max(row["last_at"], it.t)
            row["count"] += 1
    return [rows[k] for k in sorted(rows)]


def run_batch(db: Database, snapshot: Snapshot, terminal: Terminal, items: Sequence[object],
              now: int, policy: verification.Policy, tz: str, start_day: int,
              cache: Any = None, retries: int = 8,
              link_key: bytes | None = None) -> list[dict[str, Any]]:
    """Verify a batch, then book it in one transaction; the booking is retried whole on
    deadlock/serialisation errors, and resolved again with the lookup of checkins' nonces
    and token hashes when the insert found one of them. Items are resolved in `_sort_key`
    order. One result per item, in the items' order."""
    results: list[dict[str, Any] | None] = [None] * len(items)
    pending: list[_Item] = []
    for i in sorted(range(len(items)), key=lambda i: _sort_key(items[i])):
        r = check_item(snapshot, terminal, i, items[i], now, policy, tz, start_day, cache)
        if isinstance(r, _Item):
            pending.append(r)
        else:
            results[i] = r
    lookup = False
    for attempt in range(retries):
        try:
            with db.session() as session:
                booked = book(session, terminal, pending, now, link_key, lookup)
            break
        except _Recheck:
            if attempt == retries - 1:
                raise
            if lookup:          # checked in by a concurrent batch after the lookup
                time.sleep(0.01 * (attempt + 1))
            lookup = True
        except DBAPIError as err:
            if attempt == retries - 1 or not _retryable(err):
                raise
            time.sleep(0.01 * (attempt + 1))
    else:
        raise RuntimeError("unreachable")
    for it, r in zip(pending, booked, strict=True):
        results[it.index] = r
    done = [r for r in results if r is not None]
    assert len(done) == len(items)
    return done


def _sort_key(item: object) -> tuple[str, str]:
    if isinstance(item, dict):
        return (str(item.get("credential", ""))[:64], str(item.get("token", "")))
    return ("", "")


def _retryable(err: Exception) -> bool:
    code = getattr(getattr(err, "orig", None), "sqlstate", None)
    if code in ("40P01", "40001", "23505"):
        return True
    return "database is locked" in str(err)
