"""Counts kept up to date by database triggers in the transaction that writes attendance or
workers (migration 0022_attendance_partitions; services/rollup.py reads them), so the
per-agency check-in table of a month never scans the raw rows:

- `attendance_rollup`: per agency and period, the workers with an attendance row (every row,
  a cancelled worker's too), those of them whose worker is active now, and the check-ins;
- `worker_rollup`: per agency, its active workers;
- `rollup_deltas` (PostgreSQL only; always empty on SQLite): what a transaction changed, written
  by the row triggers and folded into the two tables above, sorted by key, when it commits
  (a deferred constraint trigger), so concurrent ingests of one agency do not hold a lock on its
  counters from their first check-in to their commit. A reader adds the deltas it can see:
  only its own transaction's, since a commit folds (and deletes) them before it ends.
"""
from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class AttendanceRollup(Base):
    __tablename__ = "attendance_rollup"
    agency_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    workers_checked_in: Mapped[int] = mapped_column(Integer)   # attendance rows
    active_checked_in: Mapped[int] = mapped_column(Integer)    # of them, active workers now
    checkins: Mapped[int] = mapped_column(BigInteger)          # the rows' counts, summed


class WorkerRollup(Base):
    __tablename__ = "worker_rollup"
    agency_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    active_workers: Mapped[int] = mapped_column(Integer)


class RollupDelta(Base):
    """One change to the counters by an uncommitted transaction (`txid`): `period` set, to
    attendance_rollup; NULL, to worker_rollup."""
    __tablename__ = "rollup_deltas"
    # bigint: hundreds of millions of check-ins a month go through here (SQLite: a rowid)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True)
    txid: Mapped[int] = mapped_column(BigInteger)
    agency_id: Mapped[str] = mapped_column(String(32))
    period: Mapped[str | None] = mapped_column(String(7), nullable=True)
    workers_checked_in: Mapped[int] = mapped_column(Integer)
    active_checked_in: Mapped[int] = mapped_column(Integer)
    checkins: Mapped[int] = mapped_column(BigInteger)
    active_workers: Mapped[int] = mapped_column(Integer)


Index("ix_rollup_deltas_txid", RollupDelta.txid)
