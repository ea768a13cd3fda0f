"""service agreements (合同) that visits match to; reviews and complaints bound to a verified
visit (a review has a consent tap or a visit)

Revision ID: 0011_agreements
Revises: 0010_session_csrf
"""
import sqlalchemy as sa
from alembic import op


revision = '0011_agreements'
down_revision = '0010_session_csrf'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'agreements',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('agency_id', sa.String(length=32), nullable=False),
        sa.Column('worker_ref', sa.String(length=64), nullable=False),
        sa.Column('household_id', sa.Integer(), nullable=True),
        sa.Column('reference', sa.String(length=64), nullable=True),
        sa.Column('service_type', sa.String(length=32), nullable=False),
        sa.Column('start_at', sa.BigInteger(), nullable=False),
        sa.Column('end_at', sa.BigInteger(), nullable=False),
        sa.Column('term_months', sa.Integer(), nullable=False),
        sa.Column('minutes_per_week', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.Column('created_by', sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(['household_id'], ['households.id']),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_agreements_worker', 'agreements', ['agency_id', 'worker_ref'])
    with op.batch_alter_table('visits') as t:
        t.add_column(sa.Column('agreement_id', sa.Integer(), nullable=True))
        t.create_foreign_key('fk_visits_agreement', 'agreements', ['agreement_id'], ['id'])
        t.create_index('ix_visits_agreement_id', ['agreement_id'])
    with op.batch_alter_table('reviews') as t:
        t.alter_column('view_id', existing_type=sa.Integer(), nullable=True)
        t.add_column(sa.Column('visit_id', sa.Integer(), nullable=True))
        t.create_foreign_key('fk_reviews_visit', 'visits', ['visit_id'], ['id'])
        t.create_unique_constraint('uq_reviews_visit_id', ['visit_id'])


def downgrade():
    op.execute(sa.text("DELETE FROM reviews WHERE view_id IS NULL"))
    with op.batch_alter_table('reviews') as t:
        t.drop_constraint('uq_reviews_visit_id', type_='unique')
        t.drop_constraint('fk_reviews_visit', type_='foreignkey')
        t.drop_column('visit_id')
        t.alter_column('view_id', existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table('visits') as t:
        t.drop_index('ix_visits_agreement_id')
        t.drop_constraint('fk_visits_agreement', type_='foreignkey')
        t.drop_column('agreement_id')
    op.drop_index('ix_agreements_worker', table_name='agreements')
    op.drop_table('agreements')
