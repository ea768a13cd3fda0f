"""The public API of the wire library (host/wire), of the authority tool (authority/) and of
the verifier's services (verifier/services, but ledger.py and verification.py) is annotated, and
pyright agrees with every annotation: `pyright` in basic mode over pyrightconfig.json reports
0 errors.

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
