"""The public API of the wire library (host/wire), of the authority tool (authority/) and of
the verifier's services (verifier/services, but ledger.py and verification.py) is annotated, and
pyright agrees with every annotation: `pyright` in basic mode over pyrightconfig.json reports
0 errors. The firmware (firmware/, each device against its own port: the badge against the
MicroPython ESP32-C3 stubs, the terminal against the ESP32-S3's) reports 0 errors too.

pyright is a Node program (`npm install -g pyright@1.1.414`; Node is on the machine). Without
it the test is skipped with that reason, except under CI=true, where that is a failure."""
import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
FOLDERS = ("host/wire", "verifier/services", "authority")


def _pyright():
    found = shutil.which("pyright") or shutil.which(
        "pyright", path=str(pathlib.Path(sys.executable).parent))
    if found is None:
        msg = "pyright is not installed (npm install -g pyright@1.1.414)"
        if os.environ.get("CI") == "true":
            pytest.fail(msg + " (CI=true: this is a failure)")
        pytest.skip(msg)
    return found


def test_pyright_finds_no_error_in_the_annotated_packages():
    config = json.loads((ROOT / "pyrightconfig.json").read_text())
    assert set(FOLDERS) <= set(config["include"]) and config["typeCheckingMode"] == "basic"
    # this interpreter's packages (cbor2, cryptography, sqlalchemy), wherever its venv is
    r = subprocess.run([_pyright(), "--outputjson", "--project", str(ROOT), "--pythonpath",
                        sys.executable], cwd=ROOT, capture_output=True, text=True, timeout=600)
    try:
        report = json.loads(r.stdout)
    except ValueError:
        pytest.fail(f"pyright did not answer in JSON (exit {r.returncode}):\n"
                    f"{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
    errors = [f"{d['file']}:{d['range']['start']['line'] + 1}: {d['message']}"
              for d in report["generalDiagnostics"] if d["severity"] == "error"]
    assert report["summary"]["errorCount"] == 0, "\n".join(errors)
    assert report["summary"]["filesAnalyzed"] >= 25         # the folders were found
    checked = {pathlib.Path(d["file"]).relative_to(ROOT).parts[:2]
               for d in report["generalDiagnostics"]}
    assert not checked - {tuple(f.split("/")) for f in FOLDERS}


# The firmware against the ports it is written for: the MicroPython ESP32 stubs (scripts/test.sh
# installs them into .venv/mpy-stubs) as the whole typeshed (pyrightconfig.esp32c3.json, -s3),
# so a CPython-only name is an error.
FIRMWARE = {"c3": ("lib", "drivers", "badge"), "s3": ("lib", "drivers", "terminal")}


def _report(args, cwd):
    r = subprocess.run([_pyright(), "--outputjson", *args], cwd=cwd, capture_output=True,
                       text=True, timeout=600)
    try:
        return json.loads(r.stdout)
    except ValueError:
        pytest.fail(f"pyright did not answer in JSON (exit {r.returncode}):\n"
                    f"{r.stdout[-2000:]}\n{r.stderr[-2000:]}")


def _stubs(chip):
    stubs = ROOT / ".venv" / "mpy-stubs" / f"esp32{chip}"
    if not (stubs / "machine.pyi").is_file():
        msg = f"the ESP32-{chip.upper()} stubs are not installed (bash scripts/test.sh)"
        if os.environ.get("CI") == "true":
            pytest.fail(msg + " (CI=true: this is a failure)")
        pytest.skip(msg)
    return stubs


@pytest.mark.parametrize("chip", sorted(FIRMWARE))
def test_firmware_has_no_error_against_the_esp32_port_stubs(chip):
    stubs = _stubs(chip)
    config = json.loads((ROOT / f"pyrightconfig.esp32{chip}.json").read_text())
    assert tuple(config["include"]) == tuple("firmware/" + f for f in FIRMWARE[chip])
    assert (ROOT / config["typeshedPath"]).resolve() == stubs.resolve()
    report = _report(["--project", f"pyrightconfig.esp32{chip}.json"], ROOT)
    errors = [f"{d['file']}:{d['range']['start']['line'] + 1}: {d['message']}"
              for d in report["generalDiagnostics"] if d["severity"] == "error"]
    assert report["summary"]["errorCount"] == 0, "\n".join(errors)
    # every device file was analysed: all but the manifests (build scripts run by the build,
    # not on the device) and the host's fallbacks (xinka/_host.py, CPython only)
    files = [p for folder in FIRMWARE[chip] for p in (ROOT / "firmware" / folder).rglob("*.py")
             if p.name != "manifest.py" and p.name != "_host.py"]
    assert report["summary"]["filesAnalyzed"] == len(files)


def test_the_stubs_are_the_ports_not_cpythons(tmp_path):
    """The same lines pass against CPython's typeshed and fail against the port's: what the
    firmware test checks is MicroPython's API (time.ticks_ms on the board, no time.monotonic;
    machine.Pin's own signature)."""
    stubs = _stubs("c3")
    (tmp_path / "board.py").write_text(
        "import time\nimport machine\n"
        "t = time.monotonic()\n"                     # CPython only
        "p = machine.Pin(2, machine.Pin.OUT)\np.value(1)\n"
        "ms = time.ticks_ms()\n"                     # MicroPython only
        "p.toggle_all()\n")                          # no such method on the port's Pin
    config = {"include": ["board.py"], "typeshedPath": str(stubs), "stubPath": str(stubs),
              "pythonVersion": "3.11", "typeCheckingMode": "basic",
              "reportMissingModuleSource": "none"}
    (tmp_path / "pyrightconfig.json").write_text(json.dumps(config))
    report = _report(["--project", str(tmp_path)], tmp_path)
    lines = sorted(d["range"]["start"]["line"] + 1 for d in report["generalDiagnostics"]
                   if d["severity"] == "error")
    assert lines == [3, 7], report["generalDiagnostics"]
