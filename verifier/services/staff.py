"""Console users (agency staff): passwords and sessions.

- Passwords: scrypt (hashlib.scrypt, RFC 7914) with N=2^15 (`STAFF_SCRYPT_N`), r=8, p=1
  (32 MiB), a 16-byte random salt; stored as `scrypt$N$r$p$salt$hash` (base64) so the cost
  can be raised later and old hashes still verify (and are re-hashed at the next login).
- Five wrong passwords in a row lock the account for LOCK_S seconds.
- Sessions live in the database (any process can check them, logout ends them at once): the
  signed session cookie carries 256 random bits (views/browser.py, Flask-Login), the table
  their SHA-256 and the expiry. CSRF is Flask-WTF's (views/browser.py).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..models import StaffSession, StaffUser
from . import audit
from .errors import BadRequest, Conflict
from .registry import get_agency

log = logging.getLogger(__name__)

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 15, 8, 1
MAXMEM = 64 * 1024 * 1024
MAX_FAILURES = 5
LOCK_S = 300
SESSION_TTL_S = 8 * 3600
MIN_PASSWORD = 10


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    salt = secrets.token_bytes(16)
    dk = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=MAXMEM,
                        dklen=32)
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(dk)}"


def check_password(stored: str, password: str, n_now: int = SCRYPT_N) -> tuple[bool, bool]:
    """(ok, needs_rehash): a re-hash is due when the stored cost is not (n_now, r, p)."""
    try:
        scheme, n_text, r_text, p_text, salt_text, dk_text = stored.split("$")
        n, r, p = int(n_text), int(r_text), int(p_text)
        salt, dk = base64.b64decode(salt_text), base64.b64decode(dk_text)
    except (ValueError, AttributeError):
        return False, False
    if scheme != "scrypt":
        return False, False
    got = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=MAXMEM,
                         dklen=len(dk))
    ok = hmac.compare_digest(got, dk)
    return ok, ok and (n, r, p) != (n_now, SCRYPT_R, SCRYPT_P)


ROLES = ("agency", "bureau")


def create_user(session: Session, agency_id: str | None, username: str, password: str,
                now: int, actor: str, display_name: str | None = None,
                scrypt_n: int = SCRYPT_N, role: str = "agency") -> StaffUser:
    """A console user: agency staff of `agency_id`, or (role "bureau", no agency) bureau
    staff, who see the bureau console and never an agency's console."""
    if role not in ROLES:
        raise BadRequest("role is agency or bureau")
    if role == "agency":
        get_agency(session, agency_id or "")
    elif agency_id is not None:
        raise BadRequest("bureau staff belong to no agency")
    if not isinstance(username, str) or not 3 <= len(username) <= 64 or \
            not username.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise BadRequest("username: 3..64 letters, digits, '-', '_' or '.'")
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise BadRequest(f"the password needs at least {MIN_PASSWORD} characters "
                         f"/ 密码至少 {MIN_PASSWORD} 个字符")
    if session.scalar(select(StaffUser).where(StaffUser.username == username)) is not None:
        raise Conflict(f"user {username} exists")
    user = StaffUser(agency_id=agency_id, role=role, username=username,
                     display_name=display_name or username,
                     password_hash=hash_password(password, scrypt_n), active=True, failed_logins=0,
                     created_at=now)
    session.add(user)
    session.flush()
    audit.append(session, actor, "staff.create", username, now, agency_id=agency_id, role=role)
    log.info("console user %d (%s) created for %s (by %s)", user.id, role,
             agency_id or "the bureau", actor)
    return user


def authenticate(session: Session, username: str | None, password: str | None,
                 now: int, scrypt_n: int = SCRYPT_N) -> tuple[StaffUser | None, str | None]:
    """(StaffUser, None) for a right username and password, else (None, reason) with reason
    `login_failed` (one answer for every cause, so it does not tell which usernames exist)
    or `locked`. Returns instead of raising so that the failure count is committed."""
    user = session.scalar(select(StaffUser).where(StaffUser.username == (username or "")))
    if user is None or not user.active:
        hash_password(password or "", scrypt_n)     # the same work as a real check
        return None, "login_failed"
    if user.locked_until is not None and user.locked_until > now:
        return None, "locked"
    ok, rehash = check_password(user.password_hash, password or "", scrypt_n)
    if not ok:
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILURES:
            user.locked_until, user.failed_logins = now + LOCK_S, 0
            log.warning("console user %d locked for %d s after %d wrong passwords", user.id,
                        LOCK_S, MAX_FAILURES)
        return None, "login_failed"
    user.failed_logins, user.locked_until = 0, None
    if rehash:
        user.password_hash = hash_password(password or "", scrypt_n)
        log.info("console user %d: password re-hashed with the current scrypt cost", user.id)
    return user, None


def start_session(session: Session, user: StaffUser, now: int,
                  ttl: int = SESSION_TTL_S) -> str:
    """The secret of a new session for user (what the session cookie carries)."""
    secret = secrets.token_urlsafe(32)
    session.execute(delete(StaffSession).where(StaffSession.expires_at < now))
    session.add(StaffSession(token_hash=_hash(secret), user_id=user.id, created_at=now,
                             expires_at=now + ttl))
    audit.append(session, f"staff:{user.username}", "staff.login", user.username, now,
                 agency_id=user.agency_id)
    session.flush()
    log.info("console login: user %d of agency %s", user.id, user.agency_id)
    return secret


def current(session: Session, secret: str | None,
            now: int) -> tuple[StaffUser, StaffSession] | tuple[None, None]:
    """(StaffUser, StaffSession) for a live session cookie, or (None, None)."""
    if not secret:
        return None, None
    row = session.get(StaffSession, _hash(secret))
    if row is None or row.expires_at < now:
        return None, None
    user = session.get(StaffUser, row.user_id)
    if user is None or not user.active:
        return None, None
    return user, row


def end_session(session: Session, secret: str | None) -> None:
    if secret:
        session.execute(delete(StaffSession).where(StaffSession.token_hash == _hash(secret)))


def _hash(secret: str) -> str:
    return hashlib.sha256(("staff:" + secret).encode()).hexdigest()
