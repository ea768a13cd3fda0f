"""an index for the missing-only attendance query: an agency's workers in one state, in id
order (keyset pagination of GET …/attendance/missing)

Revision ID: 0004_missing_index
Revises: 0003_console
"""
from alembic import op


revision = '0004_missing_index'
down_revision = '0003_console'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('workers', schema=None) as batch_op:
        batch_op.create_index('ix_workers_active', ['agency_id', 'state', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('workers', schema=None) as batch_op:
        batch_op.drop_index('ix_workers_active')
