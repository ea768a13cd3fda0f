"""Alembic: one head, upgrades on empty SQLite and PostgreSQL, models match migrations."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from verifier.db import make_engine
from verifier.migrate import alembic_config, downgrade, upgrade
from verifier.models import Base
from verifier.services import partitions


def test_single_head():
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert len(heads) == 1, heads


def test_upgrade_on_empty_database_and_models_match(db_url):
    """The one exception: on PostgreSQL the monthly partitions of `attendance` (migration
    0022) are tables of the database the models do not list (they map the parent table);
    they are left out of the comparison by name, and only those that are attached to
    `attendance` as partitions."""
    engine = make_engine(db_url)
    try:
        assert "badges" in inspect(engine).get_table_names()
        with engine.connect() as conn:
            parts = partitions.attached(conn)
            assert bool(parts) == (engine.dialect.name == "postgresql")
            ctx = MigrationContext.configure(
                conn, opts={"include_name": partitions.not_a_partition(conn)})
            diffs = compare_metadata(ctx, Base.metadata)
        assert diffs == []
    finally:
        engine.dispose()


def test_downgrade_and_upgrade_again(db_url):
    downgrade(db_url, "base")
    engine = make_engine(db_url)
    assert "badges" not in inspect(engine).get_table_names()
    engine.dispose()
    upgrade(db_url)
    engine = make_engine(db_url)
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_cli_db_upgrade_on_a_fresh_sqlite_file(tmp_path):
    from verifier import create_app
    url = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    app = create_app({"DATABASE_URL": url})
    result = app.test_cli_runner().invoke(args=["db-upgrade"])
    assert result.exit_code == 0, result.output
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10000
    engine.dispose()


def test_0012_maps_profiles_to_credit_records_and_back(db_url):
    """The profile's certificates text and its two dates become records (documented in the
    migration and docs/credit-rules.md); downgrading puts the dates back."""
    import json

    from sqlalchemy import text
    downgrade(db_url, "0011_agreements")
    engine = make_engine(db_url)
    day = 86400
    with engine.begin() as c:
        c.execute(text("INSERT INTO agencies (id, name, created_at) VALUES ('A1', 'a', 0)"))
        for wid, ref in ((1, "W-1"), (2, "W-2")):
            c.execute(text("INSERT INTO workers (id, agency_id, worker_ref, state, created_at) "
                           "VALUES (:i, 'A1', :r, 'active', 0)"), {"i": wid, "r": ref})
        c.execute(text(
            "INSERT INTO worker_profiles (worker_id, certificates, health_check_until, "
            "insurance_until, credit_grade, updated_at) VALUES "
            "(1, :certs, :h, NULL, 'A', :at), (2, 'not json', NULL, :i, NULL, :at)"),
            {"certs": json.dumps([{"name": "育婴师", "level": "高级"}, {"level": "x"}]),
             "h": 200 * day, "i": 300 * day, "at": 100 * day})
    engine.dispose()
    upgrade(db_url, "0013_complaints")
    engine = make_engine(db_url)
    with engine.connect() as c:
        rows = c.execute(text("SELECT worker_ref, kind, state, data, issued_on, valid_until, "
                              "verified_by FROM credit_records ORDER BY worker_ref, kind")).all()
        columns = {col["name"] for col in inspect(c).get_columns("worker_profiles")}
        grade = c.execute(text("SELECT credit_grade FROM worker_profiles WHERE worker_id = 1"))
        assert grade.scalar() == "A"
    engine.dispose()
    assert columns == {"worker_id", "credit_grade", "updated_at"}
    got = [(r[0], r[1], r[2], json.loads(r[3]), r[4], r[5], r[6] is not None) for r in rows]
    assert got == [
        ("W-1", "health_certificate", "verified", {"migrated": True}, 100 * day, 200 * day,
         True),
        ("W-1", "skill_certificate", "self_declared",
         {"title": "育婴师", "level": "高级", "migrated": True}, 100 * day, None, False),
        ("W-2", "insurance", "verified", {"migrated": True}, 100 * day, 300 * day, True)]
    downgrade(db_url, "0011_agreements")
    engine = make_engine(db_url)
    with engine.connect() as c:
        back = c.execute(text("SELECT worker_id, health_check_until, insurance_until FROM "
                              "worker_profiles ORDER BY worker_id")).all()
    engine.dispose()
    assert [tuple(r) for r in back] == [(1, 200 * day, None), (2, None, 300 * day)]
    upgrade(db_url)


def test_0013_gives_earlier_complaints_a_process(db_url):
    from sqlalchemy import text
    downgrade(db_url, "0012_credit_records")
    engine = make_engine(db_url)
    with engine.begin() as c:
        for rid, cat, resolved in ((1, "late", 500), (2, "safety", None), (3, None, None)):
            c.execute(text(
                "INSERT INTO reviews (id, agency_id, worker_ref, stars, category, created_at, "
                "resolved_at, resolution) VALUES (:i, 'A1', 'W-1', 2, :c, 100, :r, :n)"),
                {"i": rid, "c": cat, "r": resolved, "n": "sorted" if resolved else None})
    engine.dispose()
    upgrade(db_url)
    engine = make_engine(db_url)
    with engine.connect() as c:
        rows = c.execute(text("SELECT review_id, severity, state, outcome, outcome_note, "
                              "deadline_at, deadline_provisional FROM complaints "
                              "ORDER BY review_id")).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [(1, "minor", "closed", "settled", "sorted",
                                         100 + 9 * 86400, True),
                                        (2, "minor", "open", None, None, 100 + 9 * 86400, True)]


def test_0014_keeps_typed_grades_as_history_and_back(db_url):
    """The free-text grade is gone: each typed grade becomes a "staff" history row (as typed,
    "AA" too), the profiles table is dropped; downgrading puts each worker's latest grade
    back."""
    from sqlalchemy import text
    downgrade(db_url, "0013_complaints")
    engine = make_engine(db_url)
    with engine.begin() as c:
        c.execute(text("INSERT INTO agencies (id, name, created_at) VALUES ('A1', 'a', 0)"))
        for wid in (1, 2, 3):
            c.execute(text("INSERT INTO workers (id, agency_id, worker_ref, state, created_at) "
                           "VALUES (:i, 'A1', :r, 'active', 0)"), {"i": wid, "r": f"W-{wid}"})
        c.execute(text("INSERT INTO worker_profiles (worker_id, credit_grade, updated_at) "
                       "VALUES (1, 'A', 100), (2, ' AA ', 200), (3, NULL, 300)"))
    engine.dispose()
    upgrade(db_url)
    engine = make_engine(db_url)
    with engine.begin() as c:
        assert "worker_profiles" not in inspect(c).get_table_names()
        rows = c.execute(text("SELECT worker_id, rule_version, grade, computed_at, trigger "
                              "FROM credit_grades ORDER BY worker_id")).all()
        c.execute(text("INSERT INTO credit_grades (worker_id, computed_at, rule_version, "
                       "grade, score, colour, reasons, warnings, trigger) VALUES "
                       "(1, 400, '1', 'B', 72, 'green', '[]', '[]', 'recheck')"))
    engine.dispose()
    assert [tuple(r) for r in rows] == [(1, "staff", "A", 100, "migration"),
                                        (2, "staff", "AA", 200, "migration")]
    downgrade(db_url, "0013_complaints")
    engine = make_engine(db_url)
    with engine.connect() as c:
        back = c.execute(text("SELECT worker_id, credit_grade, updated_at FROM "
                              "worker_profiles ORDER BY worker_id")).all()
    engine.dispose()
    assert [tuple(r) for r in back] == [(1, "B", 400), (2, "AA", 200)]
    upgrade(db_url)


def test_0015_gives_every_console_user_a_role_and_back(db_url):
    """Users so far are agency staff; bureau users (no agency) cannot exist before 0015, so a
    downgrade removes them and their sessions, and keeps every agency user."""
    from sqlalchemy import text
    downgrade(db_url, "0014_credit_grades")
    engine = make_engine(db_url)
    with engine.begin() as c:
        c.execute(text("INSERT INTO agencies (id, name, created_at) VALUES ('A1', 'a', 0)"))
        c.execute(text("INSERT INTO staff_users (id, agency_id, username, display_name, "
                       "password_hash, active, failed_logins, created_at) VALUES "
                       "(1, 'A1', 'anna', 'Anna', 'x', true, 0, 0)"))
    engine.dispose()
    upgrade(db_url)
    engine = make_engine(db_url)
    with engine.begin() as c:
        assert c.execute(text("SELECT role FROM staff_users")).scalar_one() == "agency"
        c.execute(text("INSERT INTO staff_users (id, agency_id, role, username, display_name, "
                       "password_hash, active, failed_logins, created_at) VALUES "
                       "(2, NULL, 'bureau', 'zhou', 'Zhou', 'x', true, 0, 0)"))
    engine.dispose()
    downgrade(db_url, "0014_credit_grades")
    engine = make_engine(db_url)
    with engine.connect() as c:
        assert [tuple(r) for r in c.execute(text(
            "SELECT id, agency_id FROM staff_users ORDER BY id"))] == [(1, "A1")]
        assert "role" not in {col["name"] for col in inspect(c).get_columns("staff_users")}
    engine.dispose()
    upgrade(db_url)


def test_0017_adds_the_disclosure_log_and_back(db_url):
    """The log and its counts are new tables: down to 0016 they go (with their rows), up
    again they are there and empty, and take rows with a household's pseudonym."""
    from sqlalchemy import text
    engine = make_engine(db_url)
    with engine.begin() as c:
        c.execute(text("INSERT INTO disclosures (agency_id, worker_ref, at, kind, role) "
                       "VALUES ('A1', 'W-1', 100, 'staff', 'staff:anna')"))
        c.execute(text("INSERT INTO disclosure_counts (agency_id, month, kind, count) "
                       "VALUES ('A1', '2027-01', 'status', 3)"))
    engine.dispose()
    downgrade(db_url, "0016_ban_proposals")
    engine = make_engine(db_url)
    with engine.connect() as c:
        tables = set(inspect(c).get_table_names())
    engine.dispose()
    assert "disclosures" not in tables and "disclosure_counts" not in tables
    assert "ban_proposals" in tables
    upgrade(db_url)
    engine = make_engine(db_url)
    with engine.begin() as c:
        assert c.execute(text("SELECT count(*) FROM disclosures")).scalar() == 0
        assert {ix["name"] for ix in inspect(c).get_indexes("disclosures")} >= {
            "ix_disclosures_worker", "ix_disclosures_at", "ix_disclosures_token_hash"}
        c.execute(text("INSERT INTO households (id, pseudonym, key_hash, recovery_hash, "
                       "created_at, last_seen_at) VALUES (1, 'H-1', 'k', 'r', 0, 0)"))
        c.execute(text("INSERT INTO disclosures (agency_id, worker_ref, at, kind, role, "
                       "scope, household_id) VALUES ('A1', 'W-1', 100, 'consent', "
                       "'employer', 'health', 1)"))
        c.execute(text("INSERT INTO disclosure_counts (agency_id, month, kind, count) "
                       "VALUES ('A1', '2027-01', 'status', 3)"))
    engine.dispose()


def test_0018_indexes_the_last_sync_and_back(db_url):
    """An index only: down to 0017 it goes and the check-ins stay, up again it is back."""
    from sqlalchemy import text
    engine = make_engine(db_url)
    with engine.begin() as c:
        assert "ix_checkins_synced" in {ix["name"] for ix in inspect(c).get_indexes("checkins")}
        c.execute(text("INSERT INTO checkins (token_hash, nonce, badge_kid, ctr_key, agency_id, "
                       "worker_ref, terminal_id, seen_at, received_at, period, token) VALUES "
                       "('h', 'n', 'k', 1, 'A1', 'W-1', 'T-1', 100, 160, '2027-01', :t)"),
                  {"t": b"\x00"})
    engine.dispose()
    downgrade(db_url, "0017_disclosures")
    engine = make_engine(db_url)
    with engine.connect() as c:
        assert "ix_checkins_synced" not in {ix["name"]
                                            for ix in inspect(c).get_indexes("checkins")}
        assert c.execute(text("SELECT received_at FROM checkins")).scalar_one() == 160
    engine.dispose()
    upgrade(db_url)
    engine = make_engine(db_url)
    with engine.connect() as c:
        assert "ix_checkins_synced" in {ix["name"] for ix in inspect(c).get_indexes("checkins")}
    engine.dispose()


def test_0022_partitions_attendance_counts_it_and_back(db_url):
    """Up: every row kept with its id, on PostgreSQL each in its month's partition (a period
    that is no month in the default one), the ids going on from the same sequence; the
    rollup counted from the rows (a cancelled worker's row not an active one's) and kept by
    the triggers from then on. Down: one plain table again with the same rows, the counters
    and their triggers gone (an insert still works)."""
    from sqlalchemy import text
    downgrade(db_url, "0021_issue_scope")
    engine = make_engine(db_url)
    pg = engine.dialect.name == "postgresql"
    rows = [(1, "A1", "2026-11", "W-1", 3), (2, "A1", "2026-12", "W-1", 2),
            (3, "A1", "2026-12", "W-2", 1), (4, "A1", "2026-12", "W-3", 5),
            (5, "A2", "1999-07", "W-9", 1), (6, "A2", "bad", "W-9", 1)]
    with engine.begin() as c:
        for a in ("A1", "A2"):
            c.execute(text("INSERT INTO agencies (id, name, created_at) VALUES (:a, 'a', 0)"),
                      {"a": a})
        for ref, state in (("W-1", "active"), ("W-2", "cancelled"), ("W-3", "active")):
            c.execute(text("INSERT INTO workers (agency_id, worker_ref, state, created_at) "
                           "VALUES ('A1', :r, :s, 0)"), {"r": ref, "s": state})
        for i, a, p, ref, n in rows:
            c.execute(text("INSERT INTO attendance (id, agency_id, period, worker_ref, "
                           "first_at, last_at, first_terminal, last_terminal, count) VALUES "
                           "(:i, :a, :p, :r, 10, 20, 'T', 'T', :n)"),
                      {"i": i, "a": a, "p": p, "r": ref, "n": n})
        if pg:
            c.execute(text("SELECT setval('attendance_id_seq', 6)"))
    engine.dispose()
    upgrade(db_url, "0022_attendance_partitions")
    engine = make_engine(db_url)
    got = "SELECT id, agency_id, period, worker_ref, count FROM attendance ORDER BY id"
    with engine.begin() as c:
        assert [tuple(r) for r in c.execute(text(got))] == rows
        if pg:
            assert dict(c.execute(text("SELECT id, tableoid::regclass::text FROM attendance"))
                        .all()) == {1: "attendance_2026_11", 2: "attendance_2026_12",
                                    3: "attendance_2026_12", 4: "attendance_2026_12",
                                    5: "attendance_1999_07", 6: "attendance_default"}
        counted = {tuple(r[:2]): tuple(r[2:]) for r in c.execute(text(
            "SELECT agency_id, period, workers_checked_in, active_checked_in, checkins "
            "FROM attendance_rollup"))}
        assert counted == {("A1", "2026-11"): (1, 1, 3), ("A1", "2026-12"): (3, 2, 8),
                           ("A2", "1999-07"): (1, 0, 1), ("A2", "bad"): (1, 0, 1)}
        assert dict(c.execute(text("SELECT agency_id, active_workers FROM worker_rollup"))
                    .all()) == {"A1": 2}
        c.execute(text("INSERT INTO attendance (agency_id, period, worker_ref, first_at, "
                       "last_at, first_terminal, last_terminal, count) VALUES "
                       "('A1', '2026-11', 'W-3', 30, 30, 'T', 'T', 4)"))
        assert c.execute(text("SELECT id FROM attendance WHERE worker_ref = 'W-3' "
                              "AND period = '2026-11'")).scalar_one() == 7
    with engine.connect() as c:                      # the triggers counted the new row
        assert c.execute(text("SELECT workers_checked_in, active_checked_in, checkins FROM "
                              "attendance_rollup WHERE agency_id = 'A1' AND period = "
                              "'2026-11'")).one() == (2, 2, 7)
    engine.dispose()
    downgrade(db_url, "0021_issue_scope")
    engine = make_engine(db_url)
    with engine.begin() as c:
        assert [tuple(r) for r in c.execute(text(got))] == \
            rows + [(7, "A1", "2026-11", "W-3", 4)]
        tables = set(inspect(c).get_table_names())
        assert not {"attendance_rollup", "worker_rollup", "rollup_deltas"} & tables
        assert not any(t.startswith("attendance_") for t in tables)
        if pg:
            assert c.execute(text("SELECT relkind FROM pg_class WHERE relname = "
                                  "'attendance'")).scalar() == "r"
        c.execute(text("INSERT INTO attendance (agency_id, period, worker_ref, first_at, "
                       "last_at, first_terminal, last_terminal, count) VALUES "
                       "('A1', '2027-01', 'W-1', 30, 30, 'T', 'T', 1)"))
        c.execute(text("UPDATE workers SET state = 'cancelled' WHERE worker_ref = 'W-1'"))
    engine.dispose()
    upgrade(db_url)
