"""the worker's own way in: one-time link codes (hash only), the sessions they open, guesses
and the lock they earn a badge, the worker's choice of consent scope, the worker's request to
cancel (注销), and an index of the badges' printed numbers (the page finds a badge by it)

Revision ID: 0020_worker_links
Revises: 0019_city_figures
"""
import sqlalchemy as sa
from alembic import op


revision = '0020_worker_links'
down_revision = '0019_city_figures'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_badges_serial', 'badges', ['serial'])
    op.create_table(
        'link_codes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('agency_id', sa.String(length=32), nullable=False),
        sa.Column('worker_ref', sa.String(length=64), nullable=False),
        sa.Column('badge_kid', sa.String(length=16), nullable=False),
        sa.Column('source', sa.String(length=80), nullable=False),
        sa.Column('issued_at', sa.BigInteger(), nullable=False),
        sa.Column('valid_until', sa.BigInteger(), nullable=False),
        sa.Column('used_at', sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('code_hash'))
    op.create_index('ix_link_codes_badge', 'link_codes', ['badge_kid'])
    op.create_table(
        'link_failures',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('badge_kid', sa.String(length=16), nullable=False),
        sa.Column('at', sa.BigInteger(), nullable=False),
        sa.Column('reason', sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_link_failures_badge', 'link_failures', ['badge_kid', 'at'])
    op.create_table(
        'link_locks',
        sa.Column('badge_kid', sa.String(length=16), nullable=False),
        sa.Column('locked_until', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('badge_kid'))
    op.create_table(
        'worker_sessions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('secret_hash', sa.String(length=64), nullable=False),
        sa.Column('agency_id', sa.String(length=32), nullable=False),
        sa.Column('worker_ref', sa.String(length=64), nullable=False),
        sa.Column('badge_kid', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.Column('expires_at', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('secret_hash'))
    op.create_table(
        'worker_choices',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('agency_id', sa.String(length=32), nullable=False),
        sa.Column('worker_ref', sa.String(length=64), nullable=False),
        sa.Column('scope', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('agency_id', 'worker_ref'))
    op.create_table(
        'cancel_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('agency_id', sa.String(length=32), nullable=False),
        sa.Column('worker_ref', sa.String(length=64), nullable=False),
        sa.Column('requested_at', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('agency_id', 'worker_ref'))


def downgrade():
    op.drop_table('cancel_requests')
    op.drop_table('worker_choices')
    op.drop_table('worker_sessions')
    op.drop_table('link_locks')
    op.drop_index('ix_link_failures_badge', table_name='link_failures')
    op.drop_table('link_failures')
    op.drop_index('ix_link_codes_badge', table_name='link_codes')
    op.drop_table('link_codes')
    op.drop_index('ix_badges_serial', table_name='badges')
