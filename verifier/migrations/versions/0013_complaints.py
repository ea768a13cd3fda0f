"""complaints as a process: severity, a deadline of working days, the worker's reply, the
agency's proposal, escalation to the bureau, the decision; a complaint filed before this
migration gets its process row as a minor complaint filed then (closed when it was resolved)

Revision ID: 0013_complaints
Revises: 0012_credit_records
"""
import hashlib
import secrets

import sqlalchemy as sa
from alembic import op


revision = '0013_complaints'
down_revision = '0012_credit_records'
branch_labels = None
depends_on = None

DAY = 86400


def upgrade():
    complaints = op.create_table(
        'complaints',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('review_id', sa.Integer(), nullable=False),
        sa.Column('agency_id', sa.String(length=32), nullable=False),
        sa.Column('worker_ref', sa.String(length=64), nullable=False),
        sa.Column('severity', sa.String(length=8), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('filed_at', sa.BigInteger(), nullable=False),
        sa.Column('deadline_at', sa.BigInteger(), nullable=False),
        sa.Column('deadline_provisional', sa.Boolean(), nullable=False),
        sa.Column('status_hash', sa.String(length=64), nullable=False),
        sa.Column('reply', sa.Text(), nullable=True),
        sa.Column('reply_at', sa.BigInteger(), nullable=True),
        sa.Column('proposal', sa.String(length=16), nullable=True),
        sa.Column('proposal_note', sa.Text(), nullable=True),
        sa.Column('proposed_at', sa.BigInteger(), nullable=True),
        sa.Column('escalated_at', sa.BigInteger(), nullable=True),
        sa.Column('escalation', sa.String(length=16), nullable=True),
        sa.Column('outcome', sa.String(length=16), nullable=True),
        sa.Column('outcome_note', sa.Text(), nullable=True),
        sa.Column('decided_by', sa.String(length=16), nullable=True),
        sa.Column('decided_at', sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(['review_id'], ['reviews.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('review_id'),
        sa.UniqueConstraint('status_hash'))
    op.create_index('ix_complaints_state', 'complaints', ['state', 'deadline_at'])
    op.create_index('ix_complaints_worker', 'complaints', ['agency_id', 'worker_ref'])
    rows = op.get_bind().execute(sa.text(
        "SELECT id, agency_id, worker_ref, created_at, resolved_at, resolution FROM reviews "
        "WHERE category IS NOT NULL")).fetchall()
    out = []
    for rid, agency, ref, at, resolved, note in rows:
        # the old process had no deadline: 7 working days are at least 9 calendar days
        out.append({"review_id": rid, "agency_id": agency, "worker_ref": ref,
                    "severity": "minor", "state": "closed" if resolved else "open",
                    "filed_at": at, "deadline_at": at + 9 * DAY,
                    "deadline_provisional": True,
                    "status_hash": hashlib.sha256(secrets.token_bytes(32)).hexdigest(),
                    "reply": None, "reply_at": None, "proposal": None, "proposal_note": None,
                    "proposed_at": None, "escalated_at": None, "escalation": None,
                    "outcome": "settled" if resolved else None, "outcome_note": note,
                    "decided_by": "agency" if resolved else None, "decided_at": resolved})
    if out:
        op.bulk_insert(complaints, out)


def downgrade():
    op.drop_index('ix_complaints_worker', table_name='complaints')
    op.drop_index('ix_complaints_state', table_name='complaints')
    op.drop_table('complaints')
