"""Agencies, their keys and API keys, workers, badges, status indices and terminals."""
from sqlalchemy import (BigInteger, Boolean, ForeignKey, Index, Integer, LargeBinary, String,
                        Text, UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class Agency(Base):
    __tablename__ = "agencies"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[int] = mapped_column(BigInteger)


class AgencyKey(Base):
    """An agency issuer public key as the trust list carries it."""
    __tablename__ = "agency_keys"
    kid: Mapped[str] = mapped_column(String(16), primary_key=True)
    agency_id: Mapped[str] = mapped_column(String(32), index=True)
    cose_key: Mapped[bytes] = mapped_column(LargeBinary)
    trust_seq: Mapped[int] = mapped_column(BigInteger)


class ApiKey(Base):
    """An API key, stored as SHA-256; agency_id NULL is an operator key (all agencies), or,
    with role "bureau", a key of the bureau (the ban list, the person registry)."""
    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[str | None] = mapped_column(ForeignKey("agencies.id"), nullable=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[int] = mapped_column(BigInteger)
    revoked_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    role: Mapped[str | None] = mapped_column(String(16), nullable=True)   # "bureau" or None


class Worker(Base):
    __tablename__ = "workers"
    __table_args__ = (UniqueConstraint("agency_id", "worker_ref"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), index=True)
    worker_ref: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # never written any more: a number is kept only sealed (id_number_enc, services/identity)
    id_number: Mapped[str | None] = mapped_column(String(64), nullable=True)
    id_number_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), nullable=True,
                                                  index=True)
    phone: Mapped[str | None] = mapped_column(String(32), nullable=True)
    state: Mapped[str] = mapped_column(String(16), default="active")   # active | cancelled
    created_at: Mapped[int] = mapped_column(BigInteger)
    cancelled_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # the consent scope bits the agency console chose for the worker's next badge (NULL: the
    # technician's profile default); `provision issue` writes them to the badge
    issue_scope: Mapped[int | None] = mapped_column(Integer, nullable=True)


class Badge(Base):
    """Lifecycle: registered -> active -> suspended | lost -> revoked (reinstate: back to
    active from suspended or lost)."""
    __tablename__ = "badges"
    __table_args__ = (UniqueConstraint("agency_id", "status_idx"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), index=True)
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("workers.id"), nullable=True,
                                                  index=True)
    serial: Mapped[str] = mapped_column(String(16))
    kid: Mapped[str] = mapped_column(String(16), unique=True)
    status_idx: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    credential: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)


class StatusIndex(Base):
    """A status index reserved for a badge being provisioned, and what became of it:
    reserved -> registered (a badge with it was registered) | free (given back before any
    credential carried it: may be handed out again) | retired (a credential carrying it may
    exist: never handed out again, revoked in the agency's status list)."""
    __tablename__ = "status_indices"
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), primary_key=True)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    state: Mapped[str] = mapped_column(String(16))
    kid: Mapped[str | None] = mapped_column(String(16), nullable=True)
    serial: Mapped[str | None] = mapped_column(String(16), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)


class Terminal(Base):
    __tablename__ = "terminals"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[int] = mapped_column(BigInteger)


Index("ix_workers_active", Worker.agency_id, Worker.state, Worker.id)   # missing-only keyset
# the workers registered after a period ended (migration 0022): what the per-agency check-in
# table of a past month takes off the rollup's counts (services/rollup.py)
Index("ix_workers_created", Worker.created_at)
Index("ix_badges_serial", Badge.serial)     # the worker page finds the badge by its number
Index("ix_status_indices_state", StatusIndex.agency_id, StatusIndex.state)
