"""attendance partitioned by month on PostgreSQL, and the per-(agency, month) rollup kept by
triggers (docs/performance.md "The national month"; services/rollup.py, services/partitions.py)

PostgreSQL: `attendance` becomes a table partitioned by LIST (period), one partition per
period ('YYYY-MM': attendance_2027_01, …) for every period present and AHEAD months ahead of
this one, and a DEFAULT partition (attendance_default) that takes a month nobody created yet,
so an ingest never fails on one; `flask attendance-partitions` creates later months (and
moves a month out of the default). The unique key (agency_id, period, worker_ref) already
holds the partition key; the primary key becomes (id, period) because a partitioned table's
keys must hold it (ids still come from the one sequence). Existing rows are moved.
SQLite: the table stays as it is.

Both: `attendance_rollup` (per agency and period: attendance rows, those of active workers,
check-ins), `worker_rollup` (active workers per agency) and `rollup_deltas`, backfilled from the
raw rows and kept by triggers on `attendance` (insert, update, delete) and `workers` (insert,
update of agency, reference or state, delete) in the writing transaction. On SQLite the
triggers change the counters directly (one writer at a time). On PostgreSQL the row triggers
write deltas, and a deferred constraint trigger folds a transaction's deltas into the counters,
sorted by key, as it commits: concurrent ingests of one agency then never hold its counter row
from their first check-in to their commit (nor deadlock on it), and a rolled-back savepoint or
transaction takes its deltas with it. The check whether an attendance row's worker is active
holds the worker row (FOR SHARE) or, for a reference with no worker yet, a transaction
advisory lock on it that a worker's insert takes too: a concurrent cancel or registration of
that worker is counted once, whichever commits first. `ix_workers_created` finds the workers
registered after a period ended (what a past month's table takes off the counts).

Revision ID: 0022_attendance_partitions
Revises: 0021_issue_scope
"""
import re
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op


revision = '0022_attendance_partitions'
down_revision = '0021_issue_scope'
branch_labels = None
depends_on = None

AHEAD = 3
LOCK_SPACE = 0x78696E6B        # 'xink': the first key of the attendance/worker advisory locks
COLUMNS = ("id, agency_id, period, worker_ref, first_at, last_at, first_terminal, "
           "last_terminal, count")
TABLE_BODY = """
    id integer NOT NULL DEFAULT nextval('attendance_id_seq'::regclass),
    agency_id varchar(32) NOT NULL,
    period varchar(7) NOT NULL,
    worker_ref varchar(64) NOT NULL,
    first_at bigint NOT NULL,
    last_at bigint NOT NULL,
    first_terminal varchar(64) NOT NULL,
    last_terminal varchar(64) NOT NULL,
    count integer NOT NULL,"""

BACKFILL = (
    "INSERT INTO attendance_rollup (agency_id, period, workers_checked_in, active_checked_in, "
    "checkins) SELECT a.agency_id, a.period, count(*), count(w.id), sum(a.count) "
    "FROM attendance a LEFT JOIN workers w ON w.agency_id = a.agency_id "
    "AND w.worker_ref = a.worker_ref AND w.state = 'active' GROUP BY a.agency_id, a.period",
    "INSERT INTO worker_rollup (agency_id, active_workers) SELECT agency_id, count(*) "
    "FROM workers WHERE state = 'active' GROUP BY agency_id")

# -- PostgreSQL -------------------------------------------------------------------------

PG_FUNCTIONS = f"""
CREATE FUNCTION xinka_worker_active(a text, r text) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE st text;
BEGIN
    -- hold the worker row (a cancel waits for us, or we see it committed), or, with no
    -- worker of that reference yet, the reference itself (a registration takes it too)
    SELECT state INTO st FROM workers WHERE agency_id = a AND worker_ref = r FOR SHARE;
    IF NOT FOUND THEN
        PERFORM pg_advisory_xact_lock({LOCK_SPACE}, hashtext(a || '/' || r));
        SELECT state INTO st FROM workers WHERE agency_id = a AND worker_ref = r FOR SHARE;
    END IF;
    RETURN CASE WHEN st = 'active' THEN 1 ELSE 0 END;
END $$;

CREATE FUNCTION xinka_attendance_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE tx bigint := pg_current_xact_id()::text::bigint;
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.agency_id = OLD.agency_id AND NEW.period = OLD.period
            AND NEW.worker_ref = OLD.worker_ref THEN
        IF NEW.count <> OLD.count THEN
            INSERT INTO rollup_deltas (txid, agency_id, period, workers_checked_in,
                                       active_checked_in, checkins, active_workers)
            VALUES (tx, NEW.agency_id, NEW.period, 0, 0, NEW.count - OLD.count, 0);
        END IF;
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        INSERT INTO rollup_deltas (txid, agency_id, period, workers_checked_in,
                                   active_checked_in, checkins, active_workers)
        VALUES (tx, OLD.agency_id, OLD.period, -1,
                -xinka_worker_active(OLD.agency_id, OLD.worker_ref), -OLD.count, 0);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO rollup_deltas (txid, agency_id, period, workers_checked_in,
                                   active_checked_in, checkins, active_workers)
        VALUES (tx, NEW.agency_id, NEW.period, 1,
                xinka_worker_active(NEW.agency_id, NEW.worker_ref), NEW.count, 0);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION xinka_worker_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE tx bigint := pg_current_xact_id()::text::bigint;
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.agency_id = OLD.agency_id AND NEW.worker_ref = OLD.worker_ref
            AND (NEW.state = 'active') = (OLD.state = 'active') THEN
        RETURN NULL;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM pg_advisory_xact_lock({LOCK_SPACE}, hashtext(NEW.agency_id || '/' ||
                                                               NEW.worker_ref));
    END IF;
    IF TG_OP <> 'INSERT' AND OLD.state = 'active' THEN
        INSERT INTO rollup_deltas (txid, agency_id, period, workers_checked_in,
                                   active_checked_in, checkins, active_workers)
        SELECT tx, OLD.agency_id, NULL, 0, 0, 0, -1
        UNION ALL
        SELECT tx, agency_id, period, 0, -1, 0, 0 FROM attendance
        WHERE agency_id = OLD.agency_id AND worker_ref = OLD.worker_ref;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.state = 'active' THEN
        INSERT INTO rollup_deltas (txid, agency_id, period, workers_checked_in,
                                   active_checked_in, checkins, active_workers)
        SELECT tx, NEW.agency_id, NULL, 0, 0, 0, 1
        UNION ALL
        SELECT tx, agency_id, period, 0, 1, 0, 0 FROM attendance
        WHERE agency_id = NEW.agency_id AND worker_ref = NEW.worker_ref;
    END IF;
    RETURN NULL;
END $$;

-- at commit: this transaction's deltas into the counters, in key order (one fold per
-- transaction; the other events find their row gone)
CREATE FUNCTION xinka_rollup_fold() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM rollup_deltas WHERE id = NEW.id;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    WITH d AS (DELETE FROM rollup_deltas WHERE txid = NEW.txid AND period IS NOT NULL
               RETURNING agency_id, period, workers_checked_in, active_checked_in, checkins)
    INSERT INTO attendance_rollup AS r (agency_id, period, workers_checked_in,
                                        active_checked_in, checkins)
    SELECT agency_id, period, sum(workers_checked_in), sum(active_checked_in), sum(checkins)
    FROM d GROUP BY agency_id, period ORDER BY agency_id, period
    ON CONFLICT (agency_id, period) DO UPDATE SET
        workers_checked_in = r.workers_checked_in + excluded.workers_checked_in,
        active_checked_in = r.active_checked_in + excluded.active_checked_in,
        checkins = r.checkins + excluded.checkins;
    WITH d AS (DELETE FROM rollup_deltas WHERE txid = NEW.txid AND period IS NULL
               RETURNING agency_id, active_workers)
    INSERT INTO worker_rollup AS w (agency_id, active_workers)
    SELECT agency_id, sum(active_workers) FROM d GROUP BY agency_id ORDER BY agency_id
    ON CONFLICT (agency_id) DO UPDATE SET
        active_workers = w.active_workers + excluded.active_workers;
    RETURN NULL;
END $$;

CREATE TRIGGER attendance_rollup AFTER INSERT OR UPDATE OR DELETE ON attendance
    FOR EACH ROW EXECUTE FUNCTION xinka_attendance_rollup();
CREATE TRIGGER workers_rollup AFTER INSERT OR UPDATE OF agency_id, worker_ref, state OR DELETE
    ON workers FOR EACH ROW EXECUTE FUNCTION xinka_worker_rollup();
CREATE CONSTRAINT TRIGGER rollup_fold AFTER INSERT ON rollup_deltas
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION xinka_rollup_fold();
"""

PG_DROP = """
DROP TRIGGER IF EXISTS rollup_fold ON rollup_deltas;
DROP TRIGGER IF EXISTS workers_rollup ON workers;
DROP TRIGGER IF EXISTS attendance_rollup ON attendance;
DROP FUNCTION IF EXISTS xinka_rollup_fold();
DROP FUNCTION IF EXISTS xinka_worker_rollup();
DROP FUNCTION IF EXISTS xinka_attendance_rollup();
DROP FUNCTION IF EXISTS xinka_worker_active(text, text);
"""

# -- SQLite -------------------------------------------------------------------------------

_ACTIVE = ("(SELECT count(*) FROM workers w WHERE w.agency_id = {r}.agency_id "
           "AND w.worker_ref = {r}.worker_ref AND w.state = 'active')")
_ADD = ("INSERT INTO attendance_rollup (agency_id, period, workers_checked_in, "
        "active_checked_in, checkins) VALUES (NEW.agency_id, NEW.period, 1, "
        + _ACTIVE.format(r="NEW") + ", NEW.count) ON CONFLICT (agency_id, period) DO UPDATE "
        "SET workers_checked_in = workers_checked_in + 1, "
        "active_checked_in = active_checked_in + excluded.active_checked_in, "
        "checkins = checkins + excluded.checkins;")
_TAKE = ("UPDATE attendance_rollup SET workers_checked_in = workers_checked_in - 1, "
         "active_checked_in = active_checked_in - " + _ACTIVE.format(r="OLD") + ", "
         "checkins = checkins - OLD.count WHERE agency_id = OLD.agency_id "
         "AND period = OLD.period;")
_PERIODS = ("period IN (SELECT period FROM attendance a WHERE a.agency_id = {r}.agency_id "
            "AND a.worker_ref = {r}.worker_ref)")
_WORKER_OFF = (
    "UPDATE worker_rollup SET active_workers = active_workers - 1 "
    "WHERE OLD.state = 'active' AND agency_id = OLD.agency_id; "
    "UPDATE attendance_rollup SET active_checked_in = active_checked_in - 1 "
    "WHERE OLD.state = 'active' AND agency_id = OLD.agency_id AND " + _PERIODS.format(r="OLD")
    + ";")
_WORKER_ON = (
    "INSERT INTO worker_rollup (agency_id, active_workers) SELECT NEW.agency_id, 1 "
    "WHERE NEW.state = 'active' ON CONFLICT (agency_id) DO UPDATE "
    "SET active_workers = active_workers + 1; "
    "UPDATE attendance_rollup SET active_checked_in = active_checked_in + 1 "
    "WHERE NEW.state = 'active' AND agency_id = NEW.agency_id AND " + _PERIODS.format(r="NEW")
    + ";")
_SAME_KEY = ("NEW.agency_id = OLD.agency_id AND NEW.period = OLD.period "
             "AND NEW.worker_ref = OLD.worker_ref")
SQLITE_TRIGGERS = (
    f"CREATE TRIGGER attendance_rollup_insert AFTER INSERT ON attendance BEGIN {_ADD} END",
    f"CREATE TRIGGER attendance_rollup_delete AFTER DELETE ON attendance BEGIN {_TAKE} END",
    "CREATE TRIGGER attendance_rollup_count AFTER UPDATE OF count ON attendance "
    f"WHEN {_SAME_KEY} BEGIN UPDATE attendance_rollup SET checkins = checkins + NEW.count - "
    "OLD.count WHERE agency_id = NEW.agency_id AND period = NEW.period; END",
    "CREATE TRIGGER attendance_rollup_move AFTER UPDATE OF agency_id, period, worker_ref "
    f"ON attendance WHEN NOT ({_SAME_KEY}) BEGIN {_TAKE} {_ADD} END",
    f"CREATE TRIGGER workers_rollup_insert AFTER INSERT ON workers BEGIN {_WORKER_ON} END",
    f"CREATE TRIGGER workers_rollup_delete AFTER DELETE ON workers BEGIN {_WORKER_OFF} END",
    "CREATE TRIGGER workers_rollup_update AFTER UPDATE OF agency_id, worker_ref, state "
    "ON workers WHEN (OLD.state = 'active') <> (NEW.state = 'active') OR "
    "(OLD.state = 'active' AND (OLD.agency_id <> NEW.agency_id OR "
    f"OLD.worker_ref <> NEW.worker_ref)) BEGIN {_WORKER_OFF} {_WORKER_ON} END")
SQLITE_NAMES = ("attendance_rollup_insert", "attendance_rollup_delete",
                "attendance_rollup_count", "attendance_rollup_move", "workers_rollup_insert",
                "workers_rollup_delete", "workers_rollup_update")


def _ahead(n):
    """This calendar month (UTC) and the n after it, as periods."""
    now = datetime.now(timezone.utc)
    y, m, out = now.year, now.month, []
    for _ in range(n + 1):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _partition_attendance(bind):
    op.execute("ALTER TABLE attendance RENAME TO attendance_unpartitioned")
    op.execute("ALTER TABLE attendance_unpartitioned RENAME CONSTRAINT attendance_pkey "
               "TO attendance_unpartitioned_pkey")
    op.execute("ALTER TABLE attendance_unpartitioned RENAME CONSTRAINT "
               "attendance_agency_id_period_worker_ref_key TO attendance_unpartitioned_key")
    op.execute("ALTER INDEX ix_attendance_worker RENAME TO ix_attendance_unpartitioned_worker")
    op.execute("ALTER SEQUENCE attendance_id_seq OWNED BY NONE")
    op.execute(f"CREATE TABLE attendance ({TABLE_BODY}"
               "    CONSTRAINT attendance_pkey PRIMARY KEY (id, period),"
               "    CONSTRAINT attendance_agency_id_period_worker_ref_key "
               "UNIQUE (agency_id, period, worker_ref)) PARTITION BY LIST (period)")
    op.execute("CREATE INDEX ix_attendance_worker ON attendance (agency_id, worker_ref)")
    op.execute("ALTER SEQUENCE attendance_id_seq OWNED BY attendance.id")
    present = [p for (p,) in bind.execute(sa.text(
        "SELECT DISTINCT period FROM attendance_unpartitioned"))]
    for p in sorted(set(_ahead(AHEAD)) | {p for p in present if re.fullmatch(
            r"\d{4}-(0[1-9]|1[0-2])", p)}):
        op.execute(f"CREATE TABLE attendance_{p[:4]}_{p[5:]} PARTITION OF attendance "
                   f"FOR VALUES IN ('{p}')")
    op.execute("CREATE TABLE attendance_default PARTITION OF attendance DEFAULT")
    op.execute(f"INSERT INTO attendance ({COLUMNS}) SELECT {COLUMNS} "
               "FROM attendance_unpartitioned")
    op.execute("DROP TABLE attendance_unpartitioned")


def _unpartition_attendance():
    op.execute("ALTER TABLE attendance RENAME TO attendance_partitioned")
    op.execute("ALTER TABLE attendance_partitioned RENAME CONSTRAINT attendance_pkey "
               "TO attendance_partitioned_pkey")
    op.execute("ALTER TABLE attendance_partitioned RENAME CONSTRAINT "
               "attendance_agency_id_period_worker_ref_key TO attendance_partitioned_key")
    op.execute("ALTER INDEX ix_attendance_worker RENAME TO ix_attendance_partitioned_worker")
    op.execute("ALTER SEQUENCE attendance_id_seq OWNED BY NONE")
    op.execute(f"CREATE TABLE attendance ({TABLE_BODY}"
               "    CONSTRAINT attendance_pkey PRIMARY KEY (id),"
               "    CONSTRAINT attendance_agency_id_period_worker_ref_key "
               "UNIQUE (agency_id, period, worker_ref))")
    op.execute("CREATE INDEX ix_attendance_worker ON attendance (agency_id, worker_ref)")
    op.execute("ALTER SEQUENCE attendance_id_seq OWNED BY attendance.id")
    op.execute(f"INSERT INTO attendance ({COLUMNS}) SELECT {COLUMNS} "
               "FROM attendance_partitioned")
    op.execute("DROP TABLE attendance_partitioned")       # and every partition with it


def upgrade():
    bind = op.get_bind()
    pg = bind.dialect.name == "postgresql"
    op.create_table(
        'attendance_rollup',
        sa.Column('agency_id', sa.String(length=32), nullable=False),
        sa.Column('period', sa.String(length=7), nullable=False),
        sa.Column('workers_checked_in', sa.Integer(), nullable=False),
        sa.Column('active_checked_in', sa.Integer(), nullable=False),
        sa.Column('checkins', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('agency_id', 'period'))
    op.create_table(
        'worker_rollup',
        sa.Column('agency_id', sa.String(length=32), nullable=False),
        sa.Column('active_workers', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('agency_id'))
    op.create_table(
        'rollup_deltas',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  nullable=False),
        sa.Column('txid', sa.BigInteger(), nullable=False),
        sa.Column('agency_id', sa.String(length=32), nullable=False),
        sa.Column('period', sa.String(length=7), nullable=True),
        sa.Column('workers_checked_in', sa.Integer(), nullable=False),
        sa.Column('active_checked_in', sa.Integer(), nullable=False),
        sa.Column('checkins', sa.BigInteger(), nullable=False),
        sa.Column('active_workers', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_rollup_deltas_txid', 'rollup_deltas', ['txid'], unique=False)
    op.create_index('ix_workers_created', 'workers', ['created_at'], unique=False)
    if pg:
        _partition_attendance(bind)
    for stmt in BACKFILL:
        op.execute(stmt)
    if pg:
        op.execute(PG_FUNCTIONS)
    else:
        for stmt in SQLITE_TRIGGERS:
            op.execute(stmt)


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(PG_DROP)
        _unpartition_attendance()
    else:
        for name in SQLITE_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_index('ix_workers_created', table_name='workers')
    op.drop_index('ix_rollup_deltas_txid', table_name='rollup_deltas')
    op.drop_table('rollup_deltas')
    op.drop_table('worker_rollup')
    op.drop_table('attendance_rollup')
