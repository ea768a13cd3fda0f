"""The worker's credit records with provenance (migration 0012_credit_records;
services/records.py). `data` is a JSON map of the kind's own fields (services/records.KINDS);
dates are Unix times: `issued_on` local midnight, `valid_until` the end of its local day."""
from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class CreditRecord(Base):
    __tablename__ = "credit_records"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[str] = mapped_column(String(32))
    worker_ref: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))        # verified | self_declared | withdrawn
    data: Mapped[str] = mapped_column(Text, default="{}")
    source: Mapped[str | None] = mapped_column(String(200), nullable=True)
    issued_on: Mapped[int] = mapped_column(BigInteger)
    valid_until: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    entered_by: Mapped[str] = mapped_column(String(200))
    entered_at: Mapped[int] = mapped_column(BigInteger)
    verified_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    verified_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    withdrawn_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    withdrawn_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    withdraw_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


Index("ix_credit_records_worker", CreditRecord.agency_id, CreditRecord.worker_ref,
      CreditRecord.kind)
