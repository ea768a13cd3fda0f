"""Taps booked once per (badge, counter), check-ins, the monthly attendance ledger, clone
evidence."""
from sqlalchemy import BigInteger, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class Tap(Base):
    """Every booked (badge, counter) pair, whatever its purpose: booked once. `seen_at` is when
    the tap happened (a check-in: its terminal's time; a phone tap: when it reached us), `at`
    when it was booked."""
    __tablename__ = "taps"
    __table_args__ = (UniqueConstraint("badge_kid", "ctr_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    badge_kid: Mapped[str] = mapped_column(String(16))
    ctr_key: Mapped[int] = mapped_column(BigInteger)
    token_hash: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(8))
    seen_at: Mapped[int] = mapped_column(BigInteger)
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
    # ctr_key/token_hash: the tap that made the pair; high_water_key/other_token_hash: the
    # booked tap it contradicts (docs/protocol.md "Clone evidence")
    ctr_key: Mapped[int] = mapped_column(BigInteger)
    high_water_key: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    other_token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    source: Mapped[str] = mapped_column(String(64))
    at: Mapped[int] = mapped_column(BigInteger)


Index("ix_attendance_worker", Attendance.agency_id, Attendance.worker_ref)
Index("ix_checkins_period", Checkin.agency_id, Checkin.period)
# an agency's last terminal sync (migration 0018): one probe per agency, not a scan
Index("ix_checkins_synced", Checkin.agency_id, Checkin.received_at)
