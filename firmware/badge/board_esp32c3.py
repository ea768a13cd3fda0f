"""The badge board on an ESP32-C3: the ONE module that imports `machine`.

Reads the pin map (hardware/badge/board.json, copied to the device as /board.json), builds the
I2C bus and the pins, and provides what firmware/badge/main.py and boot_select.py ask of a
board. Sleep is machine.lightsleep with wake on the FD and button pins (low level). On the
badge, /main.py (firmware/badge/main_esp32.py) runs:
    import board_esp32c3; board_esp32c3.run()
"""
import json
import os
import time

import machine

import leds


class Board:
    def __init__(self, path="/board.json"):
        with open(path) as f:
            cfg = json.load(f)
        i2c = cfg["i2c"]
        self.i2c = machine.I2C(i2c["id"], sda=machine.Pin(i2c["sda"]),
                               scl=machine.Pin(i2c["scl"]), freq=i2c["freq"])
        self.tag_addr = cfg["tag"]["addr"]
        self.fs_root = cfg["flash"]["fs_mount"]
        self._fd = machine.Pin(cfg["tag"]["fd_pin"], machine.Pin.IN, machine.Pin.PULL_UP)
        self._btn = machine.Pin(cfg["button"]["pin"], machine.Pin.IN, machine.Pin.PULL_UP)
        self._led = machine.Pin(cfg["led"]["pin"], machine.Pin.OUT, value=1)
        self._adc = machine.ADC(machine.Pin(cfg["battery"]["adc_pin"]))
        self._div = cfg["battery"]["divider"]
        self._edges = 0
        self._pressed = False
        self._fd.irq(self._on_fd, machine.Pin.IRQ_FALLING)
        self._btn.irq(self._on_button, machine.Pin.IRQ_FALLING)

    def _on_fd(self, pin):
        self._edges += 1

    def _on_button(self, pin):
        self._pressed = True

    def fd(self):
        return self._fd.value()

    def fd_edges(self):
        return self._edges

    def button(self):
        """The button's level now: True while it is held."""
        return self._btn.value() == 0

    def chip_id(self):
        """The chip's 6-byte MAC (the badge serial)."""
        return bytes(machine.unique_id())

    def take_button(self):
        p = self._pressed
        self._pressed = False
        return p

    def show(self, name):
        for on, off in leds.PATTERNS[name]:   # short patterns: played in place
            self._led.value(0)
            time.sleep_ms(on)
            self._led.value(1)
            time.sleep_ms(off)

    def sleep(self, ms):
        if self._fd.value() == 0 or self._pressed or ms <= 2:
            time.sleep_ms(ms)
            return
        machine.lightsleep(ms)   # FD / button IRQs wake it

    def rng(self, n):
        return os.urandom(n)

    def battery_mv(self):
        return int(self._adc.read_uv() * self._div / 1000)

    def ticks_ms(self):
        return time.ticks_ms()


def _badge_loop(board):
    # /main.py is the boot entry (main_esp32.py); the badge loop module is /lib/main.mpy, which
    # "" (the current directory, "/") would shadow: import it from the rest of the path
    import sys
    cwd = "" in sys.path
    if cwd:
        sys.path.remove("")
    try:
        import main
    finally:
        if cwd:
            sys.path.insert(0, "")
    main.main(board)


def run():
    """Boot: provisioning mode on USB serial or the badge loop (boot_select.py)."""
    import boot_select
    boot_select.run(Board(), _badge_loop)
