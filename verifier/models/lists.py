"""Signed lists as received or published: trust lists and status lists."""
from sqlalchemy import BigInteger, Boolean, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


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


class ListVersion(Base):
    """One row (id 1): bumped by every trust/status list import in the importing transaction
    (services/trust.py), read by every process to know whether its snapshot is current."""
    __tablename__ = "list_version"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger)
