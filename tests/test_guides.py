"""The operator guide's commands are the real ones: every ```sh runnable block of
docs/operator.md runs, in order, in one bash shell in an empty folder, against the real CLI
(SQLite, a free port)."""
import os
import pathlib
import re
import subprocess
import sys

from hardware.sim.ports import free_port

ROOT = pathlib.Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^```sh runnable\n(.*?)^```", re.S | re.M)


def blocks(path):
    return FENCE.findall(path.read_text(encoding="utf-8"))


def test_operator_guide_runnable_blocks(tmp_path):
    found = blocks(ROOT / "docs" / "operator.md")
    assert len(found) >= 6
    script = ["set -euo pipefail"]
    for i, b in enumerate(found, 1):
        script += [f"echo '### block {i}'", b]
    bindir = str(pathlib.Path(sys.executable).parent)
    env = dict(os.environ, PORT=str(free_port()), PYTHONPATH=str(ROOT),
               PATH=bindir + os.pathsep + os.environ.get("PATH", ""))
    env = {k: v for k, v in env.items() if not k.startswith("XINKA_")}
    try:
        r = subprocess.run(["bash", "-c", "\n".join(script)], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=300)
    finally:
        pid = tmp_path / "gunicorn.pid"
        if pid.exists():
            subprocess.run(["kill", pid.read_text().strip()], capture_output=True)
    last = [ln for ln in r.stdout.splitlines() if ln.startswith("### block")]
    assert r.returncode == 0, f"{last[-1:]} failed:\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}"
    assert f"### block {len(found)}" in r.stdout
    assert "console login page: 200" in r.stdout
    assert "audit chain ok" in r.stdout
    assert "compact list for terminals: 200" in r.stdout
    assert "older list refused (exit 54)" in r.stdout
