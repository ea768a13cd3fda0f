"""`python -m hardware.sim.fleet`: N badges, each its own process, tag model, flash and port."""
import subprocess
import sys


from hardware.sim import fleet as simfleet
from host.wire import verify_tap
from host.wire.sample import NOW
from testkit.tags import read_tap


def test_three_badges_button_and_power_cut(badge_build, world, trust, tmp_path):
    with simfleet.Fleet(3, tmp_path, badge_build, world) as f:
        assert len({b.port for b in f.badges}) == 3
        taps = []
        for i, b in enumerate(f.badges):
            _, token, cred = read_tap(b.path)
            tap = verify_tap(token, cred, trust, NOW, purposes="status")
            assert tap.credential.status_idx == i
            taps.append(tap)
        # badge 1: button -> consent token (all scope bits) on its tag
        b1 = f.badges[1]
        b1.wait_state(lambda s: s["ctr"] > taps[1].counter and s["tag"].startswith("1:"))
        f.press(1)
        b1.wait_state(lambda s: s["tag"].startswith("2:"))
        _, token, cred = read_tap(b1.path)
        tap = verify_tap(token, cred, trust, NOW, purposes="consent")
        assert tap.scope == 0x3F and tap.counter > taps[1].counter
        # consent is one view: after the read the tag is back to status
        st = b1.wait_state(lambda s: s["tag"].startswith("1:") and s["ctr"] > tap.counter)
        assert st["led"] == "ok"
        # badge 2: power cut, comes back on the same port with a higher counter
        b2 = f.badges[2]
        before = b2.state()["ctr"]
        f.cut(2)
        assert b2.boots == 2
        _, token, cred = read_tap(b2.path)
        tap2 = verify_tap(token, cred, trust, NOW, purposes="status")
        assert tap2.counter > before >= taps[2].counter


def test_fleet_command_line(tmp_path):
    p = subprocess.Popen([sys.executable, "-m", "hardware.sim.fleet", "--badges", "2",
                          "--workdir", str(tmp_path)], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True, cwd=simfleet.ROOT)
    try:
        lines = [p.stdout.readline().split() for _ in range(2)]
        assert [w[0:2] for w in lines] == [["badge", "0"], ["badge", "1"]]
        assert all(w[2].startswith("udp:127.0.0.1:") for w in lines)
        p.stdin.write("press 0\n")
        p.stdin.flush()
        assert p.stdout.readline().strip() == "ok"
        p.stdin.write("state 0\n")
        p.stdin.flush()
        assert p.stdout.readline().startswith("STATE")
        p.stdin.write("quit\n")
        p.stdin.flush()
        assert p.wait(30) == 0
    finally:
        if p.poll() is None:
            p.kill()
