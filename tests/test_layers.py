"""The layers of docs/architecture.md hold (import-linter, .importlinter), and the contracts
would catch a lower layer importing a higher one: each deliberate violation is made in a copy
of the tree and must break its contract."""
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
LINT = pathlib.Path(sys.executable).parent / "lint-imports"
PACKAGES = ("host", "verifier", "provisioning", "authority", "hardware", "demo", "testkit",
            "tests", "bench", "tools")


def lint(cwd, pythonpath=None):
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(str(p) for p in pythonpath)
    return subprocess.run([str(LINT), "--no-cache", "--no-logo"], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_tree_keeps_every_contract():
    r = lint(ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 broken" in r.stdout and "kept" in r.stdout


@pytest.fixture(scope="module")
def copy(tmp_path_factory):
    """The Python packages and the contracts, copied; the copy comes first on PYTHONPATH."""
    d = tmp_path_factory.mktemp("layers")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.png", "vectors")
    for p in PACKAGES:
        shutil.copytree(ROOT / p, d / p, ignore=ignore)
    shutil.copytree(ROOT / "firmware" / "lib" / "xinka", d / "firmware" / "lib" / "xinka",
                    ignore=ignore)
    shutil.copy(ROOT / ".importlinter", d / ".importlinter")
    return d


@pytest.mark.parametrize("module,line,contract", [
    ("host/wire/tap.py", "import verifier.services.ledger", "The top imports the bottom"),
    ("xinka/cbor.py", "from host import wire", "The top imports the bottom"),
    ("provisioning/flash.py", "from hardware.sim import runner", "The product imports neither"),
    ("authority/book.py", "import verifier.services.trust", "The top imports the bottom"),
    ("verifier/services/status.py", "from flask import current_app",
     "Verifier services never import Flask"),
    ("verifier/models/registry.py", "from verifier.services import registry",
     "commands and views over the extension over services over models"),
    ("bench/bench_verifier.py", "import tests.verifier.conftest",
     "Nothing but tests imports tests"),
])
def test_a_deliberate_violation_breaks_its_contract(copy, module, line, contract):
    path = copy / ("firmware/lib/" + module if module.startswith("xinka/") else module)
    original = path.read_text()
    path.write_text(original + "\n" + line + "\n")
    try:
        r = lint(copy, [copy, copy / "firmware" / "lib"])
    finally:
        path.write_text(original)
    assert r.returncode != 0, r.stdout
    broken = [ln for ln in r.stdout.splitlines() if ln.endswith("BROKEN")]
    assert any(contract in ln for ln in broken), r.stdout
    # the report names the import that was added (the clean tree breaks nothing: test above)
    assert pathlib.Path(module).stem in r.stdout and line.split()[1] in r.stdout
