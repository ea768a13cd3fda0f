"""status index reservations (provisioning: reserve, release, retire)

Revision ID: 0002_status_reservations
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa


revision = '0002_status_reservations'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('status_indices',
    sa.Column('agency_id', sa.String(length=32), nullable=False),
    sa.Column('idx', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('kid', sa.String(length=16), nullable=True),
    sa.Column('serial', sa.String(length=16), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], ),
    sa.PrimaryKeyConstraint('agency_id', 'idx')
    )
    with op.batch_alter_table('status_indices', schema=None) as batch_op:
        batch_op.create_index('ix_status_indices_state', ['agency_id', 'state'], unique=False)


def downgrade():
    with op.batch_alter_table('status_indices', schema=None) as batch_op:
        batch_op.drop_index('ix_status_indices_state')

    op.drop_table('status_indices')
