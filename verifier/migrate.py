"""Alembic, run explicitly: `flask --app verifier db-upgrade` or `upgrade(url)`."""
import pathlib

from alembic import command
from alembic.config import Config

HERE = pathlib.Path(__file__).parent


def alembic_config(url):
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE / "migrations"))
    cfg.attributes["database_url"] = url
    return cfg


def upgrade(url, revision="head"):
    command.upgrade(alembic_config(url), revision)


def downgrade(url, revision):
    command.downgrade(alembic_config(url), revision)
