"""Alembic: one head, upgrades on empty SQLite and PostgreSQL, models match migrations."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from verifier.db import make_engine
from verifier.migrate import alembic_config, downgrade, upgrade
from verifier.models import Base


def test_single_head():
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert len(heads) == 1, heads


def test_upgrade_on_empty_database_and_models_match(db_url):
    engine = make_engine(db_url)
    try:
        assert "badges" in inspect(engine).get_table_names()
        with engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
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
