"""Hardware: reference designs and software models of the chips (docs/architecture.md).

Models run under CPython and MicroPython alike and speak the chips' real register and frame maps.
"""
