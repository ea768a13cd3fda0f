"""bureau staff: a console user has a role, "agency" (every user so far, with their agency)
or "bureau" (no agency: the bureau console)

Revision ID: 0015_bureau_staff
Revises: 0014_credit_grades
"""
import sqlalchemy as sa
from alembic import op


revision = '0015_bureau_staff'
down_revision = '0014_credit_grades'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('role', sa.String(length=16), nullable=False,
                                      server_default='agency'))
        batch_op.alter_column('agency_id', existing_type=sa.String(length=32), nullable=True)


def downgrade():
    # bureau users have no agency: they cannot exist before this migration
    op.execute("DELETE FROM staff_sessions WHERE user_id IN "
               "(SELECT id FROM staff_users WHERE role = 'bureau')")
    op.execute("DELETE FROM staff_users WHERE role = 'bureau'")
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.alter_column('agency_id', existing_type=sa.String(length=32), nullable=False)
        batch_op.drop_column('role')
