"""The disclosure log (migration 0017_disclosures): who was shown a worker's data, for the
worker's right to know (PIPL arts. 44-45; services/disclosures.py, docs/operator.md
"Retention").

A row names the worker's file (agency id + worker_ref, the key every per-worker table uses),
when, what kind of view, the viewer's role and, for a consent view, the scope names shown;
never anything about the viewer as a person (no address, no browser, no cookie). `token_hash`
ties an employer's tap view to the visit that tap may confirm, which fills `household_id`.
`DisclosureCount` holds what is left of erased and purged rows: counts per agency, month
(UTC) and kind, with no worker reference.
"""
from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class Disclosure(Base):
    __tablename__ = "disclosures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[str] = mapped_column(String(32))
    worker_ref: Mapped[str] = mapped_column(String(64))
    at: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))         # status | consent | staff | export
    role: Mapped[str] = mapped_column(String(200))        # employer, staff:<user>, api:<a>, …
    scope: Mapped[str | None] = mapped_column(String(128), nullable=True)   # "a,b" (consent)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"),
                                                     nullable=True)
    token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)


class DisclosureCount(Base):
    __tablename__ = "disclosure_counts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[str] = mapped_column(String(32))
    month: Mapped[str] = mapped_column(String(7))         # YYYY-MM, UTC
    kind: Mapped[str] = mapped_column(String(16))
    count: Mapped[int] = mapped_column(BigInteger)
    __table_args__ = (UniqueConstraint("agency_id", "month", "kind",
                                       name="uq_disclosure_counts"),)


Index("ix_disclosures_worker", Disclosure.agency_id, Disclosure.worker_ref, Disclosure.at)
Index("ix_disclosures_at", Disclosure.at)
