"""A real HTTP verifier process for the concurrency and crash tests:
`python -m testkit.verifier_server DB_URL PORT N_BADGES` (the world is deterministic, so the
test process and this one agree on every key)."""
import sys

from werkzeug.serving import run_simple

from host.wire import sample
from testkit.verifier import make_app


def main(argv):
    url, port, n = argv[0], int(argv[1]), int(argv[2])
    app = make_app(url, sample.World(n_agencies=2, n_badges=n))
    run_simple("127.0.0.1", port, app, threaded=True)


if __name__ == "__main__":
    main(sys.argv[1:])
