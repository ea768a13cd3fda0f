"""API keys and terminal tokens: random, shown once, stored as SHA-256 (they carry 256 bits
of entropy, so a fast hash is enough)."""
from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import ApiKey, Terminal


def new_secret(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def hash_secret(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


# The principal of a bureau key: never an agency id (those are letters and digits), so the
# agency checks refuse it for every agency and the operator checks refuse it too.
BUREAU = "@bureau"
ROLES = (None, "bureau")


def api_key_principal(session: Session, presented: str | None) -> tuple[bool, str | None]:
    """(True, agency_id; None for an operator key, BUREAU for a bureau key) for a live key,
    or (False, None)."""
    if not presented:
        return False, None
    row = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_secret(presented)))
    if row is None or row.revoked_at is not None:
        return False, None
    return True, BUREAU if row.role == "bureau" else row.agency_id


def terminal_for(session: Session, presented: str | None) -> Terminal | None:
    if not presented:
        return None
    row = session.scalar(select(Terminal).where(Terminal.token_hash == hash_secret(presented)))
    return row if row is not None and row.active else None
