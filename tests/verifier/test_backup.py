"""Backups that restore: the operator guide's backup block (docs/operator.md "Backups": SQLite's
online backup, `pg_dump`/`pg_restore`) runs against a live verifier process while a terminal
uploads check-in batches; the copy then passes `audit-verify` (the guide's own last line), and
a verifier started on it has a consistent ledger (every batch in whole or not at all, each
check-in with its tap and its attendance count, every batch acknowledged before the backup
began), the same signed status lists, and goes on ingesting exactly once: re-sending
everything books what the copy lacked and calls the rest duplicate."""
import os
import pathlib
import re
import shutil
import subprocess
import sys
import threading
import time
import types
import urllib.error

import pytest
from sqlalchemy import func, select

from host.wire import StatusListToken
from tests.verifier.test_concurrency import Server, counts, setup
from testkit.gunicorn import world_config
from testkit.pg import find_bin
from testkit.verifier import make_app
from verifier.models import Checkin

ROOT = pathlib.Path(__file__).resolve().parents[2]
BATCH = 100


def guide_block(tag, must):
    """The ```sh <tag> block of docs/operator.md that contains `must`."""
    text = (ROOT / "docs" / "operator.md").read_text(encoding="utf-8")
    found = [b for b in re.findall(r"^```sh %s\n(.*?)^```" % tag, text, re.S | re.M)
             if must in b]
    assert len(found) == 1, f"no single ```sh {tag} block with {must!r} in docs/operator.md"
    return found[0]


def run_block(block, cwd, env):
    r = subprocess.run(["bash", "-c", "set -euo pipefail\n" + block], cwd=cwd, env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"{block}\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}"
    return r.stdout


def shell_env(world, folder, path_dirs=()):
    bindir = str(pathlib.Path(sys.executable).parent)
    env = {k: v for k, v in os.environ.items() if not k.startswith("XINKA_")}
    env.update(world_config(world, folder), PYTHONPATH=str(ROOT),
               PATH=os.pathsep.join([bindir, *path_dirs, os.environ.get("PATH", "")]))
    return env


def ingest_while(server, token, batches, backup):
    """Send the batches one after another from a thread; once two are acknowledged, run
    backup(). The last batch waits until backup() has returned, so the ingest spans the
    backup whatever the two take on a loaded machine: batches acknowledged before it began,
    others sent while it ran, one after it ended. Returns (nonces acknowledged before the
    backup began, backup()'s result)."""
    acked, errors, done = [], [], threading.Event()

    def sender():
        for n, batch in enumerate(batches):
            if n == len(batches) - 1:
                done.wait()
            try:
                res = server.post(token, batch)["results"]
            except (urllib.error.URLError, OSError) as err:
                errors.append(repr(err))
                return
            if any(r["result"] != "accepted" for r in res):
                errors.append(repr(res))
                return
            acked.append(batch)

    t = threading.Thread(target=sender)
    t.start()
    while len(acked) < 2 and t.is_alive():
        time.sleep(0.005)
    before = {i["receipt"]["nonce"] for b in list(acked) for i in b}
    try:
        out = backup()
        still_sending = t.is_alive()
    finally:
        done.set()
        t.join()
    assert errors == []
    assert len(batches) > 3 and still_sending and len(acked) == len(batches)
    return before, out


def check_restored(url, env, a, items, before, lists):
    """A verifier on the restored database: consistent ledger, same status lists, and ingest
    that goes on exactly once."""
    restored = make_app(url, env.world)
    x = restored.extensions["xinka"]
    with x.db.session() as s:
        x.store.refresh(s, env.world.now, force=True)
    n_checkins, n_taps, att, nonces = counts(types.SimpleNamespace(x=x))
    all_nonces = {i["receipt"]["nonce"] for i in items}
    assert n_checkins == n_taps == att == len(nonces)         # no half-written check-in
    assert before <= nonces <= all_nonces                     # nothing acknowledged is lost
    by_batch = [{i["receipt"]["nonce"] for i in items[k:k + BATCH]}
                for k in range(0, len(items), BATCH)]
    assert all(b <= nonces or not (b & nonces) for b in by_batch)   # batches whole or absent
    assert len(nonces) < len(all_nonces)                      # it was taken mid-ingest
    client = restored.test_client()
    for agency in env.world.agencies:
        r = client.get(f"/sl/{agency.id}")
        assert r.status_code == 200 and r.data == lists[agency.id]
        StatusListToken.load(r.data, env.world.agency_keys[agency.id].public_key(),
                             env.world.now)
    results = []
    for k in range(0, len(items), BATCH):
        r = client.post("/api/v1/checkins", json={"items": items[k:k + BATCH]},
                        headers={"Authorization": f"Bearer {env.terminals[a][1]}"})
        assert r.status_code == 200, r.get_json()
        results += [res["result"] for res in r.get_json()["results"]]
    assert results.count("accepted") == len(all_nonces - nonces)
    assert results.count("duplicate") == len(nonces)
    with x.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Checkin)) == len(all_nonces)
    x.db.engine.dispose()


def status_lists(env):
    client = env.app.test_client()
    return {agency.id: client.get(f"/sl/{agency.id}").data for agency in env.world.agencies}


def backup_mid_ingest(url, env, a, items, block, cwd, shell):
    """Run the guide's block in cwd while a live verifier on url ingests items; the nonces
    acknowledged before it began. The block's output must end in a good audit chain."""
    server = Server(url)
    try:
        before, out = ingest_while(server, env.terminals[a][1],
                                   [items[k:k + BATCH] for k in range(0, len(items), BATCH)],
                                   lambda: run_block(block, cwd, shell))
    finally:
        server.kill()
    assert "audit chain ok" in out
    return before


def test_sqlite_online_backup_mid_ingest_restores(request, tmp_path):
    live = tmp_path / "live"
    live.mkdir()
    shutil.copy(request.getfixturevalue("sqlite_template"), live / "xinka.sqlite")
    url = f"sqlite:///{live / 'xinka.sqlite'}"
    env, a, items = setup(url, 1000)
    lists = status_lists(env)
    before = backup_mid_ingest(url, env, a, items, guide_block("runnable", ".backup"), live,
                               shell_env(env.world, tmp_path / "config"))
    (copy,) = live.glob("backup-*.sqlite")
    check_restored(f"sqlite:///{copy}", env, a, items, before, lists)


def test_pg_dump_mid_ingest_restores(request, tmp_path):
    from tests.verifier.conftest import new_database
    url = new_database("postgresql", request, tmp_path)
    cluster = request.getfixturevalue("pg_cluster")
    name = f"xk_restore_{os.getpid()}"
    cluster.admin(f"CREATE DATABASE {name}")                  # empty: no schema, no rows
    restore_url = cluster.url(name)
    env, a, items = setup(url, 1000)
    lists = status_lists(env)
    tools = find_bin("pg_dump")
    if tools is None:
        pytest.fail("pg_dump not found (Debian's postgresql package)")
    shell = shell_env(env.world, tmp_path / "config", [str(pathlib.Path(tools).parent)])
    shell.update(XINKA_DATABASE_URL=url, RESTORE_URL=restore_url)
    before = backup_mid_ingest(url, env, a, items, guide_block("postgresql", "pg_dump"),
                               tmp_path, shell)
    check_restored(restore_url, env, a, items, before, lists)
    env.x.db.engine.dispose()
