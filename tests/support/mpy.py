"""Tests run firmware through the simulator's MicroPython runner."""
from hardware.sim.runner import *  # noqa: F401,F403
from hardware.sim.runner import (BIN, FIRMWARE, HEAP_BYTES, MICROPYTHON, MPY_CROSS, ROOT,  # noqa: F401
                                 compile_firmware, firmware_sources, run)
