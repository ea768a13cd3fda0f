"""Agencies, workers, badges and terminals, and the badge lifecycle. Every change appends to
the audit log in the same transaction. Callers check that the principal may act for the
agency (`authorize`)."""
from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from host import idnumber, wire
from host.localtime import local_date

from ..models import Agency, ApiKey, Badge, Terminal, Worker
from . import audit, disclosures, persons, reservations
from .auth import ROLES, hash_secret, new_secret
from .identity import Hasher, Sealer
from .errors import (BadRequest, Conflict, Forbidden, InvalidTransition, NotFound,
                     ServiceError)

log = logging.getLogger(__name__)

# action -> (the states it applies to, the state it leads to)
TRANSITIONS: dict[str, tuple[set[str], str]] = {
    "activate": ({"registered"}, "active"),
    "suspend": ({"registered", "active"}, "suspended"),
    "lose": ({"registered", "active", "suspended"}, "lost"),
    "reinstate": ({"suspended", "lost"}, "active"),
    "revoke": ({"registered", "active", "suspended", "lost"}, "revoked"),
}


def authorize(principal_agency: str | None, agency_id: str) -> None:
    """An operator key (None) may act for any agency; an agency key only for its own."""
    if principal_agency is not None and principal_agency != agency_id:
        raise Forbidden("this key belongs to another agency / 无权访问其他机构的数据")


def create_agency(session: Session, agency_id: str, name: str, now: int, actor: str) -> None:
    if session.get(Agency, agency_id) is not None:
        raise Conflict(f"agency {agency_id} exists")
    session.add(Agency(id=agency_id, name=name, created_at=now))
    audit.append(session, actor, "agency.create", agency_id, now, agency_id=agency_id, name=name)
    session.flush()
    log.info("agency %s created (by %s)", agency_id, actor)


def get_agency(session: Session, agency_id: str) -> Agency:
    a = session.get(Agency, agency_id)
    if a is None:
        raise NotFound(f"no agency {agency_id}")
    return a


def create_api_key(session: Session, agency_id: str | None, label: str, now: int,
                   actor: str, role: str | None = None) -> str:
    """A new API key (shown once). agency_id None: an operator key, or with role "bureau"
    the bureau's."""
    if role not in ROLES or (role is not None and agency_id is not None):
        raise BadRequest("a bureau key belongs to no agency", reason="bad_role")
    if agency_id is not None:
        get_agency(session, agency_id)
    secret = new_secret("xk_")
    session.add(ApiKey(agency_id=agency_id, key_hash=hash_secret(secret), label=label,
                       created_at=now, role=role))
    audit.append(session, actor, "api_key.create", label, now, agency_id=agency_id,
                 role=role)
    session.flush()
    log.info("API key created for %s (by %s)", agency_id or "the operator", actor)
    return secret


def create_terminal(session: Session, agency_id: str, terminal_id: str, label: str, now: int,
                    actor: str) -> str:
    get_agency(session, agency_id)
    if session.get(Terminal, terminal_id) is not None:
        raise Conflict(f"terminal {terminal_id} exists")
    secret = new_secret("xt_")
    session.add(Terminal(id=terminal_id, agency_id=agency_id, token_hash=hash_secret(secret),
                         label=label, active=True, created_at=now))
    audit.append(session, actor, "terminal.create", terminal_id, now, agency_id=agency_id)
    session.flush()
    log.info("terminal %s created for agency %s (by %s)", terminal_id, agency_id, actor)
    return secret


def worker_json(w: Worker, badges: Iterable[Badge] = ()) -> dict[str, Any]:
    """A worker as the agency's API shows it: whether an ID number is on file, never the
    number (it is kept sealed: services/identity)."""
    return {"id": w.id, "agency": w.agency_id, "worker_ref": w.worker_ref, "name": w.name,
            "id_number_on_file": w.id_number_enc is not None,
            "person_linked": w.person_id is not None, "phone": w.phone, "state": w.state,
            "issue_scope": w.issue_scope, "created_at": w.created_at,
            "badges": [badge_json(b) for b in badges]}


def badge_json(b: Badge) -> dict[str, Any]:
    return {"id": b.id, "agency": b.agency_id, "worker_id": b.worker_id, "serial": b.serial,
            "kid": b.kid, "status_idx": b.status_idx, "state": b.state, "reason": b.reason}


def create_worker(session: Session, agency_id: str, worker_ref: object, now: int, actor: str,
                  name: str | None = None, phone: str | None = None,
                  id_number_enc: bytes | None = None, person_id: int | None = None) -> Worker:
    """A worker; an ID number only sealed, with its person file (`enrol` does both)."""
    get_agency(session, agency_id)
    if not isinstance(worker_ref, str) or not 1 <= len(worker_ref) <= 64:
        raise BadRequest("worker_ref must be 1..64 characters")
    if session.scalar(select(Worker).where(Worker.agency_id == agency_id,
                                           Worker.worker_ref == worker_ref)) is not None:
        raise Conflict(f"worker {worker_ref} exists")
    w = Worker(agency_id=agency_id, worker_ref=worker_ref, name=name, phone=phone,
               id_number_enc=id_number_enc, person_id=person_id, state="active",
               created_at=now)
    session.add(w)
    session.flush()
    audit.append(session, actor, "worker.create", w.id, now, agency_id=agency_id,
                 worker_ref=worker_ref)
    log.info("worker %d created in agency %s (by %s)", w.id, agency_id, actor)
    return w


@dataclass
class Enrolment:
    """A worker enrolled with an ID number: its person file (new or found) and the person's
    live badges at other agencies (allowed, and recorded for the bureau)."""
    worker: Worker
    person_new: bool
    elsewhere: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        return {"worker": worker_json(self.worker), "person_new": self.person_new,
                "elsewhere": self.elsewhere}


def live_elsewhere(session: Session, person_id: int | None,
                   agency_id: str) -> list[dict[str, Any]]:
    """The person's live badges at agencies other than agency_id (agency, serial, state)."""
    if person_id is None:
        return []
    rows = session.execute(select(Badge, Worker.agency_id)
                           .join(Worker, Badge.worker_id == Worker.id)
                           .where(Worker.person_id == person_id,
                                  Worker.agency_id != agency_id, Badge.state.in_(LIVE))
                           .order_by(Badge.id)).all()
    return [{"agency": a, "serial": b.serial, "state": b.state} for b, a in rows]


def enrol(session: Session, sealer: Sealer, hasher: Hasher, agency_id: str,
          worker_ref: object, id_number: object, now: int, actor: str, tz: str,
          name: str | None = None, phone: str | None = None) -> Enrolment:
    """Take a worker's ID number at issuance: check it (GB 11643), find or make the person's
    file in the registry by its keyed hash, refuse a banned person, keep the number sealed in
    the agency's worker row. The worker is found by reference or created."""
    get_agency(session, agency_id)
    if not isinstance(worker_ref, str) or not 1 <= len(worker_ref) <= 64:
        raise BadRequest("worker_ref must be 1..64 characters", reason="malformed")
    try:
        number = idnumber.check(id_number, local_date(now, tz))
    except idnumber.IdNumberInvalid as err:
        raise BadRequest(str(err), reason=err.reason, part=err.part) from None
    person, new = persons.person_for(session, hasher, number, now, actor)
    persons.refuse_if_banned(session, person.id, now, tz)
    sealed = sealer.seal(number, agency_id, worker_ref)
    w = session.scalar(select(Worker).where(Worker.agency_id == agency_id,
                                            Worker.worker_ref == worker_ref))
    if w is None:
        w = create_worker(session, agency_id, worker_ref, now, actor, name=name, phone=phone,
                          id_number_enc=sealed, person_id=person.id)
    else:
        if w.state == "cancelled":
            raise InvalidTransition(f"worker {worker_ref} is cancelled (注销) / 该服务员已注销",
                                    reason="worker_cancelled")
        if w.person_id is not None and w.person_id != person.id:
            raise Conflict(f"worker {worker_ref} was enrolled with another ID number / "
                           "该服务员登记的身份证号码不同", reason="another_person")
        w.person_id, w.id_number_enc = person.id, sealed
        w.name = name if name is not None else w.name
        w.phone = phone if phone is not None else w.phone
    audit.append(session, actor, "worker.enrol", w.id, now, agency_id=agency_id,
                 person=person.id, person_new=new)
    elsewhere = live_elsewhere(session, person.id, agency_id)
    if elsewhere:
        audit.append(session, actor, "person.multi_agency", person.id, now,
                     agency_id=agency_id, elsewhere=sorted({e["agency"] for e in elsewhere}))
        log.info("person %d (worker %d of %s) holds live badges at %s", person.id, w.id,
                 agency_id, sorted({e["agency"] for e in elsewhere}))
    session.flush()
    return Enrolment(w, new, elsewhere)


def seal_clear_numbers(session: Session, sealer: Sealer, hasher: Hasher, now: int,
                       actor: str, tz: str) -> tuple[int, int]:
    """Seal the ID numbers that rows from before the registry kept in clear (`workers.
    id_number`), linking each valid one to its person file, and erase the clear text.
    (linked, sealed without a file: not a valid GB 11643 number)."""
    linked = unlinked = 0
    for w in session.scalars(select(Worker).where(Worker.id_number.is_not(None))):
        text = w.id_number or ""
        try:
            number = idnumber.check(text, local_date(now, tz))
            person, _ = persons.person_for(session, hasher, number, now, actor)
            w.person_id = person.id
            linked += 1
        except idnumber.IdNumberInvalid:
            number = text
            unlinked += 1
        w.id_number_enc = sealer.seal(number, w.agency_id, w.worker_ref)
        w.id_number = None
        audit.append(session, actor, "worker.seal", w.id, now, agency_id=w.agency_id,
                     linked=w.person_id is not None)
    session.flush()
    return linked, unlinked


def get_worker(session: Session, agency_id: str, worker_id: int) -> Worker:
    w = session.get(Worker, worker_id)
    if w is None or w.agency_id != agency_id:
        raise NotFound("no such worker in this agency")
    return w


def active_worker(session: Session, agency_id: str, worker_ref: str) -> Worker:
    """The agency's worker of this reference, refused when unknown or cancelled (注销)."""
    w = session.scalar(select(Worker).where(Worker.agency_id == agency_id,
                                            Worker.worker_ref == worker_ref))
    if w is None:
        raise NotFound("no such worker in this agency")
    if w.state != "active":
        raise BadRequest("the worker's file is cancelled", reason="worker_cancelled")
    return w


def set_issue_scope(session: Session, agency_id: str, worker_id: int, scope: object,
                    now: int, actor: str) -> Worker:
    """The consent scope bits (0..63) the worker's next badge is issued with, or None for the
    technician's profile default; `provision issue` reads them (issue_scope) and writes them
    to the badge over the serial protocol. A badge already issued keeps its own bits (a
    locked badge refuses configuration); the worker's page can only narrow either."""
    if scope is not None and (type(scope) is not int or not 0 <= scope <= wire.SCOPE_ALL):
        raise BadRequest("scope must be 0..63 or null", reason="bad_scope")
    w = get_worker(session, agency_id, worker_id)
    if w.state != "active":
        raise InvalidTransition("the worker's file is cancelled", reason="worker_cancelled")
    w.issue_scope = scope
    audit.append(session, actor, "worker.issue_scope", w.id, now, agency_id=agency_id,
                 scope=scope)
    session.flush()
    return w


def issue_scope(session: Session, agency_id: str, worker_ref: object) -> int | None:
    """The scope bits set for the worker's next badge; None when none is set or the worker is
    not known yet (the first badge creates the worker)."""
    if not isinstance(worker_ref, str) or not 1 <= len(worker_ref) <= 64:
        raise BadRequest("worker_ref must be 1..64 characters")
    return session.scalar(select(Worker.issue_scope).where(Worker.agency_id == agency_id,
                                                           Worker.worker_ref == worker_ref))


def list_workers(session: Session, agency_id: str) -> list[Worker]:
    return list(session.scalars(select(Worker).where(Worker.agency_id == agency_id)
                                .order_by(Worker.id)))


def worker_refs(agency_id: str) -> Select[Any]:
    """The select of every worker_ref `list_workers` shows (the disclosure log's export)."""
    return select(Worker.worker_ref).where(Worker.agency_id == agency_id)


def badges_of(session: Session, worker_id: int) -> list[Badge]:
    return list(session.scalars(select(Badge).where(Badge.worker_id == worker_id)
                                .order_by(Badge.id)))


def cancel_worker(session: Session, agency_id: str, worker_id: int, now: int, actor: str,
                  reason: str = "注销") -> list[int]:
    """注销: erase personal data and the worker's disclosure log (its anonymised counts
    stay), revoke the worker's badges; the pseudonymous worker_ref and the attendance facts
    stay. Returns the ids of badges revoked."""
    w = get_worker(session, agency_id, worker_id)
    if w.state == "cancelled":
        raise InvalidTransition("worker already cancelled")
    w.name = w.id_number = w.id_number_enc = w.phone = None   # the person file and its
    # bans stay: they carry no personal data and the ban is a legal obligation
    w.state, w.cancelled_at = "cancelled", now
    erased = disclosures.erase_worker(session, agency_id, w.worker_ref)
    revoked = []
    for b in badges_of(session, w.id):
        if b.state != "revoked":
            set_state(session, b, "revoked", now, actor, f"worker cancelled: {reason}")
            revoked.append(b.id)
    audit.append(session, actor, "worker.cancel", w.id, now, agency_id=agency_id,
                 reason=reason, disclosures_erased=erased)
    session.flush()
    log.info("worker %d of agency %s cancelled (注销), personal data erased; badges revoked: %s "
             "(by %s)", w.id, agency_id, revoked or "none", actor)
    return revoked


class CredentialRefused(ServiceError):
    """A credential offered for registration that does not verify or does not match."""
    reason, http_status = "credential_refused", 422


def _credential(data: bytes, trust: wire.TrustList | None, now: int,
                verify: bool) -> wire.Credential:
    """The parsed credential; with `verify`, checked against the trust list at `now`."""
    try:
        if not verify:
            return wire.Credential.parse(data)
        if trust is None:
            raise CredentialRefused("no trust list loaded / 尚未导入信任列表",
                                    reason="untrusted_issuer")
        return wire.Credential.verify(data, trust, now)
    except wire.WireError as err:
        if err.reason in ("malformed", "oversized"):
            raise BadRequest(f"credential: {err.message}", reason=err.reason) from err
        raise CredentialRefused(f"credential: {err.message}", reason=err.reason) from err


def _worker_for(session: Session, agency_id: str, worker_id: object, worker_ref: str | None,
                now: int, actor: str) -> Worker | None:
    """The worker by id, or found / created by its pseudonymous reference; None if neither."""
    w = None
    if worker_id is not None:
        if type(worker_id) is not int:
            raise BadRequest("worker_id must be an integer", reason="malformed")
        w = get_worker(session, agency_id, worker_id)
        if worker_ref is not None and worker_ref != w.worker_ref:
            raise BadRequest("worker_id and worker_ref name different workers")
    elif worker_ref is not None:
        w = session.scalar(select(Worker).where(Worker.agency_id == agency_id,
                                                Worker.worker_ref == worker_ref))
        if w is None:
            w = create_worker(session, agency_id, worker_ref, now, actor)
    if w is not None and w.state == "cancelled":
        raise InvalidTransition(f"worker {w.worker_ref} is cancelled (注销) / 该服务员已注销",
                                reason="worker_cancelled")
    return w


def register_badge(session: Session, agency_id: str, now: int, actor: str,
                   worker_id: object = None, credential: bytes | None = None,
                   kid: object = None, serial: object = None, status_idx: object = None,
                   worker_ref: object = None, trust: wire.TrustList | None = None,
                   status_uri: str | None = None, verify: bool = False,
                   tz: str = "Asia/Shanghai") -> Badge:
    """Register a badge from its credential or from explicit kid/serial, for a worker given by
    id or by reference (found or created). The status index is the credential's, the one
    given, or the next new one; a reservation of it (reservations.reserve) is consumed and
    must be for this badge.

    verify: the credential must verify against `trust` (this agency's key, validity) and carry
    `status_uri`; kid, serial, status_idx and worker_ref, when given, must be the credential's.
    Refusals carry a reason code (CredentialRefused 422, Conflict 409, BadRequest 400)."""
    get_agency(session, agency_id)
    reservations.lock_agency(session, agency_id)
    kid = reservations.kid_hex(kid) if kid is not None else None
    serial = reservations.serial_hex(serial) if serial is not None else None
    if status_idx is not None:
        status_idx = reservations.index_value(status_idx)
    if worker_ref is not None and (not isinstance(worker_ref, str)
                                   or not 1 <= len(worker_ref) <= 64):
        raise BadRequest("worker_ref must be 1..64 characters", reason="malformed")
    if credential is not None:
        cred = _credential(credential, trust, now, verify)
        if cred.iss != agency_id:
            raise CredentialRefused(f"credential issued by {cred.iss}, not {agency_id} / "
                                    "凭证不是本机构签发的", reason="wrong_agency")
        checks = (("status_uri", status_uri, cred.status_uri, "wrong_status_uri"),
                  ("kid", kid, cred.badge_kid.hex(), "kid_mismatch"),
                  ("serial", serial, cred.serial, "serial_mismatch"),
                  ("status_idx", status_idx, cred.status_idx, "status_idx_mismatch"),
                  ("worker_ref", worker_ref, cred.sub, "worker_mismatch"))
        for name, given, carried, reason in checks:
            if given is not None and given != carried:
                raise CredentialRefused(f"the credential carries {name} {carried!r}, not "
                                        f"{given!r} / 凭证内容不符", reason=reason)
        kid, serial, status_idx = cred.badge_kid.hex(), cred.serial, cred.status_idx
    if not kid or not serial:
        raise BadRequest("kid and serial (or a credential) are required")
    if session.scalar(select(Badge).where(Badge.kid == kid)) is not None:
        raise Conflict("a badge with this key is registered / 该密钥的徽章已登记",
                       reason="kid_registered")
    w = _worker_for(session, agency_id, worker_id, worker_ref, now, actor)
    if w is not None:
        persons.refuse_if_banned(session, w.person_id, now, tz)
    if credential is not None and w is not None and w.worker_ref != cred.sub:
        raise CredentialRefused(f"the credential is for worker {cred.sub!r}, not "
                                f"{w.worker_ref!r}", reason="worker_mismatch")
    if status_idx is None:
        status_idx = reservations.next_index(session, agency_id)
    else:
        reservations.claim(session, agency_id, status_idx, kid, serial, now)
    if session.scalar(select(Badge).where(Badge.agency_id == agency_id,
                                          Badge.status_idx == status_idx)) is not None:
        raise Conflict(f"status index {status_idx} is taken (re-provisioning needs a new one)")
    b = Badge(agency_id=agency_id, worker_id=w.id if w is not None else None, serial=serial,
              kid=kid, status_idx=status_idx, state="registered", credential=credential,
              created_at=now, updated_at=now)
    session.add(b)
    session.flush()
    audit.append(session, actor, "badge.register", b.id, now, agency_id=agency_id, kid=kid,
                 serial=serial, status_idx=status_idx, worker_id=b.worker_id)
    log.info("badge %d registered: agency %s, kid %s, serial %s, status index %d (by %s)",
             b.id, agency_id, kid, serial, status_idx, actor)
    return b


def get_badge(session: Session, agency_id: str, badge_id: int) -> Badge:
    b = session.get(Badge, badge_id)
    if b is None or b.agency_id != agency_id:
        raise NotFound("no such badge in this agency")
    return b


def set_state(session: Session, b: Badge, state: str, now: int, actor: str,
               reason: str) -> None:
    old = b.state
    b.state, b.reason, b.updated_at = state, reason, now
    audit.append(session, actor, f"badge.{state}", b.id, now, agency_id=b.agency_id,
                 old=old, new=state, reason=reason)
    log.info("badge %d of agency %s: %s -> %s (by %s)", b.id, b.agency_id, old, state, actor)


def transition(session: Session, agency_id: str, badge_id: int, action: str, now: int,
               actor: str, reason: str | None) -> Badge:
    if action not in TRANSITIONS:
        raise BadRequest(f"unknown action {action}")
    if not reason:
        raise BadRequest("a reason is required / 请填写原因")
    b = get_badge(session, agency_id, badge_id)
    allowed, target = TRANSITIONS[action]
    if b.state not in allowed:
        raise InvalidTransition(f"cannot {action} a {b.state} badge")
    set_state(session, b, target, now, actor, reason)
    session.flush()
    return b


LIVE = ("registered", "active", "suspended", "lost")


def badges_with_serial(session: Session, agency_id: str, serial: object,
                       live: bool = False) -> list[Badge]:
    """The agency's badges with this serial (a physical badge re-provisioned has several), in
    registration order; `live`: only those not revoked."""
    get_agency(session, agency_id)
    q = select(Badge).where(Badge.agency_id == agency_id,
                            Badge.serial == reservations.serial_hex(serial))
    if live:
        q = q.where(Badge.state.in_(LIVE))
    return list(session.scalars(q.order_by(Badge.id)))


def reissue(session: Session, agency_id: str, badge_id: int, now: int, actor: str,
            reason: str | None, credential: bytes | None = None, kid: object = None,
            serial: object = None, status_idx: object = None, worker_ref: object = None,
            **checks: Any) -> tuple[Badge, Badge]:
    """A new badge (a new key and a new status index, reserved or not) in place of badge_id,
    which is revoked in the same transaction. The new badge is for the old one's worker unless
    worker_ref names another (found or created).
    checks: register_badge's trust, status_uri, verify."""
    old = get_badge(session, agency_id, badge_id)
    if old.state == "revoked":
        raise InvalidTransition("the old badge is already revoked / 原徽章已吊销")
    worker_id = old.worker_id if worker_ref is None else None
    new = register_badge(session, agency_id, now, actor, worker_id=worker_id,
                         credential=credential, kid=kid, serial=serial, status_idx=status_idx,
                         worker_ref=worker_ref, **checks)
    set_state(session, old, "revoked", now, actor, f"reissued as badge {new.id}: {reason}")
    session.flush()
    return old, new
