"""The bureau's registry (migration 0009_persons): one file per person across every agency
(一人一档), keyed by a keyed hash of the ID number and never by the number, and the ban list
(黑名单). docs/protocol.md "The person registry and the ban list"."""
from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class Person(Base):
    """A person: HMAC-SHA-256(bureau secret `hash_key_id`, compact ID number), hex."""
    __tablename__ = "persons"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash_key_id: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[int] = mapped_column(BigInteger)


class Ban(Base):
    """A bureau decision that the person may not work (纳入行业黑名单) from starts_at to
    ends_at, or until lifted on appeal; start_recorded / end_recorded: the sweep has written
    its start / end to the audit log and revoked the person's badges."""
    __tablename__ = "bans"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    category: Mapped[str] = mapped_column(String(32))
    legal_basis: Mapped[str] = mapped_column(Text)
    starts_at: Mapped[int] = mapped_column(BigInteger)
    ends_at: Mapped[int] = mapped_column(BigInteger)
    decided_by: Mapped[str] = mapped_column(String(200))
    appeal_route: Mapped[str] = mapped_column(Text)
    lifted_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    lifted_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    start_recorded: Mapped[bool] = mapped_column(Boolean, default=False)
    end_recorded: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[int] = mapped_column(BigInteger)


Index("ix_bans_pending", Ban.end_recorded, Ban.starts_at)


class BanProposal(Base):
    """An agency's proposal that the bureau ban one of its (enrolled) workers: open until the
    bureau accepts it (`ban_id`: the ban it made) or rejects it (migration 0016)."""
    __tablename__ = "ban_proposals"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), index=True)
    worker_ref: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    category: Mapped[str] = mapped_column(String(32))
    legal_basis: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text)
    proposed_by: Mapped[str] = mapped_column(String(128))
    proposed_at: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(16), index=True)
    decided_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    decided_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    decision_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    ban_id: Mapped[int | None] = mapped_column(ForeignKey("bans.id"), nullable=True)
