"""What MicroPython has and CPython lacks, in one place: `const` and the millisecond clock.

On MicroPython these are the built-ins (`micropython.const` is folded by the compiler, so
`_X = const(1)` takes no global slot); on CPython the same names with the same meaning, so
firmware modules and the chip models run unchanged in host tests.
"""
try:
    from micropython import const
except ImportError:
    def const(x):
        return x

try:
    from time import sleep_ms, ticks_add, ticks_diff, ticks_ms
except ImportError:
    import time as _time

    def ticks_ms():
        return int(_time.monotonic() * 1000)

    def ticks_add(a, b):
        return a + b

    def ticks_diff(a, b):
        return a - b

    def sleep_ms(ms):
        _time.sleep(ms / 1000)
