"""console sessions keep no CSRF token: Flask-WTF keeps it in the signed session cookie; the
sessions of before (their cookie is no longer read) are ended

Revision ID: 0010_session_csrf
Revises: 0009_persons
"""
import sqlalchemy as sa
from alembic import op


revision = '0010_session_csrf'
down_revision = '0009_persons'
branch_labels = None
depends_on = None


def upgrade():
    op.execute(sa.text("DELETE FROM staff_sessions"))
    with op.batch_alter_table('staff_sessions') as t:
        t.drop_column('csrf')


def downgrade():
    op.execute(sa.text("DELETE FROM staff_sessions"))
    with op.batch_alter_table('staff_sessions') as t:
        t.add_column(sa.Column('csrf', sa.String(length=64), nullable=False,
                               server_default=''))
