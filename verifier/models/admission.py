"""Agency admission (migration 0007_admission): an agency's application to the bureau, with
the agency's public keys (never a private one) and its first console login (a password hash),
reviewed by the bureau: submitted -> changes_requested -> submitted ... -> approved | refused."""
from sqlalchemy import BigInteger, Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class AgencyApplication(Base):
    __tablename__ = "agency_applications"
    __table_args__ = (Index("ix_agency_applications_uscc", "uscc"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    uscc: Mapped[str] = mapped_column(String(18))              # 统一社会信用代码, compact form
    address: Mapped[str] = mapped_column(String(400))
    legal_representative: Mapped[str] = mapped_column(String(100))
    licence_ref: Mapped[str] = mapped_column(String(200))      # the licence scan's reference
    pledge: Mapped[bool] = mapped_column(Boolean)              # 诚信承诺 accepted
    public_keys: Mapped[str] = mapped_column(Text)             # PEM public keys, concatenated
    username: Mapped[str] = mapped_column(String(64))          # the first console login
    password_hash: Mapped[str] = mapped_column(String(256))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)   # the applicant's, SHA-256
    state: Mapped[str] = mapped_column(String(20), index=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)   # the bureau's last word
    agency_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)
    decided_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
