"""What MicroPython has and CPython lacks, in one place: `const` and the millisecond clock.

On MicroPython these are the built-ins (`micropython.const` is folded by the compiler, so
`_X = const(1)` takes no global slot); on CPython the same names with the same meaning from
xinka._host, so firmware modules and the chip models run unchanged in host tests. The fallback
is a module of its own so that each side type-checks against its own API (pyright with the
ESP32 ports' stubs here, CPython's typeshed there) and never goes on a device
(firmware/lib/manifest.py leaves it out).
"""
try:
    from micropython import const
    from time import sleep_ms, ticks_add, ticks_diff, ticks_ms
except ImportError:
    from xinka._host import const, sleep_ms, ticks_add, ticks_diff, ticks_ms  # noqa: F401
