"""TEST ONLY: a stand-in for MicroPython's `machine` module on an ESP32-C3, just enough for
firmware/badge/board_esp32c3.py to build its board (tests/provisioning/test_esp32_boot.py).

Pins read high (pull-ups: no RF field, button up) unless XK_BUTTON=1 (the button pin, 9 on the
reference board, reads low: held). There is no tag on this bus: every I2C transfer fails
(OSError, as a NAK does); after a few the process ends with "TAG BUS USED" (the badge loop ran
and talked to its tag). lightsleep(ms) sleeps, except the 1 s pause provisioning mode takes
after the host hung up: "LIGHTSLEEP 1000" and the process ends.
"""
import os
import time

_BUTTON = 9


class Pin:
    IN = 1
    OUT = 2
    PULL_UP = 3
    IRQ_FALLING = 4
    levels = {}

    def __init__(self, pin, mode=None, pull=None, value=None):
        self.pin = pin
        if value is not None:
            Pin.levels[pin] = value
        elif pin == _BUTTON and os.getenv("XK_BUTTON") == "1":
            Pin.levels[pin] = 0

    def value(self, v=None):
        if v is None:
            return Pin.levels.get(self.pin, 1)
        Pin.levels[self.pin] = v

    def irq(self, handler, trigger):
        pass


class I2C:
    transfers = 0

    def __init__(self, bus_id, sda=None, scl=None, freq=None):
        self.freq = freq

    def _transfer(self):
        I2C.transfers += 1
        if I2C.transfers > 5:
            print("TAG BUS USED")
            raise SystemExit
        raise OSError(19)

    def writeto(self, addr, buf, stop=True):
        self._transfer()

    def readfrom_into(self, addr, buf, stop=True):
        self._transfer()


class ADC:
    def __init__(self, pin):
        pass

    def read_uv(self):
        return 1950000


def unique_id():
    return b"\xa4\xcf\x12\x00\x00\x99"


def lightsleep(ms):
    if ms >= 1000:
        print("LIGHTSLEEP", ms)
        raise SystemExit
    time.sleep_ms(ms)
