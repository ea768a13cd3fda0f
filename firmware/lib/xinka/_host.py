"""CPython stand-ins for MicroPython's `micropython.const` and `time.ticks_*` / `sleep_ms`
(MicroPython docs: library/micropython.html, library/time.html), for xinka.compat on the host.

Never on a device: firmware/lib/manifest.py does not list it, and on MicroPython compat takes the
built-ins before it would get here. Ticks are plain milliseconds of time.monotonic(); they do
not wrap, so ticks_add/ticks_diff are + and -.
"""
import time as _time


def const(x):
    return x


def ticks_ms():
    return int(_time.monotonic() * 1000)


def ticks_add(a, b):
    return a + b


def ticks_diff(a, b):
    return a - b


def sleep_ms(ms):
    _time.sleep(ms / 1000)
