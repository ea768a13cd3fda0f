"""Tables of the employer page and the agency console (migration 0003_console): staff users
and their sessions, the views of tap pages (the one-view rule) and the verified reviews bound
to them.
"""
from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base
from .ledger import Checkin


class StaffUser(Base):
    """A console user: agency staff (role "agency", with their agency: the agency console) or
    bureau staff (role "bureau", no agency: the bureau console; migration 0015). password_hash
    is `scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>` (verifier/services/staff.py)."""
    __tablename__ = "staff_users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[str | None] = mapped_column(ForeignKey("agencies.id"), index=True,
                                                  nullable=True)
    role: Mapped[str] = mapped_column(String(16), default="agency", server_default="agency")
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[int] = mapped_column(BigInteger)


class StaffSession(Base):
    """A console session: the signed session cookie carries a random secret (Flask-Login's
    user id), the table its SHA-256 and the expiry. Any verifier process can check it
    (processes are stateless); logout deletes the row."""
    __tablename__ = "staff_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger)


class TapView(Base):
    """The first showing of a tap on the employer page: which browser (SHA-256 of a random
    cookie) and when. A reload from that browser within the reload window shows the page
    again; any other showing of the same token is refused ("this link was already used")."""
    __tablename__ = "tap_views"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(8))
    badge_kid: Mapped[str] = mapped_column(String(16))
    agency_id: Mapped[str] = mapped_column(String(32))
    worker_ref: Mapped[str] = mapped_column(String(64))
    viewer_hash: Mapped[str] = mapped_column(String(64))
    first_at: Mapped[int] = mapped_column(BigInteger)
    last_at: Mapped[int] = mapped_column(BigInteger)
    views: Mapped[int] = mapped_column(Integer, default=1)


class Review(Base):
    """An employer's rating after a consent view (one per consent tap: unique view_id) or of a
    verified visit its household confirmed (one per visit: unique visit_id); one of the two is
    set. A complaint is a review with a category; it counts in the colour rules until the
    agency resolves it."""
    __tablename__ = "reviews"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    view_id: Mapped[int | None] = mapped_column(ForeignKey("tap_views.id"), unique=True,
                                                nullable=True)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"), unique=True,
                                                 nullable=True)
    agency_id: Mapped[str] = mapped_column(String(32))
    worker_ref: Mapped[str] = mapped_column(String(64))
    stars: Mapped[int] = mapped_column(Integer)
    category: Mapped[str | None] = mapped_column(String(16), nullable=True)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    resolved_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    resolution: Mapped[str | None] = mapped_column(Text, nullable=True)


Index("ix_reviews_worker", Review.agency_id, Review.worker_ref, Review.created_at)
# the console's terminals page: last upload per terminal
Index("ix_checkins_terminal", Checkin.terminal_id, Checkin.id)
