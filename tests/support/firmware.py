"""Import firmware/lib modules into CPython tests.

The firmware's module names (`cose`, `ndef`, `ecdsa`, `cbor`) collide with PyPI packages the
tests also use (pycose, ndeflib, python-ecdsa). `load` imports the firmware modules with
firmware/lib first on the path and then puts the previous owners of those names back, so each
test file holds the firmware modules by reference and the PyPI packages stay importable.
"""
import importlib
import pathlib
import sys

LIB = str(pathlib.Path(__file__).resolve().parents[2] / "firmware" / "lib")


def load(*names, path=LIB):
    """The firmware modules `names`, imported from `path`, as a list in that order."""
    saved = {n: sys.modules.pop(n) for n in names if n in sys.modules}
    sys.path.insert(0, path)
    try:
        return [importlib.import_module(n) for n in names]
    finally:
        sys.path.remove(path)
        for n in names:
            sys.modules.pop(n, None)
        sys.modules.update(saved)
