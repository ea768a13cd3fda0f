"""xinka: the protocol and crypto library shared by the badge, the terminal and the host.

One package for MicroPython and CPython alike: on a device it lives under /lib/xinka, on the
host it is installed with the wheel (docs/architecture.md). Nothing here imports `machine`.
"""
