"""The simulated badge board (MicroPython): what board_esp32c3.py is on the real badge.

Wires the NT3H2111 model (hardware/nt3h2111/model.py) to a SimI2C bus (hardware/sim/i2c.py), its
RF side to a UDP port in nfcpy's `udp` format (hardware/nt3h2111/rf_udp.py), and a littlefs on a
file-backed FlashDevice (hardware/sim/flash.py) mounted at /flash. One directory per badge:
  flash.bin   the littlefs image (256 KiB), the badge's state and provisioning blobs
  tag.bin     the tag's EEPROM, saved whenever it changed (the EEPROM survives a power cut)

Sleep is modelled as the ESP32-C3's light sleep with wake on GPIO: sleep(ms) returns when the FD
pin changes, the button is pressed, or ms pass; meanwhile the RF side is served (the tag answers
readers on its own, as the real chip does while the MCU sleeps). The I2C bus serves pending RF
frames before each transaction, as the real chip serves both interfaces at once.

Control channel: one command per line on stdin, replies and events as lines on stdout:
  press            the button              -> "OK press"
  battery <mv>     set the battery voltage -> "OK battery"
  state            -> "STATE ctr=<counter> pool=<n> led=<pattern> mode=<purpose> tag=<purpose>:<ctr>
                      tokens=.. reads=.. checkins=.. refused=.. frames=.."
  stats            -> "STATS <model and RF counters as key=value>"
  quit             clean exit (end of stdin too). A power cut is the process being killed.
Events: "EV <what> ..." from the badge loop's log, "LED <pattern>".
"""
import os
import select
import sys
import time

import vfs
from flash import FlashDevice
from i2c import SimI2C
from model import NT3H2111
from rf_udp import RFServer

FLASH_BLOCK = 4096
FLASH_BLOCKS = 64
_EEPROM_BYTES = 59 * 16


class PumpedI2C:
    """SimI2C that lets the RF side answer waiting frames before every transaction."""

    def __init__(self, bus, srv):
        self.bus = bus
        self.srv = srv

    def writeto(self, addr, buf, stop=True):
        self.srv.step(0)
        return self.bus.writeto(addr, buf, stop)

    def readfrom_into(self, addr, buf, stop=True):
        self.srv.step(0)
        return self.bus.readfrom_into(addr, buf, stop)


def _exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def mount_flash(path, mount="/flash"):
    """Mount (formatting a new image) the littlefs in file `path` at `mount`."""
    new = not _exists(path)
    dev = FlashDevice(path, FLASH_BLOCK, FLASH_BLOCKS if new else None)
    if new:
        vfs.VfsLfs2.mkfs(dev)
    vfs.mount(vfs.VfsLfs2(dev), mount)
    return dev


class SimBoard:
    tag_addr = 0x55
    fs_root = "/flash"

    def __init__(self, directory, port, battery_mv=3900, out=None):
        self.dir = directory
        self.out = out or sys.stdout
        self.flash = mount_flash(directory + "/flash.bin")
        self._tag_path = directory + "/tag.bin"
        eeprom = None
        if _exists(self._tag_path):
            with open(self._tag_path, "rb") as f:
                eeprom = f.read()
            if len(eeprom) != _EEPROM_BYTES:
                eeprom = None
        self.model = NT3H2111(eeprom=eeprom)
        self.model.on_fd(self._fd_changed)
        self.bus = SimI2C()
        self.bus.attach(self.model)
        self.srv = RFServer(self.model, port)
        self.port = port
        self.i2c = PumpedI2C(self.bus, self.srv)
        self._poll = select.poll()
        self._poll.register(self.srv.sock, select.POLLIN)
        self._poll.register(sys.stdin, select.POLLIN)
        self._button = False
        self._woken = False
        self._edges = 0
        self.led = "off"
        self.battery = battery_mv
        self.badge = None
        self.quit = False
        self.sleeps = 0
        self._saved = -1

    # --- what the badge loop uses --------------------------------------------------------------

    def fd(self):
        return self.model.fd_pin()

    def fd_edges(self):
        return self._edges

    def take_button(self):
        b = self._button
        self._button = False
        return b

    def show(self, name):
        self.led = name
        self.say("LED", name)

    def rng(self, n):
        return os.urandom(n)

    def battery_mv(self):
        return self.battery

    def ticks_ms(self):
        return time.ticks_ms()

    def log(self, *a):
        self.say("EV", *a)

    def sleep(self, ms):
        self.sleeps += 1
        self._save_tag()
        t0 = time.ticks_ms()
        if self.model.fd_pin() == 0 and ms > 2:
            self._woken = True          # wake on FD low is level-triggered
        while not self.quit:
            left = ms - time.ticks_diff(time.ticks_ms(), t0)
            if left <= 0 or self._woken:
                break
            for obj, _ev in self._poll.poll(self.srv.wait_ms(min(left, 50))):
                if obj is sys.stdin:
                    self._command()
            self.srv.step(0)
        self._woken = False

    def until(self):
        return self.quit

    # --- simulation side -----------------------------------------------------------------------

    def say(self, *a):
        self.out.write(" ".join(str(x) for x in a) + "\n")

    def _fd_changed(self, level):
        if level == 0:
            self._edges += 1
        self._woken = True

    def _save_tag(self):
        n = self.model.stats["i2c_writes"] + self.model.stats["rf_writes"]
        if n != self._saved:
            with open(self._tag_path, "wb") as f:
                f.write(self.model.eeprom)
            self._saved = n

    def _command(self):
        line = sys.stdin.readline()
        if not line:
            self.quit = True
            return
        w = line.split()
        if not w:
            return
        c = w[0]
        if c == "press":
            self._button = True
            self._woken = True
            self.say("OK", "press")
        elif c == "battery" and len(w) == 2:
            self.battery = int(w[1])
            self.say("OK", "battery")
        elif c == "state":
            self.say("STATE", self.describe())
        elif c == "stats":
            s = dict(self.model.stats)
            for k, v in self.srv.stats.items():
                s["udp_" + k] = v
            s["sleeps"] = self.sleeps
            self.say("STATS", " ".join("%s=%s" % kv for kv in sorted(s.items())))
        elif c == "modules":
            self.say("MODULES", modules())
        elif c == "quit":
            self.quit = True
            self.say("OK", "quit")
        else:
            self.say("ERR", "unknown command")

    def describe(self):
        b = self.badge
        parts = ["led=%s" % self.led]
        if b is not None:
            st = b.state
            tag = "%d:%d" % b.on_tag if b.on_tag else "none"
            parts += ["ctr=%d" % st.counter, "pool=%d" % st.pool_available(),
                      "mode=%d" % b.mode, "tag=%s" % tag,
                      "provisioned=%d" % (1 if b.key else 0)]
            for k in ("tokens", "reads", "checkins", "refused", "refills", "tag_retries"):
                parts.append("%s=%d" % (k, b.stats[k]))
        parts.append("frames=%d" % self.model.stats["rf_frames"])
        return " ".join(parts)


def modules():
    """Every module this process has loaded, as name=file (the test that the build's set for a
    device is what it runs compares them with the manifest)."""
    return " ".join(sorted("%s=%s" % (k, getattr(m, "__file__", "-"))
                           for k, m in sys.modules.items()))
