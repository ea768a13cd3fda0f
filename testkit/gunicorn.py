"""The verifier served by gunicorn as docs/operator.md runs it (`-c
python:verifier.gunicorn_config 'verifier:create_app()'`), configured by `XINKA_*` variables,
for the multi-worker tests: `Served(env_vars, workers=2).start()`, `.url`, `.log_text()`,
`.stop()`.

`world_config(world, folder)` writes a sample world's authority key and status signing keys
as an operator would have them (PEM files) and returns the `XINKA_*` variables for them."""
import os
import pathlib
import re
import signal
import socket
import subprocess
import sys
import time

from cryptography.hazmat.primitives import serialization as ser

from hardware.sim.ports import free_port

from .verifier import identity_config

ROOT = pathlib.Path(__file__).resolve().parents[1]


def world_config(world, folder):
    folder = pathlib.Path(folder)
    keys = folder / "status-keys"
    keys.mkdir(parents=True, exist_ok=True)
    (folder / "authority.pem").write_bytes(world.authority.public_key().public_bytes(
        ser.Encoding.PEM, ser.PublicFormat.SubjectPublicKeyInfo))
    for agency_id, key in world.agency_keys.items():
        (keys / f"{agency_id}.pem").write_bytes(key.private_bytes(
            ser.Encoding.PEM, ser.PrivateFormat.PKCS8, ser.NoEncryption()))
    from host.wire import sample
    return {"XINKA_SECRET_KEY": identity_config()["SECRET_KEY"],  # every worker signs alike
            "XINKA_AUTHORITY_KEY": str(folder / "authority.pem"),
            "XINKA_STATUS_KEY_DIR": str(keys),
            "XINKA_STATUS_BASE_URL": "https://" + sample.STATUS_HOST,
            "XINKA_FIXED_NOW": str(world.now), "XINKA_STATUS_CHECK_MS": "0"}


class Served:
    def __init__(self, variables, folder, workers=2, bind_host="127.0.0.1", metrics=True):
        self.folder = pathlib.Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.workers = workers
        self.port = free_port()
        self.host = bind_host
        self.url = f"http://{bind_host}:{self.port}"
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("XINKA_", "PROMETHEUS_"))}
        env.update(variables)
        env["PYTHONPATH"] = str(ROOT)
        if metrics:
            env["PROMETHEUS_MULTIPROC_DIR"] = str(self.folder / "metrics")
        self.env = env
        self.log = self.folder / "gunicorn.log"
        self.access = self.folder / "access.log"
        self.proc = None

    def start(self):
        gunicorn = pathlib.Path(sys.executable).with_name("gunicorn")
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [str(gunicorn), "-c", "python:verifier.gunicorn_config", "--workers",
                 str(self.workers), "--bind", f"{self.host}:{self.port}", "--access-logfile",
                 str(self.access), "verifier:create_app()"],
                cwd=self.folder, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True)
        # up when every worker has booted (gunicorn logs one line per worker)
        deadline = time.monotonic() + 120
        while len(re.findall(r"Booting worker with pid", self.log_text())) < self.workers \
                or not self._listening():
            if self.proc.poll() is not None:
                raise RuntimeError("gunicorn exited:\n" + self.log_text())
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("gunicorn did not start in 120 s:\n" + self.log_text())
            time.sleep(0.1)
        return self

    def _listening(self):
        try:
            with socket.create_connection((self.host, self.port), timeout=1):
                return True
        except OSError:
            return False

    def log_text(self):
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def access_lines(self):
        return self.access.read_text(errors="replace").splitlines() \
            if self.access.exists() else []

    def pids_of(self, lines=None):
        return {m.group(1) for line in (lines or self.access_lines())
                for m in [re.search(r" pid <(\d+)> ", line)] if m}

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
