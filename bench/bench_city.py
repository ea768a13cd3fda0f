"""The bureau console's city page at city scale, one run, ratios to the 1 s goal printed
(docs/performance.md, "The bureau console").

    .venv/bin/python bench/bench_city.py [--workers 1000000] [--quick] [--months 1]
                                         [--db both|sqlite|postgresql] [--profile]

On PostgreSQL (the throw-away cluster of testkit/pg.py) and on SQLite: a city of N active
workers in ~200 skewed agencies (testkit/city.py: badges, a month of attendance, complaints
across their states, credit records and grades, bans), then, through the Flask test client
signed in as bureau staff, after `flask city-refresh` has counted the figures (timed: the
count the timer makes every 5 minutes; services/city_figures.py): `GET /bureau/` (one
warm-up, then median and worst of --rounds), the agencies CSV, the city XLSX, the largest
agency's page, and `GET /healthz` as the bound. Rounds are interleaved (each round asks for
every page once).
"""
import argparse
import cProfile
import io
import pathlib
import pstats
import statistics
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from host.wire import sample  # noqa: E402
from testkit import city  # noqa: E402
from testkit.pg import Cluster  # noqa: E402
from testkit.verifier import console_login, make_app  # noqa: E402
from verifier.db import make_engine  # noqa: E402
from verifier.migrate import upgrade  # noqa: E402

GOAL_S = 1.0
NOW = sample.NOW + 25 * city.DAY         # 25 days into the period "2027-01"
USER, PASSWORD = "bench-bureau", "bench bureau 12"


def pages(largest):
    return (("GET /bureau/ (city page)", "/bureau/"),
            ("GET /bureau/agencies.csv", "/bureau/agencies.csv"),
            ("GET /bureau/city.xlsx", "/bureau/city.xlsx"),
            (f"GET /bureau/agencies/{largest} (largest)", f"/bureau/agencies/{largest}"),
            ("GET /healthz (bound)", "/healthz"))


def timed(client, path):
    t = time.perf_counter()
    r = client.get(path)
    dt = time.perf_counter() - t
    assert r.status_code == 200, (path, r.status_code, r.text[:300])
    return dt, r


def bench_db(name, url, workers, months, rounds, profile):
    upgrade(url)
    engine = make_engine(url)
    world = city.fill(engine, workers, NOW, months=months)
    engine.dispose()
    print(f"{name}: {workers} active workers in {len(world.agencies)} agencies (largest "
          f"{world.largest}, {max(a[2] for a in world.agencies)} workers), built in "
          f"{world.seconds:.1f} s: " + ", ".join(f"{t} {n}" for t, n in world.rows.items()),
          flush=True)
    app = make_app(url, sample.World(n_agencies=2, n_badges=2), FIXED_NOW=NOW,
                   CITY_FIGURES_MAX_AGE_S=900)
    out = app.test_cli_runner().invoke(args=["bureau-staff-create", USER, "--password",
                                             PASSWORD])
    assert out.exit_code == 0, out.output
    t = time.perf_counter()
    out = app.test_cli_runner().invoke(args=["city-refresh"])     # what the timer runs
    counting = time.perf_counter() - t
    assert out.exit_code == 0 and f"{workers} active workers" in out.output, out.output
    client = console_login(app.test_client(), USER, PASSWORD)
    todo = pages(world.largest)
    warm, r = timed(client, "/bureau/")
    assert f'data-workers="{workers}"' in r.text, "the city page's total is not the city's"
    times = {path: [] for _, path in todo}
    for _ in range(rounds):
        for _, path in todo:
            times[path].append(timed(client, path)[0])
    if profile:
        prof = cProfile.Profile()
        prof.enable()
        timed(client, "/bureau/")
        prof.disable()
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(30)
        print(buf.getvalue())
    app.extensions["xinka"].db.engine.dispose()
    return warm, [(label, times[path]) for label, path in todo], world, counting


def report(name, warm, rows, counting):
    print(f"\n{name}   (flask city-refresh, the count the timer makes every 5 min: "
          f"{counting:.1f} s; warm-up GET /bureau/ {warm * 1000:.0f} ms)")
    print(f"  {'request':44} {'median ms':>10} {'worst ms':>10} {'median/1 s':>11} "
          f"{'worst/1 s':>10}")
    for label, ts in rows:
        med, worst = statistics.median(ts), max(ts)
        mark = "" if label.startswith("GET /healthz") else \
            ("  ok" if worst < GOAL_S else "  MISSED")
        print(f"  {label:44} {med * 1000:10.1f} {worst * 1000:10.1f} {med / GOAL_S:11.3f} "
              f"{worst / GOAL_S:10.3f}{mark}")
    page = dict(rows)["GET /bureau/ (city page)"]
    health = statistics.median(dict(rows)["GET /healthz (bound)"])
    print(f"  city page / healthz (medians): {statistics.median(page) / health:.0f}x")


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--workers", type=int, default=None, help="active workers (1 000 000)")
    p.add_argument("--quick", action="store_true", help="a smoke run: 5 000 workers, 2 rounds")
    p.add_argument("--months", type=int, default=1, help="periods of attendance (1)")
    p.add_argument("--rounds", type=int, default=None, help="timed requests per page (5)")
    p.add_argument("--db", choices=("both", "sqlite", "postgresql"), default="both")
    p.add_argument("--profile", action="store_true", help="cProfile one city page per db")
    args = p.parse_args(argv)
    workers = args.workers or (5000 if args.quick else 1_000_000)
    rounds = args.rounds or (2 if args.quick else 5)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        if args.db in ("both", "postgresql"):
            cluster = Cluster().start()
            try:
                cluster.admin("CREATE DATABASE xk_bench_city")
                results.append(("PostgreSQL", *bench_db(
                    "PostgreSQL", cluster.url("xk_bench_city"), workers, args.months, rounds,
                    args.profile)))
            finally:
                cluster.stop()
        if args.db in ("both", "sqlite"):
            results.append(("SQLite", *bench_db(
                "SQLite", f"sqlite:///{tmp}/city.sqlite", workers, args.months, rounds,
                args.profile)))
    print(f"\nbureau console, {workers} active workers, {args.months} month(s) of attendance; "
          f"one warm-up, then {rounds} interleaved rounds; goal < {GOAL_S:.0f} s")
    for name, warm, rows, _world, counting in results:
        report(name, warm, rows, counting)
    missed = [name for name, _, rows, _, _ in results
              if max(dict(rows)["GET /bureau/ (city page)"]) >= GOAL_S]
    print("\nRESULT " + " ".join(
        f"{name.lower()}_city_page_median_s={statistics.median(dict(rows)[pages('')[0][0]]):.3f}"
        f" {name.lower()}_refresh_s={counting:.1f}"
        for name, _, rows, _, counting in results) +
        (f" missed={','.join(missed)}" if missed else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
