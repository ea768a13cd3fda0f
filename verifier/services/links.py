"""The worker's own way in, without NFC or a password (docs/protocol.md "A worker's link
code"; migration 0020_worker_links).

A terminal shows a one-time code after an accepted check-in (firmware/lib/xinka/linkcode.py,
derived from the check-in token and the terminal's own API token); `from_checkins` computes the
same code when the check-in reaches the verifier and keeps its hash, bound to the badge and the
worker's file, valid `LINK_S` (15 minutes) from the tap. The agency's console can print a card
with a random code (`card`), for a worker who asks at the desk. `redeem` takes the badge number
printed on the badge and the typed code: the right code of that badge, not used, not expired,
opens the worker's page for `SESSION_S` (a random secret in a cookie; its hash kept here) and
is used up. Each wrong code typed for a badge is counted; `GUESSES` of them within
`GUESS_WINDOW_S` lock that badge's codes for `LOCK_S`, even the right one (logged, audited).
A refusal writes only its count: nothing else.
"""
from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, delete, func, literal_column, select, update
from sqlalchemy.orm import Session

from host.wire import SCOPE_ALL
from xinka import linkcode

from ..models import (Badge, CancelRequest, LinkCode, LinkFailure, LinkLock, Worker,
                      WorkerChoice, WorkerSession)
from . import audit, bulk
from .errors import Conflict

log = logging.getLogger(__name__)

LINK_S = 15 * 60            # a code opens the page within this long after the tap
SESSION_S = 15 * 60         # the page stays open this long
GUESSES = 5                 # wrong codes for one badge within GUESS_WINDOW_S ...
GUESS_WINDOW_S = 15 * 60
LOCK_S = 60 * 60            # ... lock it this long
SERIAL_MAX = 32
USABLE = ("registered", "active")     # the badge states a card may be printed for


def code_hash(code: str) -> str:
    return hashlib.sha256(b"xinka-link-code-hash/1" + code.encode()).hexdigest()


_CODE_COLUMNS = ("code_hash", "agency_id", "worker_ref", "badge_kid", "source", "issued_at",
                 "valid_until")
_FROM_CHECKINS: dict[str, Any] = {}


def from_checkins(session: Session, link_key: bytes, terminal_id: str,
                  checkins: list[tuple[bytes, str, str, str, int]]) -> None:
    """The codes the terminal showed for these accepted check-ins ((token hash, agency,
    worker_ref, badge kid, the terminal's time) each), kept as their hashes: one statement."""
    dialect = session.get_bind().dialect.name
    stmt = _FROM_CHECKINS.get(dialect)
    if stmt is None:
        stmt = _FROM_CHECKINS[dialect] = bulk.insert(cast(Table, LinkCode.__table__),
                                                     _CODE_COLUMNS, dialect)
    source = f"terminal:{terminal_id}"[:80]
    session.execute(stmt, bulk.rows(dialect, [
        {"code_hash": code_hash(linkcode.code_of_hash(link_key, token_hash)),
         "agency_id": agency_id, "worker_ref": worker_ref, "badge_kid": badge_kid,
         "source": source, "issued_at": seen_at, "valid_until": seen_at + LINK_S}
        for token_hash, agency_id, worker_ref, badge_kid, seen_at in checkins], _CODE_COLUMNS))


@dataclass
class Card:
    code: str
    serial: str
    valid_until: int


def card(session: Session, agency_id: str, worker_id: int, now: int, actor: str) -> Card:
    """A random code for the worker's active badge, printed by the console (Conflict
    `no_active_badge` when the worker has none)."""
    badge = session.scalars(select(Badge).join(Worker, Worker.id == Badge.worker_id).where(
        Badge.worker_id == worker_id, Badge.agency_id == agency_id,
        Badge.state.in_(USABLE),
        Worker.state == "active").order_by(Badge.id.desc())).first()
    if badge is None:
        raise Conflict("the worker has no active badge / 该服务员没有有效的工牌",
                       reason="no_active_badge")
    worker = session.get(Worker, worker_id)
    assert worker is not None
    code = "".join(secrets.choice(linkcode.ALPHABET) for _ in range(linkcode.LENGTH))
    session.add(LinkCode(code_hash=code_hash(code), agency_id=agency_id,
                         worker_ref=worker.worker_ref, badge_kid=badge.kid,
                         source=actor[:80], issued_at=now, valid_until=now + LINK_S))
    audit.append(session, actor, "link.card", worker_id, now, agency_id=agency_id,
                 badge=badge.serial)
    session.flush()
    return Card(code, badge.serial, now + LINK_S)


@dataclass
class Opened:
    secret: str               # the cookie's value (only its hash is stored)
    agency_id: str
    worker_ref: str
    expires_at: int


@dataclass
class Refused:
    reason: str               # bad_code | unknown_badge | locked | unknown_code | wrong_badge
    #                           | expired | used | cancelled
    locked_until: int | None = None


def _fail(session: Session, kids: list[str], reason: str, now: int, serial: str) -> Refused:
    """Count a wrong code against the badge; lock it at the GUESSES-th within the window."""
    for kid in kids:
        session.add(LinkFailure(badge_kid=kid, at=now, reason=reason))
    session.flush()
    locked = None
    for kid in kids:
        n = session.scalar(select(func.count()).select_from(LinkFailure).where(
            LinkFailure.badge_kid == kid, LinkFailure.at > now - GUESS_WINDOW_S)) or 0
        if n >= GUESSES:
            session.execute(delete(LinkLock).where(LinkLock.badge_kid == kid))
            session.add(LinkLock(badge_kid=kid, locked_until=now + LOCK_S))
            locked = now + LOCK_S
            log.warning("badge %s: %d wrong link codes within %d min, its codes locked for "
                        "%d min", serial, n, GUESS_WINDOW_S // 60, LOCK_S // 60)
            audit.append(session, "public", "link.lock", serial, now, badge=serial,
                         failures=n, locked_until=locked)
    session.flush()
    if locked is not None:
        return Refused("locked", locked)
    return Refused(reason)


def redeem(session: Session, serial: str, typed: str, now: int) -> Opened | Refused:
    """The badge number and the typed code -> the worker's page opened, or why not."""
    code = linkcode.normalise(typed or "")
    serial = (serial or "").strip().upper()[:SERIAL_MAX]
    if code is None:
        return Refused("bad_code")
    # serials are stored upper-case (reservations.serial_hex, Credential.serial)
    badges = list(session.scalars(select(Badge).where(Badge.serial == serial)))
    if not serial or not badges:
        return Refused("unknown_badge")
    kids = [b.kid for b in badges]
    lock = session.scalar(select(func.max(LinkLock.locked_until)).where(
        LinkLock.badge_kid.in_(kids)))
    if lock is not None and lock > now:
        log.info("badge %s: link code refused, locked until %d", serial, lock)
        return Refused("locked", lock)
    row = session.scalars(select(LinkCode).where(LinkCode.code_hash == code_hash(code))).first()
    if row is None:
        return _fail(session, kids, "unknown_code", now, serial)
    badge = next((b for b in badges if b.kid == row.badge_kid), None)
    if badge is None or badge.agency_id != row.agency_id:
        return _fail(session, kids, "wrong_badge", now, serial)
    if row.used_at is not None:
        return Refused("used")
    if now > row.valid_until:
        return Refused("expired")
    worker = session.scalars(select(Worker).where(Worker.agency_id == row.agency_id,
                                                  Worker.worker_ref == row.worker_ref)).first()
    if worker is None or worker.state != "active":
        return Refused("cancelled")
    took = session.execute(update(LinkCode).where(LinkCode.id == row.id,
                                                  LinkCode.used_at.is_(None))
                           .values(used_at=now).returning(LinkCode.id)).scalar()
    if took is None:                           # another request used it a moment before
        return Refused("used")
    secret = secrets.token_urlsafe(32)
    session.add(WorkerSession(secret_hash=_secret_hash(secret), agency_id=row.agency_id,
                              worker_ref=row.worker_ref, badge_kid=row.badge_kid,
                              created_at=now, expires_at=now + SESSION_S))
    session.flush()
    log.info("badge %s: link code used, the worker's page open for %d min", serial,
             SESSION_S // 60)
    return Opened(secret, row.agency_id, row.worker_ref, now + SESSION_S)


def _secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def session_of(session: Session, secret: str | None, now: int) -> WorkerSession | None:
    """The open worker session of this cookie, or None (none, unknown or expired)."""
    if not secret or len(secret) > 100:
        return None
    ws = session.scalars(select(WorkerSession).where(
        WorkerSession.secret_hash == _secret_hash(secret))).first()
    if ws is None or ws.expires_at < now:
        return None
    return ws


def close(session: Session, secret: str | None) -> None:
    if secret:
        session.execute(delete(WorkerSession).where(
            WorkerSession.secret_hash == _secret_hash(secret)))


def scope_of(session: Session, agency_id: str, worker_ref: str) -> int:
    """What the worker lets a consent tap show (all until they choose)."""
    got = session.scalar(select(WorkerChoice.scope).where(WorkerChoice.agency_id == agency_id,
                                                          WorkerChoice.worker_ref == worker_ref))
    return SCOPE_ALL if got is None else got


def set_scope(session: Session, agency_id: str, worker_ref: str, scope: int, now: int) -> None:
    if not 0 <= scope <= SCOPE_ALL:
        raise ValueError("scope bits out of range")
    row = session.scalars(select(WorkerChoice).where(WorkerChoice.agency_id == agency_id,
                                                     WorkerChoice.worker_ref == worker_ref)
                          ).first()
    if row is None:
        session.add(WorkerChoice(agency_id=agency_id, worker_ref=worker_ref, scope=scope,
                                 updated_at=now))
    else:
        row.scope, row.updated_at = scope, now
    audit.append(session, "worker", "worker.scope", worker_ref, now, agency_id=agency_id,
                 scope=scope)
    session.flush()


def request_cancel(session: Session, agency_id: str, worker_ref: str, now: int) -> bool:
    """The worker asks the agency to cancel (注销) their file: True when new, False when
    already asked (nothing written)."""
    if cancel_requested(session, agency_id, worker_ref) is not None:
        return False
    session.add(CancelRequest(agency_id=agency_id, worker_ref=worker_ref, requested_at=now))
    audit.append(session, "worker", "worker.cancel_request", worker_ref, now,
                 agency_id=agency_id)
    session.flush()
    log.info("worker %s of agency %s asked to cancel (注销)", worker_ref, agency_id)
    return True


def cancel_requested(session: Session, agency_id: str, worker_ref: str) -> int | None:
    """When the worker asked to cancel, or None."""
    return session.scalar(select(CancelRequest.requested_at).where(
        CancelRequest.agency_id == agency_id, CancelRequest.worker_ref == worker_ref))


def purge(session: Session, now: int) -> int:
    """The way-in rows that serve no one any more: sessions past their end, codes a day past
    their validity, guesses and locks past the lock; rows deleted (nightly, with the
    disclosure log's purge)."""
    n = 0
    for stmt in (delete(WorkerSession).where(WorkerSession.expires_at < now),
                 delete(LinkCode).where(LinkCode.valid_until < now - 86400),
                 delete(LinkFailure).where(LinkFailure.at < now - GUESS_WINDOW_S - LOCK_S),
                 delete(LinkLock).where(LinkLock.locked_until < now)):
        n += len(session.execute(stmt.returning(literal_column("1"))).all())
    return n
