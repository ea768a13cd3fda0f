"""taps.seen_at: when the tap happened (a check-in's terminal time, a phone tap's arrival), so
that clone evidence compares counter order with time order, whatever order taps arrive in

Revision ID: 0005_tap_event_time
Revises: 0004_missing_index
"""
import sqlalchemy as sa
from alembic import op


revision = '0005_tap_event_time'
down_revision = '0004_missing_index'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('taps', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seen_at', sa.BigInteger(), nullable=True))
    # a check-in's time is its terminal's; every other tap happened when it arrived
    op.execute("UPDATE taps SET seen_at = COALESCE((SELECT c.seen_at FROM checkins c "
               "WHERE c.badge_kid = taps.badge_kid AND c.ctr_key = taps.ctr_key), taps.at)")
    with op.batch_alter_table('taps', schema=None) as batch_op:
        batch_op.alter_column('seen_at', existing_type=sa.BigInteger(), nullable=False)


def downgrade():
    with op.batch_alter_table('taps', schema=None) as batch_op:
        batch_op.drop_column('seen_at')
