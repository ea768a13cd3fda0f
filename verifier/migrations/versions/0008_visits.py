"""verified visits: households (pseudonymous, keyed by a browser secret), visits opened and
closed by employer taps, and the fraud signals they raise

Revision ID: 0008_visits
Revises: 0007_admission
"""
import sqlalchemy as sa
from alembic import op


revision = '0008_visits'
down_revision = '0007_admission'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'households',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('pseudonym', sa.String(length=16), nullable=False),
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('recovery_hash', sa.String(length=64), nullable=False),
        sa.Column('district', sa.String(length=64), nullable=True),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.Column('last_seen_at', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('pseudonym'),
        sa.UniqueConstraint('key_hash'),
        sa.UniqueConstraint('recovery_hash'))
    op.create_table(
        'visits',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('agency_id', sa.String(length=32), nullable=False),
        sa.Column('worker_ref', sa.String(length=64), nullable=False),
        sa.Column('badge_kid', sa.String(length=16), nullable=False),
        sa.Column('serial', sa.String(length=64), nullable=False),
        sa.Column('household_id', sa.Integer(), nullable=False),
        sa.Column('service_type', sa.String(length=32), nullable=False),
        sa.Column('district', sa.String(length=64), nullable=True),
        sa.Column('start_token_hash', sa.String(length=64), nullable=False),
        sa.Column('start_ctr_key', sa.BigInteger(), nullable=False),
        sa.Column('page_at', sa.BigInteger(), nullable=False),
        sa.Column('start_at', sa.BigInteger(), nullable=False),
        sa.Column('end_token_hash', sa.String(length=64), nullable=True),
        sa.Column('end_ctr_key', sa.BigInteger(), nullable=True),
        sa.Column('end_at', sa.BigInteger(), nullable=True),
        sa.Column('closed_by', sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(['household_id'], ['households.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('start_token_hash'),
        sa.UniqueConstraint('end_token_hash'))
    op.create_index('ix_visits_household_id', 'visits', ['household_id'])
    op.create_index('ix_visits_worker', 'visits', ['agency_id', 'worker_ref', 'start_at'])
    op.create_index('ix_visits_badge_open', 'visits', ['badge_kid', 'end_at'])
    op.create_table(
        'fraud_signals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('agency_id', sa.String(length=32), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('worker_ref', sa.String(length=64), nullable=True),
        sa.Column('household_id', sa.Integer(), nullable=True),
        sa.Column('visit_id', sa.Integer(), nullable=True),
        sa.Column('detail', sa.Text(), nullable=False),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['household_id'], ['households.id']),
        sa.ForeignKeyConstraint(['visit_id'], ['visits.id']),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_fraud_signals_agency', 'fraud_signals', ['agency_id', 'created_at'])


def downgrade():
    op.drop_index('ix_fraud_signals_agency', table_name='fraud_signals')
    op.drop_table('fraud_signals')
    op.drop_index('ix_visits_badge_open', table_name='visits')
    op.drop_index('ix_visits_worker', table_name='visits')
    op.drop_index('ix_visits_household_id', table_name='visits')
    op.drop_table('visits')
    op.drop_table('households')
