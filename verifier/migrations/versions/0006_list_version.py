"""list_version: one row whose counter every trust/status list import bumps in its own
transaction, so a process finds out whether its snapshot is current with one indexed read

Revision ID: 0006_list_version
Revises: 0005_tap_event_time
"""
import sqlalchemy as sa
from alembic import op


revision = '0006_list_version'
down_revision = '0005_tap_event_time'
branch_labels = None
depends_on = None


def upgrade():
    t = op.create_table('list_version',
                        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
                        sa.Column('version', sa.BigInteger(), nullable=False),
                        sa.PrimaryKeyConstraint('id'))
    op.bulk_insert(t, [{'id': 1, 'version': 0}])


def downgrade():
    op.drop_table('list_version')
