"""the disclosure log: every view of a worker's data (status, consent, staff, export) with
its time, kind and the viewer's role, and the anonymised counts kept when rows are erased at
注销 or purged after the retention period

Revision ID: 0017_disclosures
Revises: 0016_ban_proposals
"""
import sqlalchemy as sa
from alembic import op


revision = '0017_disclosures'
down_revision = '0016_ban_proposals'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'disclosures',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('agency_id', sa.String(length=32), nullable=False),
        sa.Column('worker_ref', sa.String(length=64), nullable=False),
        sa.Column('at', sa.BigInteger(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('role', sa.String(length=200), nullable=False),
        sa.Column('scope', sa.String(length=128), nullable=True),
        sa.Column('household_id', sa.Integer(), nullable=True),
        sa.Column('token_hash', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(['household_id'], ['households.id']),
        sa.PrimaryKeyConstraint('id'))
    with op.batch_alter_table('disclosures', schema=None) as batch_op:
        batch_op.create_index('ix_disclosures_worker', ['agency_id', 'worker_ref', 'at'],
                              unique=False)
        batch_op.create_index('ix_disclosures_at', ['at'], unique=False)
        batch_op.create_index('ix_disclosures_token_hash', ['token_hash'], unique=False)
    op.create_table(
        'disclosure_counts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('agency_id', sa.String(length=32), nullable=False),
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('count', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('agency_id', 'month', 'kind', name='uq_disclosure_counts'))


def downgrade():
    op.drop_table('disclosure_counts')
    with op.batch_alter_table('disclosures', schema=None) as batch_op:
        batch_op.drop_index('ix_disclosures_token_hash')
        batch_op.drop_index('ix_disclosures_at')
        batch_op.drop_index('ix_disclosures_worker')
    op.drop_table('disclosures')
