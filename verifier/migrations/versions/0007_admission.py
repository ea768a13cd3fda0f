"""admission: agencies' applications to the bureau (verifier/models/admission.py)

Revision ID: 0007_admission
Revises: 0006_list_version
"""
import sqlalchemy as sa
from alembic import op


revision = '0007_admission'
down_revision = '0006_list_version'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('agency_applications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=False),
    sa.Column('address', sa.String(length=400), nullable=False),
    sa.Column('legal_representative', sa.String(length=100), nullable=False),
    sa.Column('licence_ref', sa.String(length=200), nullable=False),
    sa.Column('pledge', sa.Boolean(), nullable=False),
    sa.Column('public_keys', sa.Text(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=256), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('agency_id', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.BigInteger(), nullable=False),
    sa.Column('decided_by', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_index('ix_agency_applications_uscc', 'agency_applications', ['uscc'])
    op.create_index(op.f('ix_agency_applications_state'), 'agency_applications', ['state'])


def downgrade():
    op.drop_index(op.f('ix_agency_applications_state'), table_name='agency_applications')
    op.drop_index('ix_agency_applications_uscc', table_name='agency_applications')
    op.drop_table('agency_applications')
