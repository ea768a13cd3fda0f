"""Fixtures for the verifier: every DB-touching test runs on SQLite and on PostgreSQL.

PostgreSQL is a throw-away cluster started once per session (testkit/pg.py). When it
cannot be started, PostgreSQL tests are skipped with the reason, except under CI=true, where
that is a failure."""
import itertools
import os
import shutil

import pytest

from host.wire import sample
from testkit.pg import Cluster
from testkit.verifier import Env, b64, make_app  # noqa: F401  (tests import them from here too)
from verifier.migrate import upgrade

_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_cluster():
    cluster = Cluster()
    try:
        cluster.start()
    except Exception as err:        # noqa: BLE001
        cluster.stop()
        msg = f"PostgreSQL could not be started locally: {err}"
        if os.environ.get("CI") == "true":
            pytest.fail(msg + " (CI=true: this is a failure)")
        pytest.skip(msg)
    cluster.admin("CREATE DATABASE xk_template")
    upgrade(cluster.url("xk_template"))
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite"
    upgrade(f"sqlite:///{path}")
    return path


def new_database(kind, request, tmp_path):
    if kind == "sqlite":
        path = tmp_path / f"xinka-{next(_counter)}.sqlite"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    cluster = request.getfixturevalue("pg_cluster")
    name = f"xk_t{os.getpid()}_{next(_counter)}"
    # FILE_COPY: a file copy of the small template, faster than WAL-logging each page
    cluster.admin(f"CREATE DATABASE {name} TEMPLATE xk_template STRATEGY FILE_COPY")
    return cluster.url(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_kind(request):
    return request.param


@pytest.fixture
def db_url(db_kind, request, tmp_path):
    return new_database(db_kind, request, tmp_path)


@pytest.fixture
def world():
    return sample.World(n_agencies=2, n_badges=8)


@pytest.fixture
def env(db_url, world):
    app = make_app(db_url, world)
    e = Env(app, world)
    yield e
    e.x.db.engine.dispose()


@pytest.fixture
def sqlite_env(tmp_path, request, world):
    app = make_app(new_database("sqlite", request, tmp_path), world)
    e = Env(app, world)
    yield e
    e.x.db.engine.dispose()
