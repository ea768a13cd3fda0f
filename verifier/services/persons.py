"""The bureau's person registry: one file per person (一人一档) keyed by the person hash
(services/identity.Hasher), never by an ID number, and what a ban means for issuance.

`person_for(session, hasher, number, now, actor)` finds the person's file under any configured
secret (re-keying one found under an old secret) or makes it; two agencies enrolling the same
person at once end with one file: the insert does nothing on a conflict (`ON CONFLICT DO
NOTHING` on PostgreSQL and SQLite) and both read the one row.
"""
from __future__ import annotations

import logging

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from host.localtime import local_date

from ..models import Badge, Ban, Person, Worker
from . import audit
from .errors import Forbidden
from .identity import Hasher
from .reservations import serial_hex

log = logging.getLogger(__name__)


class PersonBanned(Forbidden):
    """The person is on the ban list: no badge may be issued until `ends_at`. The refusal
    names the end and never the reason."""
    reason = "person_banned"


def active_ban(session: Session, person_id: int, now: int) -> Ban | None:
    """The ban in force for the person at `now` (the one ending last), or None."""
    return session.scalar(select(Ban).where(Ban.person_id == person_id, Ban.starts_at <= now,
                                            Ban.ends_at > now, Ban.lifted_at.is_(None))
                          .order_by(Ban.ends_at.desc()).limit(1))


def refuse_if_banned(session: Session, person_id: int | None, now: int, tz: str) -> None:
    if person_id is None:
        return
    ban = active_ban(session, person_id, now)
    if ban is not None:
        day = local_date(ban.ends_at, tz).isoformat()
        raise PersonBanned(f"this person may not work in domestic service until {day} "
                           f"(bureau decision) / 该人员在 {day} 前不得从事家政服务（商务局决定）",
                           ends_at=ban.ends_at, ends_on=day)


def _insert(session: Session, digest: str, key_id: str, now: int) -> bool:
    """Whether this insert made the row (False: another transaction's is there)."""
    values = {"person_hash": digest, "hash_key_id": key_id, "created_at": now}
    dialect = session.get_bind().dialect.name
    mod = postgresql if dialect == "postgresql" else sqlite
    stmt = mod.insert(Person).values(**values).on_conflict_do_nothing(
        index_elements=["person_hash"]).returning(Person.id)
    return session.execute(stmt).first() is not None


def person_for(session: Session, hasher: Hasher, number: str, now: int,
               actor: str) -> tuple[Person, bool]:
    """(the person's file, whether it is new)."""
    digests = hasher.all_digests(number)
    rows = {p.person_hash: p for p in session.scalars(
        select(Person).where(Person.person_hash.in_([d for _, d in digests])))}
    current_id, current = digests[0]
    if current in rows:
        return rows[current], False
    for key_id, digest in digests[1:]:
        old = rows.get(digest)
        if old is not None:                 # found under a retired secret: re-key it
            old.person_hash, old.hash_key_id = current, current_id
            audit.append(session, actor, "person.rekey", old.id, now, from_key=key_id,
                         to_key=current_id)
            session.flush()
            log.info("person %d re-keyed from secret %s to %s", old.id, key_id, current_id)
            return old, False
    created = _insert(session, current, current_id, now)
    person = session.scalar(select(Person).where(Person.person_hash == current))
    assert person is not None
    if created:
        audit.append(session, actor, "person.create", person.id, now, hash_key=current_id)
        log.info("person %d: a new file (by %s)", person.id, actor)
    return person, created


def by_hash(session: Session, digest: object) -> Person | None:
    if not isinstance(digest, str):
        return None
    return session.scalar(select(Person).where(Person.person_hash == digest.lower()))


def file_json(session: Session, person: Person, now: int) -> dict:
    """The person's file as the bureau sees it: the hash, the person's workers and badges at
    every agency (pseudonymous references, no personal data) and the bans."""
    from . import bans                      # bans imports this module
    workers = list(session.scalars(select(Worker).where(Worker.person_id == person.id)
                                   .order_by(Worker.id)))
    out = []
    for w in workers:
        badges = session.scalars(select(Badge).where(Badge.worker_id == w.id)
                                 .order_by(Badge.id))
        out.append({"agency": w.agency_id, "worker_ref": w.worker_ref, "state": w.state,
                    "badges": [{"serial": b.serial, "state": b.state} for b in badges]})
    ban_rows = session.scalars(select(Ban).where(Ban.person_id == person.id).order_by(Ban.id))
    return {"person_hash": person.person_hash, "hash_key": person.hash_key_id,
            "created_at": person.created_at, "workers": out,
            "agencies": sorted({w.agency_id for w in workers}),
            "bans": [bans.to_json(b, person, now) for b in ban_rows]}


def for_badge(session: Session, agency_id: object, serial: object) -> Person | None:
    """The person holding the agency's badge with this serial (what a complaint or an
    employer's report names), or None."""
    if not isinstance(agency_id, str):
        return None
    return session.scalar(select(Person).join(Worker, Worker.person_id == Person.id)
                          .join(Badge, Badge.worker_id == Worker.id)
                          .where(Badge.agency_id == agency_id,
                                 Badge.serial == serial_hex(serial)).limit(1))


def multi_agency(session: Session) -> list[Person]:
    """Persons with live badges at two or more agencies (allowed; the bureau watches)."""
    from .registry import LIVE              # registry imports this module
    ids = (select(Worker.person_id).join(Badge, Badge.worker_id == Worker.id)
           .where(Worker.person_id.is_not(None), Badge.state.in_(LIVE))
           .group_by(Worker.person_id).having(func.count(func.distinct(Worker.agency_id)) > 1))
    return list(session.scalars(select(Person).where(Person.id.in_(ids)).order_by(Person.id)))
