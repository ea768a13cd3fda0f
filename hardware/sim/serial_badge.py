"""A simulated badge on a pseudo-terminal, for the provisioning tool and its tests.

Two pty pairs and a "cable" between them:

  host (pyserial on `port`) = slave B  <-> master B  ==cable==  master A <-> slave A = badge

The badge is one MicroPython process (hardware/sim/serial_badge_upy.py, firmware compiled to
.mpy) whose stdin/stdout are slave A, raw, 115200 baud; its flash is a littlefs image on a
FlashDevice file. The cable is a thread copying bytes between the masters: it records every byte
in both directions, can pace them as a 115200-baud UART would (10 bit times per byte), and can be
pulled (both masters closed), optionally at an exact byte of one direction.
"""
import os
import pathlib
import select
import subprocess
import termios
import threading
import time
import tty

from . import runner

ENTRY = pathlib.Path(__file__).with_name("serial_badge_upy.py")
SIM_DIR = ENTRY.parent


def _raw(fd, baud=termios.B115200):
    tty.setraw(fd)
    attrs = termios.tcgetattr(fd)
    attrs[4] = attrs[5] = baud
    termios.tcsetattr(fd, termios.TCSANOW, attrs)


def _env(build):
    build = pathlib.Path(build)
    env = dict(os.environ)
    # what the badge has in /lib (its manifest, host/build.py), then the simulation entry
    env["MICROPYPATH"] = ":".join([str(build / "device" / "badge" / "lib"), str(SIM_DIR)])
    return env


class SerialBadge:
    """One simulated badge. `flash`: image path (kept across restarts); `chip`: 6 bytes."""

    def __init__(self, build, flash, chip, baud=None, log=None):
        self.build = pathlib.Path(build)
        self.flash = str(flash)
        self.chip = bytes(chip)
        self.baud = baud            # pace the cable like a UART at this rate; None = as fast
        self.log = log or self.flash + ".log"
        self.recording = []         # (direction, bytes): "tx" host->badge, "rx" badge->host
        self.proc = None
        self._thread = None         # the cable's pump, while it is plugged in
        self.pulled = False
        self.link_seconds = 0.0     # time the cable spent pacing bytes
        self._cut = None
        self._after = None
        self._lock = threading.Lock()

    # --- life cycle ---------------------------------------------------------------------------

    def start(self):
        if self._thread is not None:
            # the last cable's pump ends once it sees the cable pulled; until then it holds
            # descriptor numbers that the new ptys (or Popen's own pipes) may be given
            self.pull_cable()
            self._thread.join()
        self.pulled = False
        ma, sa = os.openpty()
        mb, sb = os.openpty()
        _raw(sa)
        _raw(sb)
        logf = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [runner.MICROPYTHON, "-X", "heapsize=%d" % runner.HEAP_BYTES, str(ENTRY),
             self.flash, self.chip.hex()],
            stdin=sa, stdout=sa, stderr=logf, env=_env(self.build), start_new_session=True)
        logf.close()
        os.close(sa)
        self._ma, self._mb, self._keep = ma, mb, sb
        self.port = os.ttyname(sb)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """Unplug and end the badge process (waits for it)."""
        self.pull_cable()
        if self.proc is not None:
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._thread.join(5)

    def restart(self):
        """Plug the same badge (same flash) in again: a new process, new ptys."""
        self.stop()
        return self.start()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # --- the cable ----------------------------------------------------------------------------

    def pull_cable(self):
        with self._lock:
            if self.pulled:
                return
            self.pulled = True
            for fd in (self._ma, self._mb, self._keep):
                try:
                    os.close(fd)
                except OSError:
                    pass

    def cut_at(self, direction, nbytes, after=None):
        """Pull the cable once `nbytes` more bytes went in `direction` ("tx" or "rx").

        after: start counting only from the host->badge chunk containing these bytes (e.g. an
        op name); with direction "tx" that chunk itself is cut after `nbytes`.
        """
        self._after = after
        self._cut = [direction, nbytes] if after is None else None
        self._armed = (direction, nbytes)

    def recorded(self, direction=None):
        return b"".join(d for k, d in list(self.recording) if direction in (None, k))

    def _pump(self):
        ends = {self._mb: (self._ma, "tx"), self._ma: (self._mb, "rx")}
        while not self._stop.is_set() and not self.pulled:
            try:
                ready, _, _ = select.select(list(ends), [], [], 0.05)
            except (OSError, ValueError):
                return
            for fd in ready:
                dst, direction = ends[fd]
                try:
                    data = os.read(fd, 4096)
                except OSError:
                    if fd == self._ma:          # the badge process went away
                        self.pull_cable()
                        return
                    continue
                if not data:
                    continue
                if self._after is not None and direction == "tx" and self._after in data:
                    self._after = None
                    self._cut = list(self._armed)
                cut = self._cut
                pull = False
                if cut and cut[0] == direction:
                    if len(data) >= cut[1]:
                        data, pull = data[:cut[1]], True
                        self._cut = None
                    else:
                        cut[1] -= len(data)
                self.recording.append((direction, data))
                if self.baud:
                    dt = len(data) * 10 / self.baud
                    self.link_seconds += dt
                    time.sleep(dt)
                try:
                    if data:
                        os.write(dst, data)
                except OSError:
                    pass
                if pull:
                    self.pull_cable()
                    return

    # --- looking inside (the test's privilege, not the host's) --------------------------------

    def read_blob(self, name, raw=False):
        """Blob `name` from the badge's flash (after stop()), via MicroPython; None if absent.

        raw: the file's bytes as they are (e.g. "pool", which is not a blob)."""
        get = ("store.read('/flash/badge/%s')" % name if raw else
               "state.BadgeState('/flash/badge').load().get(%r)" % name)
        script = ("import sys, vfs, flash, state, store\n"
                  "dev = flash.FlashDevice(%r)\n"
                  "vfs.mount(vfs.VfsLfs2(dev), '/flash')\n"
                  "b = %s\n"
                  "print('NONE' if b is None else b.hex())\n" % (self.flash, get))
        out = subprocess.run([runner.MICROPYTHON, "-c", script], env=_env(self.build),
                             capture_output=True, text=True, timeout=60, check=True).stdout
        out = out.strip()
        return None if out == "NONE" else bytes.fromhex(out)
