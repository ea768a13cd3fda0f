"""the consent scope the agency console chose for a worker's next badge (workers.issue_scope:
the six scope bits, NULL for the technician's profile default); `provision issue` reads it and
writes it to the badge over the serial protocol

Revision ID: 0021_issue_scope
Revises: 0020_worker_links
"""
import sqlalchemy as sa
from alembic import op


revision = '0021_issue_scope'
down_revision = '0020_worker_links'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('workers', sa.Column('issue_scope', sa.Integer(), nullable=True))


def downgrade():
    # a plain ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35): a batch copy of the table would drop
    # `workers`, which the credit grades' foreign keys refuse
    op.drop_column('workers', 'issue_scope')
