"""Import device-only firmware modules (the badge and terminal apps, the chip drivers) into
CPython tests.

On a device these are top-level modules in /lib (`state`, `store`, `nt3h2111`, ...), names that
mean other things on the host. `load` imports them with their folder first on the path and then
puts the previous owners of those names back, so each test file holds the device modules by
reference and nothing else is shadowed. The shared library is a package (`xinka`) and is
imported normally.
"""
import importlib
import pathlib
import sys

from host import build

FOLDERS = {"badge": build.FIRMWARE / "badge", "terminal": build.FIRMWARE / "terminal",
           "drivers": build.FIRMWARE / "drivers"}


def load(*names, folder="badge"):
    """The modules `names` of a firmware folder ("badge", "terminal", "drivers", or a tuple of
    them, as on a device where they all sit in /lib), imported from there, as a list in that
    order."""
    folders = (folder,) if isinstance(folder, str) else tuple(folder)
    paths = [str(FOLDERS[f]) if f in FOLDERS else str(pathlib.Path(f)) for f in folders]
    saved = {n: sys.modules.pop(n) for n in names if n in sys.modules}
    sys.path[:0] = paths
    try:
        return [importlib.import_module(n) for n in names]
    finally:
        for path in paths:
            sys.path.remove(path)
        for n in names:
            sys.modules.pop(n, None)
        sys.modules.update(saved)


def runs(words, build_dir, device):
    """What a simulated device runs of its build: (modules loaded from its flash's /lib as their
    paths there, the modules its manifest declares as names). `words`: the name=file words of
    the simulator's `modules` command (hardware/sim/badge_board.py, terminal_upy.py)."""
    lib = (pathlib.Path(build_dir) / "device" / device / "lib").resolve()
    loaded = {}
    for kv in words:
        name, _, path = kv.partition("=")
        p = pathlib.Path(path)
        if p.is_absolute() and lib in p.parents:
            loaded[name] = "/lib/" + p.relative_to(lib).as_posix()
    declared = {dst for _, dst in build.device_files(device, build_dir) if dst.startswith("/lib/")}
    assert set(loaded.values()) <= declared, set(loaded.values()) - declared
    names = {d[len("/lib/"):-len(".mpy")].replace("/", ".").removesuffix(".__init__")
             for d in declared}
    return set(loaded), names
