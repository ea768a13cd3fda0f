"""Memory of a verifier process holding every agency's status list, one run.

    .venv/bin/python bench/bench_status_rss.py [--agencies 19000] [--indices 16700000]

A process that imports the verifier and builds its app (as a gunicorn worker does), then loads
one signed status list per agency, sizes drawn from a skewed distribution (a few of 50 000, most
under 1 000) summing to --indices, into the trust store's snapshot dict; VmRSS
(/proc/self/status) before and after. Goal: < 200 MB per worker.
"""
import argparse
import pathlib
import random
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from host.wire import sample  # noqa: E402
from host.wire.status import StatusList, StatusListToken, build_status_list  # noqa: E402
from testkit.verifier import make_app  # noqa: E402
from verifier.services.trust import Snapshot  # noqa: E402


def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def sizes(agencies, total, rng):
    """A few 50 k agencies, most small (Pareto), scaled to sum to total."""
    raw = [min(50_000, int(rng.paretovariate(1.1) * 120)) for _ in range(agencies)]
    for k in range(min(10, agencies)):
        raw[k] = 50_000
    scale = (total - 50_000 * min(10, agencies)) / max(1, sum(raw[10:]))
    out = raw[:10] + [max(16, min(50_000, int(r * scale))) for r in raw[10:]]
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--agencies", type=int, default=19_000)
    p.add_argument("--indices", type=int, default=16_700_000)
    args = p.parse_args()
    rng = random.Random(1)
    world = sample.World(n_agencies=2, n_badges=2)
    app = make_app(f"sqlite:///{tempfile.mkdtemp()}/rss.sqlite", world)
    store = app.extensions["xinka"].store
    key = sample.secret("bench authority")
    n = sizes(args.agencies, args.indices, rng)
    tokens = []
    for i, size in enumerate(n):
        lst = StatusList(size)
        for j in range(0, size, 97):
            lst.set(j, 1)
        tokens.append(build_status_list(key, f"https://v.example.cn/sl/A{i:06d}", lst, 1,
                                        sample.NOW, sample.NOW + 86400, 3600))
    before = rss_mb()
    t = time.perf_counter()
    lists = {}
    for tok in tokens:
        lst = StatusListToken.load(tok, key.public_key(), sample.NOW)
        lists[lst.uri] = lst
    load_s = time.perf_counter() - t
    store.snapshot = Snapshot(None, lists)
    del tokens
    after = rss_mb()
    print(f"{len(n)} agencies, {sum(n)} indices (largest {max(n)}, median "
          f"{sorted(n)[len(n) // 2]}); loaded and verified in {load_s:.1f} s")
    print(f"VmRSS with the app built {before:.0f} MB (tokens held), with every list loaded "
          f"{after:.0f} MB (goal < 200 MB)")


if __name__ == "__main__":
    main()
