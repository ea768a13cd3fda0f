"""A real HTTP verifier process for the concurrency and crash tests:
`python -m testkit.verifier_server DB_URL PORT N_BADGES [STATUS_CHECK_MS]` (the world is
deterministic, so the test process and this one agree on every key)."""
import sys

from werkzeug.serving import run_simple

from host.wire import sample
from testkit.verifier import make_app


def wsgi(url, n, check_ms=500):
    """For gunicorn: `gunicorn 'testkit.verifier_server:wsgi("sqlite:///x.sqlite", 64)'`; each
    worker builds its own app (and its own trust snapshot)."""
    return make_app(url, sample.World(n_agencies=2, n_badges=n), STATUS_CHECK_MS=check_ms)


def main(argv):
    url, port, n = argv[0], int(argv[1]), int(argv[2])
    extra = {"STATUS_CHECK_MS": int(argv[3])} if len(argv) > 3 else {}
    app = make_app(url, sample.World(n_agencies=2, n_badges=n), **extra)
    run_simple("127.0.0.1", port, app, threaded=True)


if __name__ == "__main__":
    main(sys.argv[1:])
