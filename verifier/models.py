"""The tables (SQLAlchemy 2). Alembic migrations in verifier/migrations build the same schema;
tests/verifier/test_migrations.py checks that they agree.

Counters are unsigned 64-bit on the wire; they are stored order-preserving as
`counter - 2**63` in a signed BIGINT (`ctr_key`), which both SQLite and PostgreSQL hold.
Kids and hashes are lower-case hex.
"""
from sqlalchemy import (BigInteger, Boolean, ForeignKey, Index, Integer, LargeBinary, String,
                        Text, UniqueConstraint)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

CTR_OFFSET = 2 ** 63


def ctr_key(counter):
    return counter - CTR_OFFSET


def ctr_value(key):
    return key + CTR_OFFSET


class Base(DeclarativeBase):
    pass


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
    """An API key, stored as SHA-256; agency_id NULL is an operator key (all agencies)."""
    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[str | None] = mapped_column(ForeignKey("agencies.id"), nullable=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[int] = mapped_column(BigInteger)
    revoked_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class Worker(Base):
    __tablename__ = "workers"
    __table_args__ = (UniqueConstraint("agency_id", "worker_ref"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), index=True)
    worker_ref: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    id_number: Mapped[str | None] = mapped_column(String(64), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(32), nullable=True)
    state: Mapped[str] = mapped_column(String(16), default="active")   # active | cancelled
    created_at: Mapped[int] = mapped_column(BigInteger)
    cancelled_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


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


class TrustListBlob(Base):
    __tablename__ = "trust_lists"
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    iss: Mapped[str] = mapped_column(String(200))
    iat: Mapped[int] = mapped_column(BigInteger)
    exp: Mapped[int] = mapped_column(BigInteger)
    token: Mapped[bytes] = mapped_column(LargeBinary)
    imported_at: Mapped[int] = mapped_column(BigInteger)


class StatusListBlob(Base):
    """A signed status list token; `own` ones this verifier signed and publishes."""
    __tablename__ = "status_lists"
    __table_args__ = (UniqueConstraint("uri", "seq"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uri: Mapped[str] = mapped_column(String(300), index=True)
    agency_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    iat: Mapped[int] = mapped_column(BigInteger)
    exp: Mapped[int] = mapped_column(BigInteger)
    ttl: Mapped[int] = mapped_column(BigInteger)
    own: Mapped[bool] = mapped_column(Boolean)
    token: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[int] = mapped_column(BigInteger)


class Tap(Base):
    """Every accepted (badge, counter) pair, whatever its purpose: accepted once."""
    __tablename__ = "taps"
    __table_args__ = (UniqueConstraint("badge_kid", "ctr_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    badge_kid: Mapped[str] = mapped_column(String(16))
    ctr_key: Mapped[int] = mapped_column(BigInteger)
    token_hash: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(8))
    at: Mapped[int] = mapped_column(BigInteger)


class Checkin(Base):
    __tablename__ = "checkins"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    nonce: Mapped[str] = mapped_column(String(32), unique=True)
    badge_kid: Mapped[str] = mapped_column(String(16), index=True)
    ctr_key: Mapped[int] = mapped_column(BigInteger)
    agency_id: Mapped[str] = mapped_column(String(32))
    worker_ref: Mapped[str] = mapped_column(String(64))
    terminal_id: Mapped[str] = mapped_column(String(64))
    seen_at: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[int] = mapped_column(BigInteger)
    period: Mapped[str] = mapped_column(String(7))
    token: Mapped[bytes] = mapped_column(LargeBinary)


class Attendance(Base):
    """One row per worker per period; anonymous facts (the pseudonymous worker reference,
    times, terminals) that stay after a worker's personal data is erased."""
    __tablename__ = "attendance"
    __table_args__ = (UniqueConstraint("agency_id", "period", "worker_ref"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(7))
    worker_ref: Mapped[str] = mapped_column(String(64))
    first_at: Mapped[int] = mapped_column(BigInteger)
    last_at: Mapped[int] = mapped_column(BigInteger)
    first_terminal: Mapped[str] = mapped_column(String(64))
    last_terminal: Mapped[str] = mapped_column(String(64))
    count: Mapped[int] = mapped_column(Integer)


class CloneEvidence(Base):
    __tablename__ = "clone_evidence"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    badge_kid: Mapped[str] = mapped_column(String(16), index=True)
    kind: Mapped[str] = mapped_column(String(32))    # counter_collision | counter_regression
    ctr_key: Mapped[int] = mapped_column(BigInteger)
    high_water_key: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    other_token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    source: Mapped[str] = mapped_column(String(64))
    at: Mapped[int] = mapped_column(BigInteger)


class AuditEntry(Base):
    """Append-only; hash = SHA-256(prev_hash || canonical JSON of the entry)."""
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[int] = mapped_column(BigInteger)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    agency_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    subject: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)


Index("ix_workers_active", Worker.agency_id, Worker.state, Worker.id)   # missing-only keyset
Index("ix_attendance_worker", Attendance.agency_id, Attendance.worker_ref)
Index("ix_checkins_period", Checkin.agency_id, Checkin.period)
Index("ix_status_indices_state", StatusIndex.agency_id, StatusIndex.state)

from . import models_console  # noqa: E402,F401  (console tables: same metadata)
