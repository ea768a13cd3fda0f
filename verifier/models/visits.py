"""Tables of verified visits (migrations 0008_visits, 0011_agreements): pseudonymous
households, the visits two employer taps open and close, the service agreements (合同) visits
match to, and the fraud signals they raise.

A household is a random secret in the employer's browser (the `xh` cookie); the table keeps
only its SHA-256 and that of its recovery code, a pseudonym shown on receipts and in the
console, and optionally the district the employer picked. Nothing else about it exists here.
"""
from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class Household(Base):
    __tablename__ = "households"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pseudonym: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    recovery_hash: Mapped[str] = mapped_column(String(64), unique=True)
    district: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    last_seen_at: Mapped[int] = mapped_column(BigInteger)


class Visit(Base):
    """One visit: opened by the arrival tap (`start_token_hash`, its counter, the tap's page
    first shown at `page_at`, confirmed at `start_at`), closed by a later tap of the same badge
    from the same household (`end_*`, `closed_by` "departure"), or by the verifier after the
    maximum length (`closed_by` "auto", `end_at` = start + maximum). Counters as ctr_key."""
    __tablename__ = "visits"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[str] = mapped_column(String(32))
    worker_ref: Mapped[str] = mapped_column(String(64))
    badge_kid: Mapped[str] = mapped_column(String(16))
    serial: Mapped[str] = mapped_column(String(64))
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    service_type: Mapped[str] = mapped_column(String(32))
    district: Mapped[str | None] = mapped_column(String(64), nullable=True)
    start_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    start_ctr_key: Mapped[int] = mapped_column(BigInteger)
    page_at: Mapped[int] = mapped_column(BigInteger)
    start_at: Mapped[int] = mapped_column(BigInteger)
    end_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    end_ctr_key: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    end_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    closed_by: Mapped[str | None] = mapped_column(String(16), nullable=True)
    agreement_id: Mapped[int | None] = mapped_column(ForeignKey("agreements.id"),
                                                     nullable=True, index=True)


class Agreement(Base):
    """A service agreement recorded by the agency: one worker, one service type, a household
    (its pseudonym) or a free reference, from `start_at` (local midnight of the first day) for
    `term_months` (`end_at`, exclusive), the agreed time per week in minutes."""
    __tablename__ = "agreements"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[str] = mapped_column(String(32))
    worker_ref: Mapped[str] = mapped_column(String(64))
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"),
                                                     nullable=True)
    reference: Mapped[str | None] = mapped_column(String(64), nullable=True)
    service_type: Mapped[str] = mapped_column(String(32))
    start_at: Mapped[int] = mapped_column(BigInteger)
    end_at: Mapped[int] = mapped_column(BigInteger)
    term_months: Mapped[int] = mapped_column(Integer)
    minutes_per_week: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[int] = mapped_column(BigInteger)
    created_by: Mapped[str] = mapped_column(String(200))


class FraudSignal(Base):
    """A pattern worth a look by the agency, recorded when seen, never dropped."""
    __tablename__ = "fraud_signals"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    worker_ref: Mapped[str | None] = mapped_column(String(64), nullable=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"),
                                                     nullable=True)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"), nullable=True)
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[int] = mapped_column(BigInteger)


Index("ix_visits_worker", Visit.agency_id, Visit.worker_ref, Visit.start_at)
Index("ix_visits_badge_open", Visit.badge_kid, Visit.end_at)
Index("ix_agreements_worker", Agreement.agency_id, Agreement.worker_ref)
Index("ix_fraud_signals_agency", FraudSignal.agency_id, FraudSignal.created_at)
