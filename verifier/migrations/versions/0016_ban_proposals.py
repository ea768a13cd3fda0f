"""ban proposals: an agency proposes that the bureau ban one of its enrolled workers; the
bureau accepts (a ban is made) or rejects

Revision ID: 0016_ban_proposals
Revises: 0015_bureau_staff
"""
import sqlalchemy as sa
from alembic import op


revision = '0016_ban_proposals'
down_revision = '0015_bureau_staff'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'ban_proposals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('agency_id', sa.String(length=32), nullable=False),
        sa.Column('worker_ref', sa.String(length=64), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('category', sa.String(length=32), nullable=False),
        sa.Column('legal_basis', sa.Text(), nullable=False),
        sa.Column('evidence', sa.Text(), nullable=False),
        sa.Column('proposed_by', sa.String(length=128), nullable=False),
        sa.Column('proposed_at', sa.BigInteger(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('decided_by', sa.String(length=128), nullable=True),
        sa.Column('decided_at', sa.BigInteger(), nullable=True),
        sa.Column('decision_note', sa.Text(), nullable=True),
        sa.Column('ban_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['agency_id'], ['agencies.id']),
        sa.ForeignKeyConstraint(['ban_id'], ['bans.id']),
        sa.ForeignKeyConstraint(['person_id'], ['persons.id']),
        sa.PrimaryKeyConstraint('id'))
    with op.batch_alter_table('ban_proposals', schema=None) as batch_op:
        batch_op.create_index('ix_ban_proposals_agency_id', ['agency_id'], unique=False)
        batch_op.create_index('ix_ban_proposals_person_id', ['person_id'], unique=False)
        batch_op.create_index('ix_ban_proposals_state', ['state'], unique=False)


def downgrade():
    with op.batch_alter_table('ban_proposals', schema=None) as batch_op:
        batch_op.drop_index('ix_ban_proposals_state')
        batch_op.drop_index('ix_ban_proposals_person_id')
        batch_op.drop_index('ix_ban_proposals_agency_id')
    op.drop_table('ban_proposals')
