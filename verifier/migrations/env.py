"""Alembic environment: the URL comes from the caller (verifier.migrate) or, when alembic is
run by hand, from the app's configuration (XINKA_DATABASE_URL or the instance default)."""
from alembic import context

from verifier.db import make_engine
from verifier.models import Base
from verifier.services import partitions

config = context.config


def _url():
    url = config.attributes.get("database_url")
    if url:
        return url
    from verifier import create_app
    return create_app().config["DATABASE_URL"]


def run_migrations_online():
    engine = make_engine(_url())
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata,
                          render_as_batch=connection.dialect.name == "sqlite",
                          # attendance's monthly partitions (0022) are not tables to drop
                          include_name=partitions.not_a_partition(connection))
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
