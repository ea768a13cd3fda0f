"""Fixtures for the authority tool: a bureau folder made by the real `xinka-authority init`,
agency keys as public PEM files (what an agency hands over), and the real verifier (on SQLite
and PostgreSQL, the verifier tests' database fixtures) served over HTTP for `publish` to push
to, with an operator key and an agency key made by its own commands."""
import pytest
from cryptography.hazmat.primitives import serialization

from authority import cli
from host.wire import keys
from tests.verifier.conftest import db_kind, db_url, pg_cluster, sqlite_template  # noqa: F401
from testkit.browser import LiveServer
from verifier import create_app

PASSPHRASE = "bureau passphrase 2026"
AUTHORITY_ID = "CN-ZJ-HZ-COMMERCE"


class Tool:
    """Runs `xinka-authority --dir <folder> ...` in-process (its `main`, the console script's
    entry point) with the passphrase in the environment, as an operator's shell would."""

    def __init__(self, folder, monkeypatch, capsys):
        self.folder, self.capsys = folder, capsys
        monkeypatch.setenv("BUREAU_PASSPHRASE", PASSPHRASE)
        for name in ("BUREAU_DIR", "BUREAU_API_KEY", "BUREAU_VERIFIER", "BUREAU_LOG_LEVEL"):
            monkeypatch.delenv(name, raising=False)

    def __call__(self, *args, expect=0):
        self.capsys.readouterr()
        rc = cli.main(["--dir", str(self.folder)] + [str(a) for a in args])
        out = self.capsys.readouterr()
        assert rc == expect, f"exit {rc} (expected {expect})\n{out.out}\n{out.err}"
        return out.out + out.err

    def book(self):
        return (self.folder / "authority.json").read_bytes()


@pytest.fixture
def tool(tmp_path, monkeypatch, capsys):
    t = Tool(tmp_path / "bureau", monkeypatch, capsys)
    t("init", "--id", AUTHORITY_ID)
    return t


def public_pem_file(path, key):
    path.write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return path


@pytest.fixture
def agency_key(tmp_path):
    key = keys.generate()
    return key, public_pem_file(tmp_path / "agency.pub.pem", key)


class Verifier:
    def __init__(self, url, anchor, status_keys):
        self.app = create_app({"DATABASE_URL": url, "AUTHORITY_KEY": str(anchor),
                               "STATUS_SIGNING_KEYS": status_keys,
                               "STATUS_BASE_URL": "https://v.example.cn",
                               "RATE_LIMIT_PER_MIN": 0, "STATUS_CHECK_MS": 0})
        self.x = self.app.extensions["xinka"]
        runner = self.app.test_cli_runner()
        r = runner.invoke(args=["apikey-create", "--label", "bureau"])
        assert r.exit_code == 0, r.output
        self.operator = r.stdout.strip()
        self.server = LiveServer(self.app)
        self.url = self.server.url
        self.client = self.app.test_client()

    def held_seq(self):
        with self.x.db.session() as s:
            trust = self.x.store.refresh(s, self.x.now(), force=True).trust
        return None if trust is None else trust.seq

    def stop(self):
        self.server.stop()
        self.x.db.engine.dispose()
