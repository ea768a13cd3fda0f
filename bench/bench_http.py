"""The verifier over real HTTP, one run, ratios printed (docs/performance.md, "Verifier over
HTTP").

    .venv/bin/python bench/bench_http.py [--seconds 5] [--connections 8]

gunicorn with 2 gthread workers (keep-alive; each its own app and trust snapshot,
STATUS_CHECK_MS 500) on a SQLite database set up with the sample world; `wrk` (Debian) with
keep-alive connections as the load generator, on GET /healthz and on POST /api/v1/verify with
fresh status taps (each request a new token; every wrk thread owns its badges and sends their
counters in order, so each tap is booked: replay bookkeeping included), interleaved rounds.
During the first verify round a second client sends hostile bodies (mutated taps as in
tests/verifier/test_fuzz.py) and counts accepted and 5xx answers: both must be 0.
"""
import argparse
import os
import pathlib
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from host.wire import sample  # noqa: E402
from hardware.sim.ports import free_port  # noqa: E402
from testkit.verifier import Env, make_app  # noqa: E402
from verifier.migrate import upgrade  # noqa: E402

N_BADGES = 64
THREADS = 2
ROUNDS = 3

def wrk(url, seconds, connections, script=None, args=()):
    cmd = ["wrk", "-t", str(THREADS), "-c", str(connections), "-d", f"{seconds}s"]
    if script:
        cmd += ["-s", script]
    out = subprocess.run(cmd + [url, *args], capture_output=True, text=True, check=True).stdout
    total = int(re.search(r"(\d+) requests in", out).group(1))
    secs = float(re.search(r"requests in ([\d.]+)s", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return total, secs, int(bad.group(1)) if bad else 0


def hostile(port, world, n):
    """Mutated taps (as tests/verifier/test_fuzz.py) -> (sent, accepted, 5xx)."""
    rng = random.Random(7)
    b = world.badges[-1]
    bases = [b.tap("status") + b.credential, b.tap("consent", scope=5) + b.credential]
    accepted = fivexx = 0
    for k in range(n):
        data = bytearray(bases[k % 2])
        for _ in range(rng.randint(1, 3)):
            data[rng.randrange(len(data))] ^= rng.randint(1, 255)
        if rng.random() < 0.3:
            data = data[:rng.randrange(len(data))]
        req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/verify",
                                     data=bytes(data), method="POST",
                                     headers={"Content-Type": "application/cbor"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                accepted += r.status == 200
        except urllib.error.HTTPError as err:
            fivexx += err.code >= 500
    return n, accepted, fivexx


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--seconds", type=int, default=5)
    p.add_argument("--connections", type=int, default=8)
    p.add_argument("--hostile", type=int, default=300)
    args = p.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk)")
    tmp = pathlib.Path(tempfile.mkdtemp())
    url = f"sqlite:///{tmp}/http.sqlite"
    upgrade(url)
    world = sample.World(n_agencies=2, n_badges=N_BADGES)
    env = Env(make_app(url, world), world)
    env.x.db.engine.dispose()
    # fresh tokens: thread k owns badges k, k+THREADS, ...; round-robin over its badges
    per_thread = 20_000 * args.seconds * ROUNDS // 5
    for k in range(THREADS):
        mine = [b for i, b in enumerate(world.badges[:-1]) if i % THREADS == k]
        with open(tmp / f"tokens_{k}.hex", "w") as f:
            for j in range(per_thread):
                b = mine[j % len(mine)]
                f.write((b.tap("status") + b.credential).hex() + "\n")
    (tmp / "verify.lua").write_text(_lua())
    port = free_port()
    proc = subprocess.Popen(
        [str(pathlib.Path(sys.executable).parent / "gunicorn"), "--workers", "2",
         "--worker-class", "gthread", "--threads", "4",     # gthread: keep-alive
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
         f"testkit.verifier_server:wsgi({url!r}, {N_BADGES}, 500)"],
        cwd=ROOT, start_new_session=True)
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        health = verify = 0.0
        used, v_bad, hostile_result = 0, 0, {}
        for rnd in range(ROUNDS):               # interleaved rounds, best of each
            h_total, h_secs, h_bad = wrk(base + "/healthz", args.seconds, args.connections)
            health = max(health, (h_total - h_bad) / h_secs)
            t = threading.Thread(target=lambda: hostile_result.update(
                zip(("sent", "accepted", "5xx"), hostile(port, world, args.hostile),
                    strict=True)))
            if rnd == 0:
                t.start()
            total, secs, bad = wrk(base + "/api/v1/verify", args.seconds, args.connections,
                                   str(tmp / "verify.lua"), [str(tmp), str(used)])
            if rnd == 0:
                t.join()
            used, v_bad = used + total, v_bad + bad
            verify = max(verify, (total - bad) / secs)
            assert used < per_thread, "not enough fresh tokens: raise per_thread"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
    print(f"gunicorn 2 workers, wrk -t{THREADS} -c{args.connections} -d{args.seconds}s "
          f"(keep-alive), SQLite")
    print(f"  GET /healthz        {health:8.0f} /s  (best of {ROUNDS} rounds)")
    print(f"  POST /api/v1/verify {verify:8.0f} /s  fresh taps, each accepted and booked "
          f"({used} requests, {v_bad} non-2xx)")
    print(f"  ratio verify/healthz {verify / health:.3f}  (goal >= 0.5)")
    print(f"  hostile bodies during the verify load: {hostile_result.get('sent')} sent, "
          f"{hostile_result.get('accepted')} accepted, {hostile_result.get('5xx')} 5xx")
    shutil.rmtree(tmp, ignore_errors=True)


def _lua():
    return r"""
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end
local bodies, i = {}, 0
function init(args)
  i = tonumber(args[2])
  local f = assert(io.open(args[1] .. "/tokens_" .. id .. ".hex", "r"))
  for line in f:lines() do
    bodies[#bodies + 1] = (line:gsub("..", function(cc) return string.char(tonumber(cc, 16)) end))
  end
  f:close()
end
function request()
  i = i + 1
  local b = bodies[((i - 1) % #bodies) + 1]
  return wrk.format("POST", nil, {["Content-Type"] = "application/cbor"}, b)
end
"""


if __name__ == "__main__":
    main()
