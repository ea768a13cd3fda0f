"""Start a simulated ESP32 terminal (terminal firmware under MicroPython, PN532 model, littlefs
flash) from CPython and talk to it; see terminal_upy.py for the commands.

    t = SimTerminal(workdir, build_dir, badge_port, start_time).provision(files).start()
    t.command("poll")  -> the RESULT line's words; every line is kept in t.log

Heap: TERMINAL_HEAP (256 KiB) for the firmware. An ESP32-S3 module without PSRAM leaves
MicroPython a GC heap of roughly 300 KB once ESP-IDF, Wi-Fi and lwIP have taken theirs (with
the usual 8 MB PSRAM it is megabytes); 256 KiB is what we hold the terminal to, so a test that
passes here fits the plain S3 too. It is twice the badge's 128 KiB because the terminal
verifies signatures (two P-256 scalar multiplications with the comb table imported), builds
JSON batches for the sync and holds a status-list chunk buffer, and the Wi-Fi stack is on.
"""
import os
import pathlib
import signal
import subprocess

from hardware.sim import runner
from hardware.sim.lines import LineReader

ROOT = runner.ROOT
TERMINAL_HEAP = 256 * 1024
SIM_HEAP = 1024 * 1024
# (source, module name in the build's tsim/ folder)
SIM_SOURCES = [(ROOT / "hardware" / "pn532" / "model.py", "pn532_model"),
               (ROOT / "hardware" / "pn532" / "rf.py", "pn532_rf"),
               (ROOT / "hardware" / "sim" / "uart.py", "uart"),
               (ROOT / "hardware" / "sim" / "i2c.py", "i2c"),
               (ROOT / "hardware" / "ssd1306" / "model.py", "ssd1306_model"),
               (ROOT / "hardware" / "sim" / "flash.py", "flash"),
               (ROOT / "hardware" / "sim" / "replay_tag.py", "replay_tag"),
               (ROOT / "hardware" / "sim" / "terminal_board.py", "terminal_board"),
               (ROOT / "hardware" / "sim" / "terminal_upy.py", "terminal_upy")]
# the simulation modules, then exactly what the terminal has in /lib (its manifest, host/build.py)
BUILD_PATH = ("tsim", "device/terminal/lib")


def build(out_dir):
    """The firmware built from its manifests (host/build.py: each device's /lib laid out under
    out_dir/device/) and the terminal simulation compiled to .mpy under out_dir/tsim/. A
    simulated terminal runs with BUILD_PATH: tsim/, then device/terminal/lib, nothing else."""
    out_dir = pathlib.Path(out_dir)
    runner.compile_firmware(out_dir)
    for src, name in SIM_SOURCES:
        runner.compile_module(src, out_dir / "tsim", name)
    return out_dir


def heap_budget(heap=TERMINAL_HEAP):
    out = subprocess.run([runner.MICROPYTHON, "-X", "heapsize=%d" % heap, "-c",
                          "import gc; gc.collect(); print(gc.mem_free())"],
                         capture_output=True, text=True, check=True)
    return int(out.stdout)


class SimTerminal(LineReader):
    name, expect_timeout, timeout_tail, exit_tail = "terminal", 30, 30, 40

    def __init__(self, directory, build_dir, badge_port=None, start_time=0, rtc_ppm=0,
                 heap=TERMINAL_HEAP):
        self.dir = pathlib.Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.build_dir = pathlib.Path(build_dir)
        self.badge_port = badge_port
        self.start_time = start_time
        self.rtc_ppm = rtc_ppm
        self.budget = heap_budget(heap)
        self.log = []
        self.proc = None

    def provision(self, files):
        """Files for a new flash image: {relative path: bytes}."""
        for rel, data in files.items():
            p = self.dir / "provision" / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
        return self

    def start(self, timeout=60):
        env = dict(os.environ)
        env["MICROPYPATH"] = ":".join(str(self.build_dir / p) for p in BUILD_PATH)
        port = "-" if self.badge_port is None else str(self.badge_port)
        self.proc = subprocess.Popen(
            [runner.MICROPYTHON, "-X", "heapsize=%d" % SIM_HEAP, "-c", "import terminal_upy",
             str(self.dir), port, str(self.start_time), str(self.budget), str(self.rtc_ppm)],
            env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, bufsize=1)
        self._read_lines(self.proc)
        self.expect("READY", timeout)
        return self


    def command(self, cmd, timeout=60):
        """Send one command; the words of its RESULT line after "RESULT"."""
        self.proc.stdin.write(cmd + "\n")
        self.proc.stdin.flush()
        return self.expect("RESULT", timeout).split()[1:]

    def events(self, prefix):
        return [ln for ln in self.log if ln.startswith(prefix)]

    def kill(self):
        """Power cut by SIGKILL (the process dies wherever it is)."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
                self.proc.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
