"""Start N simulated badges, each one MicroPython process with its own tag model, flash image and
nfcpy `udp:` port; press their buttons, cut their power, read their state.

    python -m hardware.sim.fleet --badges 3 [--workdir DIR] [--consent-s 60]

prints one line per badge, "badge <i> udp:127.0.0.1:<port> <dir>", then takes commands on stdin:
    press <i>      press badge i's button
    cut <i>        cut badge i's power (the process is killed at whatever it was doing) and
                   power it up again on the same flash image, tag EEPROM and port
    state <i>      one STATE line (counter, pool, LED, token on the tag, ...)
    battery <i> <mv>
    quit
Any nfcpy program reads a badge with nfc.ContactlessFrontend('udp:127.0.0.1:<port>').
Badges are provisioned (hardware/sim/provision_sim.py, simulation only) with the keys and
credentials of host.wire.sample.World, verifier host v.example.cn.

From Python: `with Fleet(3) as fleet: fleet.badges[0].path; fleet.press(0); fleet.cut(1)`.
"""
import argparse
import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import time

from hardware.sim import runner
from hardware.sim.lines import LineReader
from hardware.sim.ports import free_udp_port
from hardware.sim.provision_sim import BUILD_PATH, provision_for_sim

ROOT = runner.ROOT
SIM_SOURCES = [ROOT / "hardware" / "nt3h2111" / "model.py",
               ROOT / "hardware" / "nt3h2111" / "rf_udp.py",
               ROOT / "hardware" / "sim" / "i2c.py",
               ROOT / "hardware" / "sim" / "flash.py",
               ROOT / "hardware" / "sim" / "badge_board.py",
               ROOT / "hardware" / "sim" / "badge_upy.py"]
HOST = "v.example.cn"


def build(out_dir):
    """The firmware built from its manifests (host/build.py: each device's /lib laid out under
    out_dir/device/) and the simulation modules compiled to .mpy under out_dir/sim/. A simulated
    badge runs with BUILD_PATH: sim/, then device/badge/lib, nothing else."""
    out_dir = pathlib.Path(out_dir)
    runner.compile_firmware(out_dir)
    for src in SIM_SOURCES:
        runner.compile_module(src, out_dir / "sim")
    return out_dir


SIM_HEAP = 256 * 1024


def heap_budget():
    """gc.mem_free() of a fresh MicroPython process with the badge's heap (runner.HEAP_BYTES)."""
    out = subprocess.run([runner.MICROPYTHON, "-X", "heapsize=%d" % runner.HEAP_BYTES, "-c",
                          "import gc; gc.collect(); print(gc.mem_free())"],
                         capture_output=True, text=True, check=True)
    return int(out.stdout)


class SimBadge(LineReader):
    """One badge process. Lines it prints go to `lines` (a queue) and `log` (a list)."""

    @property
    def name(self):
        return "badge %d" % self.index

    def __init__(self, index, directory, port, build_dir, consent_ms):
        self.index = index
        self.dir = pathlib.Path(directory)
        self.port = port
        self.build_dir = build_dir
        self.consent_ms = consent_ms
        self.proc = None
        self.budget = heap_budget()
        self.log = []
        self.boots = 0

    @property
    def path(self):
        return "udp:127.0.0.1:%d" % self.port

    def start(self, timeout=60):
        env = dict(os.environ)
        env["MICROPYPATH"] = ":".join(str(pathlib.Path(self.build_dir) / p) for p in BUILD_PATH)
        self.proc = subprocess.Popen(
            [runner.MICROPYTHON, "-X", "heapsize=%d" % SIM_HEAP, "-c", "import badge_upy",
             str(self.dir), str(self.port), str(self.consent_ms), str(self.budget)],
            env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, bufsize=1)
        self._read_lines(self.proc)
        self.boots += 1
        free = int(self.expect("HEAP", timeout).split()[1])
        if free > self.budget + 64:
            raise RuntimeError("badge %d: the firmware would get %d bytes of heap, above the "
                               "badge's budget of %d" % (self.index, free, self.budget))
        self.expect("READY", timeout)
        return self

    def command(self, cmd, reply, timeout=10):
        self.proc.stdin.write(cmd + "\n")
        self.proc.stdin.flush()
        return self.expect(reply, timeout)

    def state(self):
        """STATE line as a dict of str -> int/str."""
        line = self.command("state", "STATE")
        out = {}
        for kv in line.split()[1:]:
            k, _, v = kv.partition("=")
            out[k] = int(v) if v.lstrip("-").isdigit() else v
        return out

    def stats(self):
        line = self.command("stats", "STATS")
        return {k: int(v) for k, v in (kv.split("=") for kv in line.split()[1:])}

    def press(self):
        self.command("press", "OK press")

    def wait_state(self, pred, timeout=10):
        """Poll state() until pred(state) holds; returns that state."""
        end = time.monotonic() + timeout
        while True:
            st = self.state()
            if pred(st):
                return st
            if time.monotonic() > end:
                raise TimeoutError("badge %d: state %r" % (self.index, st))
            time.sleep(0.05)

    def cut(self, restart=True):
        """Power cut: SIGKILL wherever the firmware is, then power up again."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        if restart:
            self.start()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
                self.proc.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()


class Fleet:
    """n provisioned badges (World badge i = badge i); `provisioned=False` leaves them blank."""

    def __init__(self, n, workdir=None, build_dir=None, world=None, consent_ms=60000,
                 provisioned=True, host=HOST):
        from host.wire import sample
        self.n = n
        self._tmp = None
        if workdir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="badges-")
            workdir = self._tmp.name
        self.workdir = pathlib.Path(workdir)
        self.build_dir = build_dir or build(self.workdir / "build")
        self.world = world or sample.World(n_badges=n)
        self.host = host
        self.badges = []
        for i in range(n):
            d = self.workdir / ("badge%d" % i)
            if provisioned and not (d / "flash.bin").exists():
                b = self.world.badges[i]
                provision_for_sim(d, b.key.private_numbers().private_value, b.credential, host,
                                  self.build_dir)
            d.mkdir(parents=True, exist_ok=True)
            self.badges.append(SimBadge(i, d, free_udp_port(), self.build_dir, consent_ms))

    def start(self):
        for b in self.badges:
            b.start()
        return self

    def stop(self):
        for b in self.badges:
            b.stop()
        if self._tmp:
            self._tmp.cleanup()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def press(self, i):
        self.badges[i].press()

    def cut(self, i):
        self.badges[i].cut()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--badges", type=int, default=1)
    ap.add_argument("--workdir", help="keep flash images here (default: a temporary folder)")
    ap.add_argument("--consent-s", type=int, default=60)
    args = ap.parse_args(argv)
    fleet = Fleet(args.badges, args.workdir, consent_ms=args.consent_s * 1000).start()
    try:
        for b in fleet.badges:
            print("badge %d %s %s" % (b.index, b.path, b.dir), flush=True)
        for line in sys.stdin:
            w = line.split()
            if not w:
                continue
            if w[0] == "quit":
                break
            try:
                b = fleet.badges[int(w[1])]
                if w[0] == "press":
                    b.press()
                    print("ok", flush=True)
                elif w[0] == "cut":
                    b.cut()
                    print("ok", b.path, flush=True)
                elif w[0] == "state":
                    print(b.command("state", "STATE"), flush=True)
                elif w[0] == "battery":
                    print(b.command("battery " + w[2], "OK"), flush=True)
                else:
                    print("unknown command", flush=True)
            except (IndexError, ValueError):
                print("usage: press|cut|state <i> | battery <i> <mv> | quit", flush=True)
    finally:
        fleet.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
