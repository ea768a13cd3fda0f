"""The simulated ESP32-S3 terminal board (MicroPython): what board_esp32s3.py is on hardware.

  uart      SimUART (hardware/sim/uart.py) to the PN532 model (hardware/pn532/model.py), whose
            RF side is a UDPLink to a simulated badge (nfcpy udp format) or a TagLink to a tag
            model in this process
  flash     littlefs (VfsLfs2) on a file-backed FlashDevice (hardware/sim/flash.py) at /flash;
            <dir>/flash.bin, 1 MiB; a new image is formatted and gets the files of
            <dir>/provision/ (terminal.json, trust.cose, status/<agency>/...)
  rtc()     a battery-backed RTC: start time + elapsed time * (1 + rtc_ppm / 1e6); it keeps
            running through power cuts (a coin cell), as the board's RTC does
  connect() plain TCP sockets (the unix port's `socket`) in place of Wi-Fi
  feedback  "BEEP <colour> <reason> <extra>" lines on stdout (the buzzer and ring LED)
  display() the SSD1306 driver (firmware/drivers/ssd1306.py) on a SimI2C bus (hardware/sim/i2c.py,
            ENODEV for every NACK as on the ESP32 port) to the SSD1306 model
            (hardware/ssd1306/model.py) at 0x3C; `oled` is the model (its display RAM is what
            the firmware drew), fit_display(False) takes it off the bus. A power-up gives a
            fresh model: the panel forgets its RAM when the power goes

Power cuts (arm(kind, n)): "flash" tears the write after n units (FlashDevice.cut_after),
"uart" cuts after n UART bytes, "net" after n bytes sent or received on a socket. Whichever
fires, the whole board is dead from then on (the flash refuses every call, so no cleanup code
on the way out can write), PowerCut propagates out of the firmware, and reboot() powers up
again: a new FlashDevice and mount on the same image, the PN532 powered on afresh (its field
drops: the badge sees RFOFF), open sockets closed (the verifier sees the connection go).
"""
import os
import socket
import sys
import time

import vfs
import ssd1306
from flash import FlashDevice, PowerCut
from i2c import ENODEV, SimI2C
from pn532_model import PN532Model
from pn532_rf import UDPLink
from ssd1306_model import SSD1306 as SSD1306Model
from uart import SimUART

FLASH_BLOCK = 4096
FLASH_BLOCKS = 256


def _exists(p):
    try:
        os.stat(p)
        return True
    except OSError:
        return False


def _copy_tree(src, dst):
    for name in os.listdir(src):
        s, d = src + "/" + name, dst + "/" + name
        if os.stat(s)[0] & 0x4000:
            try:
                os.mkdir(d)
            except OSError:
                pass
            _copy_tree(s, d)
        else:
            with open(s, "rb") as f:
                data = f.read()
            with open(d, "wb") as f:
                f.write(data)


class _Uart(SimUART):
    def __init__(self, board, peer):
        SimUART.__init__(self, peer)
        self.board = board

    def _spend(self, n):
        if self.board.dead or self.board.flash.dead:
            raise PowerCut("no power")
        if self._cut >= 0:
            self._cut -= n
            if self._cut < 0:
                self._cut = -1
                self.board.die("uart")


class _Sock:
    """A TCP socket that counts bytes for power-cut injection."""

    def __init__(self, board, s):
        self.board = board
        self.s = s

    def _spend(self, n):
        b = self.board
        if b.dead or b.flash.dead:
            raise PowerCut("no power")
        if b.net_cut >= 0:
            b.net_cut -= n
            if b.net_cut < 0:
                b.net_cut = -1
                b.die("net")

    def send(self, data):
        n = self.s.send(data)
        self._spend(n)
        return n

    def recv(self, n):
        d = self.s.recv(n)
        self._spend(len(d))
        return d

    def close(self):
        if self in self.board.socks:
            self.board.socks.remove(self)
        self.s.close()


class SimTerminalBoard:
    fs_root = "/flash"

    def __init__(self, directory, badge_port=None, start_time=0, rtc_ppm=0, out=None):
        self.dir = directory
        self.out = out or sys.stdout
        self.rtc_ppm = rtc_ppm
        self._t0 = time.ticks_ms()
        self._start = start_time
        self.link = UDPLink(badge_port)
        self.model = PN532Model(self.link)
        self.uart = _Uart(self, self.model)
        self.socks = []
        self._buffers = {}
        self.net_cut = -1
        self.dead = False
        self.cut_kind = None
        self.flash = None
        self.quiet = False
        self.i2c = SimI2C(nack_errno=ENODEV)
        self.oled = None
        self.oled_fitted = True
        self.power_up()

    # --- power --------------------------------------------------------------------------------

    def power_up(self):
        path = self.dir + "/flash.bin"
        new = not _exists(path)
        self.flash = FlashDevice(path, FLASH_BLOCK, FLASH_BLOCKS if new else None)
        if new:
            vfs.VfsLfs2.mkfs(self.flash)
        vfs.mount(vfs.VfsLfs2(self.flash), self.fs_root)
        if new and _exists(self.dir + "/provision"):
            _copy_tree(self.dir + "/provision", self.fs_root)
        self.dead = False
        self.fit_display(self.oled_fitted)
        self.model.power_on()
        self.uart._cut = -1
        self.net_cut = -1

    def die(self, kind):
        """The supply fails now: everything stops; PowerCut."""
        self.dead = True
        self.cut_kind = kind
        self.flash.dead = True
        raise PowerCut("power cut (%s)" % kind)

    def reboot(self):
        """Power up again after a cut (or switch off and on)."""
        self.flash.dead = True
        try:
            vfs.umount(self.fs_root)
        except (OSError, PowerCut):
            pass
        self.flash.close()
        for s in list(self.socks):
            try:
                s.close()
            except OSError:
                pass
        self.socks = []
        self.model.power_off()
        self.power_up()

    def arm(self, kind, n, seed=1):
        if kind == "flash":
            self.flash.cut_after(n, "byte", seed)
        elif kind == "uart":
            self.uart.cut_after(n)
        elif kind == "net":
            self.net_cut = n
        else:
            raise ValueError(kind)

    def disarm(self):
        self.flash.disarm()
        self.uart._cut = -1
        self.net_cut = -1

    def fit_display(self, fitted):
        """Put a fresh SSD1306 model on the bus, or take the display off it (every transaction
        then NACKs at the address byte)."""
        if self.oled is not None:
            self.i2c.detach(self.oled)
        self.oled_fitted = fitted
        self.oled = self.i2c.attach(SSD1306Model()) if fitted else None

    # --- what the firmware uses ---------------------------------------------------------------

    def buffer(self, name, n):
        """A buffer the firmware allocates once at boot. Kept across the in-process reboots:
        a real reboot starts from an empty heap, this process's heap carries the previous
        boot's fragments, so a large block is taken once, while the heap is fresh."""
        b = self._buffers.get(name)
        if b is None or len(b) != n:
            b = self._buffers[name] = bytearray(n)
        return b

    def display(self):
        return ssd1306.SSD1306(self.i2c)

    def rtc(self):
        ms = time.ticks_diff(time.ticks_ms(), self._t0)
        return self._start + (ms + ms * self.rtc_ppm // 1000000) // 1000

    def ticks_ms(self):
        return time.ticks_ms()

    def sleep_ms(self, ms):
        time.sleep_ms(ms)

    def rng(self, n):
        return os.urandom(n)

    def connect(self, host, port, timeout_s):
        if self.dead or self.flash.dead:
            raise PowerCut("no power")
        s = socket.socket()
        try:
            s.settimeout(timeout_s)
            s.connect(socket.getaddrinfo(host, port)[0][-1])
        except OSError:
            s.close()
            raise
        w = _Sock(self, s)
        self.socks.append(w)
        return w

    def feedback(self, colour, pattern, zh, en, reason, extra=""):
        self.say("BEEP", colour, reason, extra)

    def log(self, *a):
        if not self.quiet:
            self.say("EV", *a)

    def say(self, *a):
        self.out.write(" ".join(str(x) for x in a) + "\n")
