"""the person registry (one file per person across agencies, keyed by a keyed hash of the ID
number), the ban list, workers' sealed ID numbers and their person, bureau API keys

Revision ID: 0009_persons
Revises: 0008_visits
"""
import sqlalchemy as sa
from alembic import op


revision = '0009_persons'
down_revision = '0008_visits'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'persons',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('person_hash', sa.String(length=64), nullable=False),
        sa.Column('hash_key_id', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('person_hash'))
    op.create_table(
        'bans',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('category', sa.String(length=32), nullable=False),
        sa.Column('legal_basis', sa.Text(), nullable=False),
        sa.Column('starts_at', sa.BigInteger(), nullable=False),
        sa.Column('ends_at', sa.BigInteger(), nullable=False),
        sa.Column('decided_by', sa.String(length=200), nullable=False),
        sa.Column('appeal_route', sa.Text(), nullable=False),
        sa.Column('lifted_at', sa.BigInteger(), nullable=True),
        sa.Column('lifted_reason', sa.Text(), nullable=True),
        sa.Column('start_recorded', sa.Boolean(), nullable=False),
        sa.Column('end_recorded', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['person_id'], ['persons.id']),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_bans_person_id', 'bans', ['person_id'])
    op.create_index('ix_bans_pending', 'bans', ['end_recorded', 'starts_at'])
    with op.batch_alter_table('workers') as t:
        t.add_column(sa.Column('id_number_enc', sa.LargeBinary(), nullable=True))
        t.add_column(sa.Column('person_id', sa.Integer(), nullable=True))
        t.create_foreign_key('fk_workers_person_id', 'persons', ['person_id'], ['id'])
        t.create_index('ix_workers_person_id', ['person_id'])
    with op.batch_alter_table('api_keys') as t:
        t.add_column(sa.Column('role', sa.String(length=16), nullable=True))


def downgrade():
    with op.batch_alter_table('api_keys') as t:
        t.drop_column('role')
    with op.batch_alter_table('workers') as t:
        t.drop_index('ix_workers_person_id')
        t.drop_constraint('fk_workers_person_id', type_='foreignkey')
        t.drop_column('person_id')
        t.drop_column('id_number_enc')
    op.drop_index('ix_bans_pending', table_name='bans')
    op.drop_index('ix_bans_person_id', table_name='bans')
    op.drop_table('bans')
    op.drop_table('persons')
