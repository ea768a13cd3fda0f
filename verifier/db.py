"""The database extension: one SQLAlchemy engine per app, sessions for the services.

SQLite runs in WAL mode with a busy timeout and takes the write lock at BEGIN (`BEGIN
IMMEDIATE`), so concurrent writers queue instead of failing on lock upgrade. PostgreSQL is
used as it is, at READ COMMITTED, with unique constraints doing the arbitration.
"""
from contextlib import contextmanager

from sqlalchemy import create_engine, event
from sqlalchemy.orm import sessionmaker


def make_engine(url, busy_timeout_ms=10000, **kw):
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": busy_timeout_ms / 1000,
                                                  "check_same_thread": False}, **kw)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, _record):
            dbapi_conn.isolation_level = None        # we emit BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return create_engine(url, pool_pre_ping=True, **kw)


class Database:
    """Flask extension: `db.init_app(app)`; `db.session()` is a context manager that commits
    on success and rolls back on error."""

    def __init__(self, app=None):
        self.engine = None
        self.Session = None
        if app is not None:
            self.init_app(app)

    def init_app(self, app):
        self.engine = make_engine(app.config["DATABASE_URL"],
                                  app.config["SQLITE_BUSY_TIMEOUT_MS"])
        self.Session = sessionmaker(self.engine, expire_on_commit=False)
        app.extensions["xinka_db"] = self

    @contextmanager
    def session(self):
        with self.Session() as s:
            with s.begin():
                yield s

    @property
    def dialect(self):
        return self.engine.dialect.name
