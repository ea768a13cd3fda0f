"""the bureau console's stored figures: the city's counts, recounted by `city-refresh` (a
timer) and read by the city page, so that it answers in well under a second at a million
workers (docs/performance.md "The bureau console")

Revision ID: 0019_city_figures
Revises: 0018_checkins_synced
"""
import sqlalchemy as sa
from alembic import op


revision = '0019_city_figures'
down_revision = '0018_checkins_synced'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'city_figures',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('as_of', sa.BigInteger(), nullable=False),
        sa.Column('seconds', sa.Float(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id'))
    with op.batch_alter_table('city_figures', schema=None) as batch_op:
        batch_op.create_index('ix_city_figures_as_of', ['as_of'], unique=False)


def downgrade():
    with op.batch_alter_table('city_figures', schema=None) as batch_op:
        batch_op.drop_index('ix_city_figures_as_of')
    op.drop_table('city_figures')
