"""an index for an agency's last terminal sync (the bureau console's column "last terminal
sync": the latest received_at of the agency's check-ins, one index probe per agency instead of
a scan of every check-in ever received)

Revision ID: 0018_checkins_synced
Revises: 0017_disclosures
"""
from alembic import op


revision = '0018_checkins_synced'
down_revision = '0017_disclosures'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('checkins', schema=None) as batch_op:
        batch_op.create_index('ix_checkins_synced', ['agency_id', 'received_at'], unique=False)


def downgrade():
    with op.batch_alter_table('checkins', schema=None) as batch_op:
        batch_op.drop_index('ix_checkins_synced')
