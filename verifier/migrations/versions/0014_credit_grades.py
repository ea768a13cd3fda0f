"""grades computed by the credit rules, kept as history, and the worker's appeals; the grade
agency staff typed (worker_profiles.credit_grade, free text) is gone: each typed grade is kept
as a history row with rule version "staff" (as typed, computed_at = the profile's last change)
and the table worker_profiles is dropped (docs/credit-rules.md "From the typed grade")

Revision ID: 0014_credit_grades
Revises: 0013_complaints
"""
import sqlalchemy as sa
from alembic import op


revision = '0014_credit_grades'
down_revision = '0013_complaints'
branch_labels = None
depends_on = None


def upgrade():
    grades = op.create_table(
        'credit_grades',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('worker_id', sa.Integer(), nullable=False),
        sa.Column('computed_at', sa.BigInteger(), nullable=False),
        sa.Column('rule_version', sa.String(length=16), nullable=False),
        sa.Column('grade', sa.String(length=8), nullable=False),
        sa.Column('score', sa.Float(), nullable=True),
        sa.Column('colour', sa.String(length=8), nullable=True),
        sa.Column('reasons', sa.Text(), nullable=False),
        sa.Column('warnings', sa.Text(), nullable=False),
        sa.Column('trigger', sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(['worker_id'], ['workers.id']),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_credit_grades_worker', 'credit_grades', ['worker_id', 'id'])
    op.create_table(
        'appeals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('agency_id', sa.String(length=32), nullable=False),
        sa.Column('worker_ref', sa.String(length=64), nullable=False),
        sa.Column('target', sa.String(length=16), nullable=False),
        sa.Column('target_id', sa.Integer(), nullable=False),
        sa.Column('grounds', sa.Text(), nullable=False),
        sa.Column('filed_at', sa.BigInteger(), nullable=False),
        sa.Column('filed_by', sa.String(length=200), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('set_aside', sa.Text(), nullable=False),
        sa.Column('decided_by', sa.String(length=200), nullable=True),
        sa.Column('decided_at', sa.BigInteger(), nullable=True),
        sa.Column('decision_note', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_appeals_worker', 'appeals', ['agency_id', 'worker_ref'])
    op.create_index('ix_appeals_state', 'appeals', ['state', 'filed_at'])
    typed = op.get_bind().execute(sa.text(
        "SELECT worker_id, credit_grade, updated_at FROM worker_profiles "
        "WHERE credit_grade IS NOT NULL ORDER BY worker_id")).fetchall()
    rows = [{"worker_id": wid, "computed_at": at, "rule_version": "staff",
             "grade": grade.strip()[:8], "score": None, "colour": None, "reasons": "[]",
             "warnings": "[]", "trigger": "migration"}
            for wid, grade, at in typed if grade and grade.strip()]
    if rows:
        op.bulk_insert(grades, rows)
    op.drop_table('worker_profiles')


def downgrade():
    profiles = op.create_table(
        'worker_profiles',
        sa.Column('worker_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('credit_grade', sa.String(length=8), nullable=True),
        sa.Column('updated_at', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['worker_id'], ['workers.id']),
        sa.PrimaryKeyConstraint('worker_id'))
    # each worker's latest grade, computed or typed, back into the free-text field
    latest = op.get_bind().execute(sa.text(
        "SELECT g.worker_id, g.grade, g.computed_at FROM credit_grades g WHERE g.id = "
        "(SELECT MAX(h.id) FROM credit_grades h WHERE h.worker_id = g.worker_id) "
        "ORDER BY g.worker_id")).fetchall()
    if latest:
        op.bulk_insert(profiles, [{"worker_id": w, "credit_grade": grade, "updated_at": at}
                                  for w, grade, at in latest])
    op.drop_index('ix_appeals_state', table_name='appeals')
    op.drop_index('ix_appeals_worker', table_name='appeals')
    op.drop_table('appeals')
    op.drop_index('ix_credit_grades_worker', table_name='credit_grades')
    op.drop_table('credit_grades')
