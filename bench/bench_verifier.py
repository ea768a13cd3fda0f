"""Verifier benchmarks, one run, ratios printed (docs/performance.md, "Verifier").

    .venv/bin/python bench/bench_verifier.py [--workers 200000] [--quick] [--verify-only]
                                             [--hot-paths]

1. verification: HTTP API (Flask test client, in process) vs host.wire.verify_tap vs the bare
   ECDSA verify (cryptography) that bounds it;
2. check-in ingest into SQLite and PostgreSQL, batches of 100 (service level,
   `ingest.run_batch`: verification, then one transaction per batch), against the bare ECDSA
   verify of the same items' tokens (goal: >= 0.25 on both);
3. a status list for 16.7 M badges: token size, load time, memory, lookup rate;
4. "who is missing" for N workers x 12 months on PostgreSQL: the full report (present and
   missing) and the missing-only keyset query (first page; every page), as ratios.
"""
import argparse
import pathlib
import sys
import tempfile
import time
import tracemalloc

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402

from host import wire  # noqa: E402
from host.wire import sample  # noqa: E402
from host.wire.status import StatusList, StatusListToken, build_status_list  # noqa: E402
from testkit.verifier import Env, make_app  # noqa: E402
from testkit.pg import Cluster  # noqa: E402
from verifier.migrate import upgrade  # noqa: E402
from verifier.services import ingest  # noqa: E402


def rate(fn, n):
    t = time.perf_counter()
    for i in range(n):
        fn(i)
    return n / (time.perf_counter() - t)


def _bare_jobs(tokens, badges):
    """The bare ECDSA verify (cryptography) of each token with its badge's key, signature
    and signed bytes prepared: a list of calls to time."""
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
    algo = ec.ECDSA(hashes.SHA256())
    jobs = []
    for tok, b in zip(tokens, badges, strict=True):
        msg = wire.parse_sign1(tok, 256)
        sig = msg.signature
        der = encode_dss_signature(int.from_bytes(sig[:32], "big"),
                                   int.from_bytes(sig[32:], "big"))
        tbs = wire.encode(["Signature1", msg.protected_bytes, b"", msg.payload_bytes])
        pub = b.key.public_key()
        jobs.append(lambda pub=pub, der=der, tbs=tbs: pub.verify(der, tbs, algo))
    return jobs


def _bare(tokens, badges):
    jobs = _bare_jobs(tokens, badges)
    return rate(lambda i: jobs[i](), len(jobs))


def bench_verify(url, n):
    world = sample.World(n_agencies=2, n_badges=8)
    # the production default: the list version read at most every 500 ms
    env = Env(make_app(url, world, STATUS_CHECK_MS=500), world)
    b = world.badges[0]
    toks = [b.tap("status") for _ in range(n)]
    trust = wire.TrustList.load(world.trust_list, world.authority, world.now)
    cache = wire.CredentialCache()
    bare = _bare(toks, [b] * n)
    lib = rate(lambda i: wire.verify_tap(toks[i], b.credential, trust, world.now, cache=cache), n)
    health = rate(lambda i: env.client.get("/healthz"), n)
    api = rate(lambda i: env.client.post("/api/v1/verify", data=toks[i] + b.credential,
                                         content_type="application/cbor"), n)
    with env.x.db.session() as s:          # every tap was fresh and booked
        from sqlalchemy import func, select
        from verifier.models import Tap
        assert s.scalar(select(func.count()).select_from(Tap)) == n
    env.x.db.engine.dispose()
    return bare, lib, api, health


def bench_ingest(url, batches):
    """(items/s of ingest.run_batch, items/s of the bare ECDSA verify of the same tokens, the
    same in one tight loop). The first two are timed batch by batch in turn (the bare verify
    of a batch's tokens, then its ingest), so that a machine slowing down in the middle slows
    both; the tight loop afterwards is the bare verify at its best (warm caches), the stricter
    bound. The link codes are kept, as the API does (its terminal's token)."""
    from xinka import linkcode
    world = sample.World(n_agencies=2, n_badges=64)
    env = Env(make_app(url, world), world)
    a = world.agencies[0].id
    mine = [i for i, bd in enumerate(world.badges) if bd.agency_id == a]
    items = [env.checkin_item(mine[k % len(mine)], t=world.now - 100000 + k)
             for k in range(batches * 100)]
    jobs = _bare_jobs([_unb64(it["token"]) for it in items],
                      [world.badges[mine[k % len(mine)]] for k in range(len(items))])
    x = env.x
    with x.db.session() as s:
        from verifier.models import Terminal
        term = s.get(Terminal, env.terminals[a][0])
        s.expunge(term)
    snap = x.store.snapshot
    key = linkcode.link_key(env.terminals[a][1])
    t_bare = t_ingest = 0.0
    for k in range(batches):
        t = time.perf_counter()
        for job in jobs[k * 100:(k + 1) * 100]:
            job()
        t_bare += time.perf_counter() - t
        t = time.perf_counter()
        res = ingest.run_batch(x.db, snap, term, items[k * 100:(k + 1) * 100], world.now,
                               x.policy, "Asia/Shanghai", 1, x.store.cache, link_key=key)
        t_ingest += time.perf_counter() - t
        assert all(r["result"] == "accepted" for r in res), res[:2]
    with x.db.session() as s:              # every item booked once, counted once
        from sqlalchemy import func, select
        from verifier.models import Attendance, Checkin, LinkCode, Tap
        assert s.scalar(select(func.count()).select_from(Checkin)) == len(items)
        assert s.scalar(select(func.count()).select_from(Tap)) == len(items)
        assert s.scalar(select(func.count()).select_from(LinkCode)) == len(items)
        assert s.scalar(select(func.sum(Attendance.count))) == len(items)
    x.db.engine.dispose()
    tight = rate(lambda i: jobs[i](), len(jobs))      # all in one loop, after: the best case
    return len(items) / t_ingest, len(items) / t_bare, tight


def _unb64(text):
    import base64
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def bench_status_list():
    n = 16_700_000
    key = sample.secret("bench agency")
    lst = StatusList(n)
    for i in range(0, n, 97):        # ~1 % revoked or suspended
        lst.set(i, 1 if i % 2 else 2)
    token = build_status_list(key, "https://v.example.cn/sl/X", lst, 1, sample.NOW,
                              sample.NOW + 86400, 3600)
    tracemalloc.start()
    t = time.perf_counter()
    loaded = StatusListToken.load(token, key.public_key(), sample.NOW)
    load_s = time.perf_counter() - t
    mem = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    get = loaded.statuses.get
    idx = [(i * 7919) % n for i in range(1_000_000)]
    t = time.perf_counter()
    for i in idx:
        get(i)
    lookups = len(idx) / (time.perf_counter() - t)
    return len(token), load_s, mem, lookups


def bench_missing(cluster, workers):
    import psycopg
    cluster.admin("CREATE DATABASE xk_bench_missing")
    url = cluster.url("xk_bench_missing")
    upgrade(url)
    with psycopg.connect(url, autocommit=True) as c:
        c.execute("INSERT INTO agencies VALUES ('A1', 'bench', 0)")
        c.execute("INSERT INTO workers (agency_id, worker_ref, state, created_at) "
                  "SELECT 'A1', 'W' || g, 'active', 0 FROM generate_series(1, %s) g",
                  (workers,))
        t = time.perf_counter()
        # 12 months; each month ~5 % of the workers are missing
        c.execute("INSERT INTO attendance (agency_id, period, worker_ref, first_at, last_at, "
                  "first_terminal, last_terminal, count) "
                  "SELECT 'A1', '2026-' || lpad(m::text, 2, '0'), 'W' || g, 0, 0, 'T', 'T', 1 "
                  "FROM generate_series(1, 12) m, generate_series(1, %s) g "
                  "WHERE (g * 31 + m * 17) %% 20 <> 0", (workers,))
        fill = time.perf_counter() - t
        c.execute("ANALYZE")
    from verifier.db import make_engine
    from sqlalchemy import text
    from sqlalchemy.orm import Session
    from verifier.services import attendance
    eng = make_engine(url)
    with Session(eng) as s:
        s.execute(text("SELECT 1"))     # connect outside the timings
        # missing-only first (the colder cache), then the full report
        t = time.perf_counter()
        page = attendance.missing_page(s, "A1", "2026-06", "Asia/Shanghai", 1, 500)
        first = time.perf_counter() - t
        assert len(page["missing"]) == 500
        t, cursor, n_missing, pages = time.perf_counter(), None, 0, 0
        while True:
            page = attendance.missing_page(s, "A1", "2026-06", "Asia/Shanghai", 1, 500, cursor)
            n_missing, pages, cursor = n_missing + len(page["missing"]), pages + 1, \
                page["next_cursor"]
            if cursor is None:
                break
        whole = time.perf_counter() - t
        t = time.perf_counter()
        rep = attendance.report(s, "A1", "2026-06", "Asia/Shanghai", 1)
        q = time.perf_counter() - t
    eng.dispose()
    assert n_missing == rep["missing_count"]
    return fill, q, rep["missing_count"], rep["present_count"], first, whole, pages


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--workers", type=int, default=200_000)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--verify-only", action="store_true", help="section 1 only")
    p.add_argument("--hot-paths", action="store_true",
                   help="sections 1 and 2: verify vs healthz, ingest vs bare ECDSA")
    args = p.parse_args()
    n = 300 if args.quick else 2000
    cluster = Cluster().start()
    tmp = tempfile.mkdtemp()
    try:
        sq = f"sqlite:///{tmp}/bench.sqlite"
        upgrade(sq)
        bare, lib, api, health = bench_verify(sq, n)
        print(f"verify/s  bare ECDSA {bare:8.0f}   library {lib:8.0f}   HTTP API {api:8.0f}"
              f"   GET /healthz {health:8.0f}")
        print(f"  ratios  library/bare {lib / bare:.2f}   API/library {api / lib:.2f}"
              f"   API/bare {api / bare:.2f}   API/healthz {api / health:.2f} (goal >= 0.5)")
        if args.verify_only:
            return
        cluster.admin("CREATE DATABASE xk_bench_ingest")
        pg = cluster.url("xk_bench_ingest")
        upgrade(pg)
        sq2 = f"sqlite:///{tmp}/ingest.sqlite"
        upgrade(sq2)
        nb = 5 if args.quick else 30
        (r_sq, bare_sq, tight_sq), (r_pg, bare_pg, tight_pg) = \
            bench_ingest(sq2, nb), bench_ingest(pg, nb)
        print(f"ingest check-ins/s (batches of 100, {nb} batches)  SQLite {r_sq:7.0f}   "
              f"PostgreSQL {r_pg:7.0f}   ratio PG/SQLite {r_pg / r_sq:.2f}")
        print(f"  bare ECDSA verify of the same items, batch by batch in turn with the ingest "
              f"{bare_sq:7.0f} / {bare_pg:7.0f} per s:  ingest/bare SQLite {r_sq / bare_sq:.3f}"
              f"   PostgreSQL {r_pg / bare_pg:.3f} (goal >= 0.25)")
        print(f"  bare ECDSA verify, all in one loop {tight_sq:7.0f} / {tight_pg:7.0f} per s:  "
              f"ingest/bare SQLite {r_sq / tight_sq:.3f}   PostgreSQL {r_pg / tight_pg:.3f}")
        if args.hot_paths:
            return
        size, load_s, mem, lookups = bench_status_list()
        print(f"status list 16.7 M: token {size / 1024:.0f} KiB, load {load_s * 1000:.0f} ms, "
              f"memory {mem / 2**20:.1f} MiB, {lookups / 1e6:.2f} M lookups/s")
        fill, q, missing, present, first, whole, pages = bench_missing(cluster, args.workers)
        print(f"who is missing: {args.workers} workers x 12 months ({args.workers * 12 * 19 // 20} "
              f"attendance rows, filled in {fill:.1f} s): full report {q * 1000:.0f} ms "
              f"(missing {missing}, present {present})")
        print(f"  missing-only, pages of 500: first page {first * 1000:.1f} ms "
              f"(ratio to full report {first / q:.4f}), whole set {whole * 1000:.0f} ms in "
              f"{pages} pages (ratio {whole / q:.3f})")
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
