"""hardware/sim/ports.py: with XINKA_PORTS set, ports come from that range only and never one
that something is bound to; the test runner's workers get ranges that do not overlap and stay
below the kernel's ephemeral ports."""
import socket
import subprocess
import sys

import pytest

from hardware.sim import ports


def test_ports_come_from_the_range_and_skip_a_bound_one(monkeypatch):
    monkeypatch.setenv(ports.ENV, "21000-21003")
    held = []
    for _ in range(4):
        p = ports.free_port()
        assert 21000 <= p <= 21003
        s = socket.socket()
        s.bind(("127.0.0.1", p))
        held.append(s)
    assert len({s.getsockname()[1] for s in held}) == 4
    try:
        with pytest.raises(OSError, match="no free port"):
            ports.free_port()                    # all four are bound now
    finally:
        for s in held:
            s.close()
    u = ports.free_udp_port()
    assert 21000 <= u <= 21003


def test_the_workers_ranges_are_disjoint_and_below_the_ephemeral_ports():
    code = "import os, tests.conftest; print(os.environ['XINKA_PORTS'])"
    spans = []
    for i in range(2):
        env = {"PYTEST_XDIST_WORKER": f"gw{i}", "PYTEST_XDIST_WORKER_COUNT": "2",
               "PATH": "/usr/bin:/bin"}
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, check=True, cwd=str(ports.__file__).rsplit("/", 3)[0])
        lo, hi = map(int, out.stdout.strip().split("-"))
        spans.append(range(lo, hi + 1))
    assert not set(spans[0]) & set(spans[1])
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        ephemeral_lo = int(f.read().split()[0])
    assert max(spans[1]) < ephemeral_lo and min(spans[0]) >= 1024
