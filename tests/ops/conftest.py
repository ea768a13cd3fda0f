"""Fixtures for the operations tests: the verifier under gunicorn with several workers, a
Redis server (Debian's redis-server, started here like PostgreSQL). When Redis cannot be
started the tests that need it are skipped with the reason, except under CI=true, where that is
a failure."""
import os

import pytest

from testkit.gunicorn import Served, world_config
from testkit.redis import RedisServer
from tests.verifier.conftest import (  # noqa: F401
    db_kind, db_url, new_database, pg_cluster, sqlite_template, world)
from testkit.verifier import Env, make_app


def unavailable(message):
    if os.environ.get("CI") == "true":
        pytest.fail(message + " (CI=true: this is a failure)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def redis_server():
    server = RedisServer()
    try:
        server.start()
    except Exception as err:          # noqa: BLE001
        server.stop()
        unavailable(f"Redis could not be started locally: {err}")
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server):
    """A Redis database emptied for this test (limits counted by an earlier test would still
    be in their window)."""
    import redis
    url = redis_server.url(1)
    with redis.Redis.from_url(url) as client:
        client.flushdb()
    return url


@pytest.fixture
def prepared(db_url, world):  # noqa: F811
    """The database with the sample world (trust list, agencies, keys, terminals, badges,
    status lists), set up by the test process; the served verifier then reads it."""
    app = make_app(db_url, world)
    e = Env(app, world)
    e.x.db.engine.dispose()
    return e


@pytest.fixture
def serve(prepared, db_url, world, tmp_path):  # noqa: F811
    """serve(workers=2, **XINKA_variables) -> a started Served; all stopped at the end."""
    started = []
    base = world_config(world, tmp_path / "keys")

    def start(workers=2, **variables):
        env = dict(base, XINKA_DATABASE_URL=db_url)
        env.update({f"XINKA_{k}": str(v) for k, v in variables.items()})
        s = Served(env, tmp_path / f"served-{len(started)}", workers=workers)
        started.append(s)
        return s.start()
    yield start
    for s in started:
        s.stop()
