"""Agency admission: an agency applies to the bureau, the bureau reviews it.

The unified social credit code (统一社会信用代码) is checked with python-stdnum's
`stdnum.cn.uscc`; a refusal names the rule that failed (`uscc_length`, `uscc_digits`: the
registration authority, organisation type and region code are digits, `uscc_charset`: the
organisation code and check character use the 31 characters without I, O, S, V, Z,
`uscc_checksum`). An application carries the agency's public keys only (a private key is
refused: it never reaches the bureau) and its first console login (stored as a password hash).

States: submitted -> changes_requested -> submitted (amended) ... -> approved | refused. Approval
creates the agency, its first staff login, and lists its keys for the bureau's next trust list
(`keys_for_trust_list`); every step is in the audit log. One open or approved application per
code: a second is refused (`duplicate_application`).
"""
from __future__ import annotations

import re

import hashlib
import hmac
import logging
import secrets
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select
from sqlalchemy.orm import Session
from stdnum import exceptions as stdnum_errors
from stdnum.cn import uscc as stdnum_uscc

from ..models import Agency, AgencyApplication, StaffUser
from . import audit
from .errors import BadRequest, Conflict, InvalidTransition, NotFound
from .staff import MIN_PASSWORD, SCRYPT_N, hash_password

__all__ = ["validate_uscc", "submit", "for_applicant", "amend", "request_changes", "approve",
           "refuse", "get", "listing", "keys_for_trust_list", "to_json", "SUBMITTED",
           "CHANGES_REQUESTED", "APPROVED", "REFUSED"]

log = logging.getLogger(__name__)

SUBMITTED, CHANGES_REQUESTED, APPROVED, REFUSED = ("submitted", "changes_requested", "approved",
                                                   "refused")
OPEN = (SUBMITTED, CHANGES_REQUESTED)
NOTE_MAX = 1000
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_RULES = {
    "uscc_length": "the code has 18 characters / 统一社会信用代码应为 18 位",
    "uscc_digits": "characters 1-8 (registration authority, organisation type, region code) are "
                   "digits / 第 1-8 位（登记管理部门、机构类别、行政区划码）应为数字",
    "uscc_charset": "characters 9-18 use 0-9 and A-Y without I, O, S, V, Z / 第 9-18 位只能是 "
                    "0-9 和除 I、O、S、V、Z 外的大写字母",
    "uscc_checksum": "the check character (18th) does not match / 第 18 位校验码不符",
}
FIELDS = ("name", "uscc", "address", "legal_representative", "licence_ref")
LIMITS = {"name": 200, "address": 400, "legal_representative": 100, "licence_ref": 200}


def validate_uscc(value: object) -> str:
    """The code in compact form, or BadRequest with the rule that failed as its reason."""
    if not isinstance(value, str):
        raise BadRequest(_RULES["uscc_length"], reason="uscc_length")
    try:
        return stdnum_uscc.validate(value)
    except stdnum_errors.InvalidLength as err:
        raise BadRequest(_RULES["uscc_length"], reason="uscc_length") from err
    except stdnum_errors.InvalidChecksum as err:
        raise BadRequest(_RULES["uscc_checksum"], reason="uscc_checksum") from err
    except stdnum_errors.ValidationError as err:
        # stdnum has two format rules; say which of them this code breaks
        code = stdnum_uscc.compact(value)
        rule = "uscc_digits" if not code[:8].isdigit() or not code[:8].isascii() else \
            "uscc_charset"
        raise BadRequest(_RULES[rule], reason=rule) from err


_PEM_BLOCK = re.compile(r"-----BEGIN PUBLIC KEY-----[A-Za-z0-9+/=\s]+?-----END PUBLIC KEY-----")


def _public_keys(value: object) -> str:
    """One PEM text or a list of them, each holding one or more PEM blocks (a pasted file may
    carry several keys: every block counts, text outside the blocks is refused)."""
    given = value if isinstance(value, list) else [value]
    texts = [p for p in given if isinstance(p, str)]
    if not texts or len(texts) != len(given):
        raise BadRequest("public_keys: a list of PEM public keys / 需要公钥（PEM）",
                         reason="bad_public_key")
    if any("PRIVATE KEY" in t for t in texts):
        raise BadRequest("a private key was sent: only the public key may reach the bureau "
                         "/ 只能提交公钥，私钥不得交给主管部门", reason="private_key_refused")
    pems = [b for t in texts for b in _PEM_BLOCK.findall(t)]
    if not pems or any(_PEM_BLOCK.sub("", t).strip() for t in texts):
        raise BadRequest("not a PEM public key / 不是 PEM 公钥", reason="bad_public_key")
    out = []
    for pem in pems:
        if "PRIVATE KEY" in pem:
            raise BadRequest("a private key was sent: only the public key may reach the bureau "
                             "/ 只能提交公钥，私钥不得交给主管部门", reason="private_key_refused")
        try:
            key = serialization.load_pem_public_key(pem.encode())
        except ValueError as err:
            raise BadRequest("not a PEM public key / 不是 PEM 公钥",
                             reason="bad_public_key") from err
        if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
            raise BadRequest("not a P-256 key / 不是 P-256 公钥", reason="bad_public_key")
        out.append(key.public_bytes(serialization.Encoding.PEM,
                                    serialization.PublicFormat.SubjectPublicKeyInfo).decode())
    return "".join(out)


def _fields(d: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in FIELDS:
        v = d.get(name)
        if not isinstance(v, str) or not v.strip():
            raise BadRequest(f"{name} is required / 必填：{name}", reason="missing_field")
        if name in LIMITS and len(v) > LIMITS[name]:
            raise BadRequest(f"{name}: at most {LIMITS[name]} characters", reason="too_long")
        out[name] = v.strip()
    out["uscc"] = validate_uscc(d.get("uscc"))
    if d.get("pledge") is not True:
        raise BadRequest("the credit pledge must be accepted / 须签署诚信承诺",
                         reason="pledge_required")
    out["pledge"] = True
    out["public_keys"] = _public_keys(d.get("public_keys"))
    return out


def _no_duplicate(session: Session, uscc: str, own_id: int | None = None) -> None:
    q = select(AgencyApplication.id).where(AgencyApplication.uscc == uscc,
                                           AgencyApplication.state.in_(OPEN + (APPROVED,)))
    for other in session.scalars(q):
        if other != own_id:
            raise Conflict(f"an application for {uscc} is open or approved (#{other}) / "
                           f"该统一社会信用代码已有在办或已批准的申请",
                           reason="duplicate_application")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def submit(session: Session, data: dict[str, Any], now: int, actor: str = "applicant",
           scrypt_n: int = SCRYPT_N) -> tuple[AgencyApplication, str]:
    """The new application and the applicant's token (shown once: it amends the application
    and reads its state)."""
    f = _fields(data)
    username, password = data.get("username"), data.get("password")
    if not isinstance(username, str) or not 3 <= len(username) <= 64 or \
            not username.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise BadRequest("username: 3..64 letters, digits, '-', '_' or '.'",
                         reason="bad_username")
    if session.scalar(select(StaffUser.id).where(StaffUser.username == username)) is not None \
            or session.scalar(select(AgencyApplication.id).where(
                AgencyApplication.username == username,
                AgencyApplication.state.in_(OPEN))) is not None:
        # an open application holds its login's name: approving a second would fail
        raise Conflict(f"user {username} exists / 用户名已被占用", reason="username_taken")
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise BadRequest(f"the password needs at least {MIN_PASSWORD} characters / 密码至少 "
                         f"{MIN_PASSWORD} 个字符", reason="weak_password")
    _no_duplicate(session, f["uscc"])
    token = secrets.token_urlsafe(24)
    app = AgencyApplication(**f, username=username, password_hash=hash_password(password, scrypt_n),
                            token_hash=_hash(token), state=SUBMITTED, created_at=now,
                            updated_at=now)
    session.add(app)
    session.flush()
    audit.append(session, actor, "admission.submit", f"application {app.id}", now,
                 uscc=app.uscc)
    log.info("admission application %d submitted (%s)", app.id, app.uscc)
    return app, token


def for_applicant(session: Session, app_id: int, token: str | None) -> AgencyApplication:
    """The application, when `token` is its applicant's; NotFound otherwise (no oracle)."""
    app = session.get(AgencyApplication, app_id)
    if app is None or not token or not hmac.compare_digest(app.token_hash, _hash(token)):
        raise NotFound(f"no application {app_id}")
    return app


def get(session: Session, app_id: int) -> AgencyApplication:
    app = session.get(AgencyApplication, app_id)
    if app is None:
        raise NotFound(f"no application {app_id}")
    return app


def _note(note: object, missing: str) -> str:
    """The bureau's note to the applicant: 1..NOTE_MAX characters."""
    if not isinstance(note, str) or not note.strip():
        raise BadRequest(missing, reason="note_required")
    if len(note.strip()) > NOTE_MAX:
        raise BadRequest(f"the note is longer than {NOTE_MAX} characters / 说明过长",
                         reason="note_too_long")
    return note.strip()


def _need(app: AgencyApplication, states: tuple[str, ...]) -> None:
    if app.state not in states:
        raise InvalidTransition(f"application {app.id} is {app.state}")


def amend(session: Session, app_id: int, token: str | None, data: dict[str, Any], now: int,
          actor: str = "applicant") -> AgencyApplication:
    app = for_applicant(session, app_id, token)
    _need(app, (CHANGES_REQUESTED,))
    f = _fields(data)
    _no_duplicate(session, f["uscc"], app.id)
    for k, v in f.items():
        setattr(app, k, v)
    app.state, app.updated_at = SUBMITTED, now
    audit.append(session, actor, "admission.amend", f"application {app.id}", now)
    return app


def request_changes(session: Session, app_id: int, note: str, now: int,
                    actor: str) -> AgencyApplication:
    app = get(session, app_id)
    _need(app, (SUBMITTED,))
    app.state, app.note, app.updated_at = CHANGES_REQUESTED, _note(
        note, "say what to change / 请说明需要修改的内容"), now
    audit.append(session, actor, "admission.request_changes", f"application {app.id}", now)
    return app


def refuse(session: Session, app_id: int, note: str, now: int, actor: str) -> AgencyApplication:
    app = get(session, app_id)
    _need(app, OPEN)
    app.state, app.note, app.updated_at, app.decided_by = REFUSED, _note(
        note, "give the reason / 请说明理由"), now, actor
    audit.append(session, actor, "admission.refuse", f"application {app.id}", now)
    return app


def approve(session: Session, app_id: int, agency_id: str, now: int,
            actor: str) -> AgencyApplication:
    """Create the agency and its first staff login; the keys wait for the next trust list."""
    app = get(session, app_id)
    _need(app, (SUBMITTED,))
    if not isinstance(agency_id, str) or not 2 <= len(agency_id) <= 32 or \
            not agency_id.replace("-", "").isalnum():
        raise BadRequest("agency_id: 2..32 letters, digits or '-'", reason="bad_agency_id")
    if session.get(Agency, agency_id) is not None:
        raise Conflict(f"agency {agency_id} exists", reason="agency_exists")
    if session.scalar(select(StaffUser.id).where(StaffUser.username == app.username)):
        raise Conflict(f"user {app.username} exists", reason="username_taken")
    session.add(Agency(id=agency_id, name=app.name, created_at=now))
    session.flush()
    session.add(StaffUser(agency_id=agency_id, username=app.username, display_name=app.username,
                          password_hash=app.password_hash, active=True, failed_logins=0,
                          created_at=now))
    app.state, app.agency_id, app.updated_at, app.decided_by = APPROVED, agency_id, now, actor
    app.note = None
    audit.append(session, actor, "admission.approve", f"application {app.id}", now,
                 agency_id=agency_id, uscc=app.uscc)
    log.info("admission application %d approved as agency %s (by %s)", app.id, agency_id, actor)
    return app


def to_json(app: AgencyApplication) -> dict[str, Any]:
    return {"id": app.id, "name": app.name, "uscc": app.uscc, "address": app.address,
            "legal_representative": app.legal_representative, "licence_ref": app.licence_ref,
            "pledge": app.pledge, "username": app.username, "state": app.state,
            "note": app.note, "agency_id": app.agency_id, "created_at": app.created_at,
            "updated_at": app.updated_at}


def listing(session: Session, state: str | None = None) -> list[dict[str, Any]]:
    q = select(AgencyApplication).order_by(AgencyApplication.id)
    if state:
        q = q.where(AgencyApplication.state == state)
    return [to_json(a) for a in session.scalars(q)]


def keys_for_trust_list(session: Session, app_id: int) -> tuple[str, str, str]:
    """(agency id, name, public keys PEM) of an approved application: what the bureau gives
    `xinka-authority agency add`."""
    app = get(session, app_id)
    _need(app, (APPROVED,))
    assert app.agency_id is not None
    return app.agency_id, app.name, app.public_keys
