"""The worker's own way in (migration 0020_worker_links; services/links.py, views/me.py):
one-time link codes, the short sessions they open, the lock a badge gets after guesses, the
worker's choice of what a consent tap shows, and the worker's request to cancel (注销)."""
from sqlalchemy import BigInteger, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class LinkCode(Base):
    """A code a terminal showed after a check-in (or the console printed on a card): only its
    hash is kept, bound to the badge (kid) and the worker's file."""
    __tablename__ = "link_codes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    agency_id: Mapped[str] = mapped_column(String(32))
    worker_ref: Mapped[str] = mapped_column(String(64))
    badge_kid: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(80))        # terminal:<id> | staff:<user>
    issued_at: Mapped[int] = mapped_column(BigInteger)
    valid_until: Mapped[int] = mapped_column(BigInteger)
    used_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class LinkFailure(Base):
    """A code typed for a badge that did not open it (the lock counts these)."""
    __tablename__ = "link_failures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    badge_kid: Mapped[str] = mapped_column(String(16))
    at: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(16))


class LinkLock(Base):
    __tablename__ = "link_locks"
    badge_kid: Mapped[str] = mapped_column(String(16), primary_key=True)
    locked_until: Mapped[int] = mapped_column(BigInteger)


class WorkerSession(Base):
    """The worker's page open for a while: only the hash of the cookie's secret is kept."""
    __tablename__ = "worker_sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    agency_id: Mapped[str] = mapped_column(String(32))
    worker_ref: Mapped[str] = mapped_column(String(64))
    badge_kid: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger)


class WorkerChoice(Base):
    """What the worker lets a consent tap show (the scope bits of host.wire.tap); ANDed with
    the badge's own bits."""
    __tablename__ = "worker_choices"
    __table_args__ = (UniqueConstraint("agency_id", "worker_ref"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[str] = mapped_column(String(32))
    worker_ref: Mapped[str] = mapped_column(String(64))
    scope: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[int] = mapped_column(BigInteger)


class CancelRequest(Base):
    """The worker asked their agency to cancel (注销) their file; one per worker file."""
    __tablename__ = "cancel_requests"
    __table_args__ = (UniqueConstraint("agency_id", "worker_ref"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[str] = mapped_column(String(32))
    worker_ref: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[int] = mapped_column(BigInteger)


Index("ix_link_codes_badge", LinkCode.badge_kid)
Index("ix_link_failures_badge", LinkFailure.badge_kid, LinkFailure.at)
