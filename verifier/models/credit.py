"""The worker's credit records with provenance (migration 0012_credit_records;
services/records.py), complaints as a process (migration 0013_complaints;
services/complaints.py), and the computed grades with their appeals (migration
0014_credit_grades; services/grades.py, services/appeals.py). `data` is a JSON map of the
kind's own fields (services/records.KINDS); dates are Unix times: `issued_on` local midnight,
`valid_until` the end of its local day."""
from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text
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


class Complaint(Base):
    """The process of a complaint (services/complaints.py): filed with a review that has a
    category, answered by the worker, an outcome proposed by the agency, escalated to the
    bureau (serious, or past `deadline_at`), decided. `status_hash`: SHA-256 of the secret
    in the complainant's status link."""
    __tablename__ = "complaints"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id"), unique=True)
    agency_id: Mapped[str] = mapped_column(String(32))
    worker_ref: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(8))              # minor | serious
    state: Mapped[str] = mapped_column(String(16))    # open | escalated | closed
    filed_at: Mapped[int] = mapped_column(BigInteger)
    deadline_at: Mapped[int] = mapped_column(BigInteger)
    deadline_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    status_hash: Mapped[str] = mapped_column(String(64), unique=True)
    reply: Mapped[str | None] = mapped_column(Text, nullable=True)
    reply_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    proposal: Mapped[str | None] = mapped_column(String(16), nullable=True)
    proposal_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    proposed_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    escalated_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    escalation: Mapped[str | None] = mapped_column(String(16), nullable=True)  # serious|overdue
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    outcome_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(16), nullable=True)  # agency|bureau
    decided_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


Index("ix_complaints_state", Complaint.state, Complaint.deadline_at)
Index("ix_complaints_worker", Complaint.agency_id, Complaint.worker_ref)


class CreditGrade(Base):
    """One assessment of a worker by the credit rules (services/credit_rules.py), kept as
    history: a row is written when the grade, the colour or its warnings change, when the rule
    version changes, and once a quarter. `reasons` and `warnings` are JSON lists of
    {code, points, params, ref}. Rows with rule_version "staff" are the grades agency staff
    typed before migration 0014 (history only; `grade` as typed)."""
    __tablename__ = "credit_grades"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id"))
    computed_at: Mapped[int] = mapped_column(BigInteger)
    rule_version: Mapped[str] = mapped_column(String(16))
    grade: Mapped[str] = mapped_column(String(8))
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    colour: Mapped[str | None] = mapped_column(String(8), nullable=True)
    reasons: Mapped[str] = mapped_column(Text, default="[]")
    warnings: Mapped[str] = mapped_column(Text, default="[]")
    trigger: Mapped[str] = mapped_column(String(16))


Index("ix_credit_grades_worker", CreditGrade.worker_id, CreditGrade.id)


class Appeal(Base):
    """The worker's appeal of a grade, a record, a complaint's outcome or a review
    (services/appeals.py), decided by the bureau. `set_aside`: JSON list of the inputs an
    upheld appeal takes out of the rules ("review:9", "complaint:3", "record:7")."""
    __tablename__ = "appeals"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[str] = mapped_column(String(32))
    worker_ref: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(16))       # grade | record | complaint | review
    target_id: Mapped[int] = mapped_column(Integer)
    grounds: Mapped[str] = mapped_column(Text)
    filed_at: Mapped[int] = mapped_column(BigInteger)
    filed_by: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16))        # open | upheld | rejected
    set_aside: Mapped[str] = mapped_column(Text, default="[]")
    decided_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    decided_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    decision_note: Mapped[str | None] = mapped_column(Text, nullable=True)


Index("ix_appeals_worker", Appeal.agency_id, Appeal.worker_ref)
Index("ix_appeals_state", Appeal.state, Appeal.filed_at)
