"""Free loopback ports for the simulator, the demo and the tests: the one place that picks them.

A port picked free and then bound by another process (a MicroPython badge, gunicorn,
PostgreSQL, Redis, nginx) is only free until someone else takes it. In one process that is
harmless; with tests running in parallel processes (pytest-xdist), two of them could pick the
same port in that gap. So when `XINKA_PORTS` names a range (`20000-25999`), ports come from
that range only, one after another from an offset of this process's own, each checked by
binding it: the test runner gives each of its worker processes a range of its own, below the
kernel's ephemeral ports (which `bind(("127.0.0.1", 0))` and outgoing connections use), so no
two workers can pick the same port. Without `XINKA_PORTS`, the kernel picks one.
"""
import itertools
import os
import socket

ENV = "XINKA_PORTS"
_counter = itertools.count()


def _range():
    text = os.environ.get(ENV, "")
    if not text:
        return None
    lo, _, hi = text.partition("-")
    return int(lo), int(hi)


def _bindable(port, kind):
    with socket.socket(socket.AF_INET, kind) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(kind=socket.SOCK_STREAM):
    """A loopback port that nothing is bound to now (TCP by default, SOCK_DGRAM for UDP)."""
    span = _range()
    if span is None:
        with socket.socket(socket.AF_INET, kind) as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]
    lo, hi = span
    size = hi - lo + 1
    start = (os.getpid() * 7919) % size         # processes of one worker start apart
    for _ in range(size):
        port = lo + (start + next(_counter)) % size
        if _bindable(port, kind):
            return port
    raise OSError(f"no free port in {ENV}={lo}-{hi}")


def free_udp_port():
    return free_port(socket.SOCK_DGRAM)
