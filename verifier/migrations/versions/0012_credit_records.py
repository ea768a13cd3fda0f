"""credit records with provenance replace the profile's certificates text and its two
dates: each certificate becomes a self-declared skill certificate (as typed, flagged
"migrated"), each health-check and insurance date a record verified by the agency before
this migration; the credit grade stays on the profile

Revision ID: 0012_credit_records
Revises: 0011_agreements
"""
import json

import sqlalchemy as sa
from alembic import op


revision = '0012_credit_records'
down_revision = '0011_agreements'
branch_labels = None
depends_on = None

MIGRATED_BY = "agency (before migration 0012)"


def upgrade():
    records = op.create_table(
        'credit_records',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('agency_id', sa.String(length=32), nullable=False),
        sa.Column('worker_ref', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('data', sa.Text(), nullable=False),
        sa.Column('source', sa.String(length=200), nullable=True),
        sa.Column('issued_on', sa.BigInteger(), nullable=False),
        sa.Column('valid_until', sa.BigInteger(), nullable=True),
        sa.Column('entered_by', sa.String(length=200), nullable=False),
        sa.Column('entered_at', sa.BigInteger(), nullable=False),
        sa.Column('verified_by', sa.String(length=200), nullable=True),
        sa.Column('verified_at', sa.BigInteger(), nullable=True),
        sa.Column('withdrawn_by', sa.String(length=200), nullable=True),
        sa.Column('withdrawn_at', sa.BigInteger(), nullable=True),
        sa.Column('withdraw_reason', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_credit_records_worker', 'credit_records',
                    ['agency_id', 'worker_ref', 'kind'])
    rows = op.get_bind().execute(sa.text(
        "SELECT w.agency_id, w.worker_ref, p.certificates, p.health_check_until, "
        "p.insurance_until, p.updated_at FROM worker_profiles p "
        "JOIN workers w ON w.id = p.worker_id")).fetchall()
    out = []
    for agency, ref, certs, health, insurance, at in rows:
        common = {"agency_id": agency, "worker_ref": ref, "entered_by": MIGRATED_BY,
                  "entered_at": at, "withdrawn_by": None, "withdrawn_at": None,
                  "withdraw_reason": None}
        try:
            items = json.loads(certs or "[]")
        except ValueError:
            items = []
        for c in items if isinstance(items, list) else []:
            if isinstance(c, dict) and c.get("name"):
                data = {"title": str(c["name"]), "level": str(c.get("level", "")),
                        "migrated": True}
                out.append(dict(common, kind="skill_certificate", state="self_declared",
                                data=json.dumps(data, ensure_ascii=False, sort_keys=True),
                                source=None, issued_on=at, valid_until=None,
                                verified_by=None, verified_at=None))
        for kind, until in (("health_certificate", health), ("insurance", insurance)):
            if until is not None:
                out.append(dict(common, kind=kind, state="verified",
                                data=json.dumps({"migrated": True}), source=None,
                                issued_on=min(at, until), valid_until=until,
                                verified_by=MIGRATED_BY, verified_at=at))
    if out:
        op.bulk_insert(records, out)
    with op.batch_alter_table('worker_profiles') as t:
        t.drop_column('certificates')
        t.drop_column('health_check_until')
        t.drop_column('insurance_until')


def downgrade():
    with op.batch_alter_table('worker_profiles') as t:
        t.add_column(sa.Column('certificates', sa.Text(), nullable=False, server_default='[]'))
        t.add_column(sa.Column('health_check_until', sa.BigInteger(), nullable=True))
        t.add_column(sa.Column('insurance_until', sa.BigInteger(), nullable=True))
    bind = op.get_bind()
    for column, kind in (("health_check_until", "health_certificate"),
                         ("insurance_until", "insurance")):
        bind.execute(sa.text(
            f"UPDATE worker_profiles SET {column} = (SELECT MAX(r.valid_until) "
            "FROM credit_records r JOIN workers w ON w.agency_id = r.agency_id "
            "AND w.worker_ref = r.worker_ref WHERE w.id = worker_profiles.worker_id "
            "AND r.kind = :kind AND r.state != 'withdrawn')"), {"kind": kind})
    op.drop_index('ix_credit_records_worker', table_name='credit_records')
    op.drop_table('credit_records')
