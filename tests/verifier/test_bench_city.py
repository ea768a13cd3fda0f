"""bench/bench_city.py still runs (a smoke run on SQLite: 5 000 workers): the city page it
times shows the city it filled (the bench checks the page's total against the fill) and the
count the timer makes stores figures the pages then read. No time is asserted."""
import re

from bench import bench_city


def test_the_city_bench_runs(capsys):
    assert bench_city.main(["--quick", "--db", "sqlite", "--rounds", "1"]) == 0
    out = capsys.readouterr().out
    assert "SQLite: 5000 active workers in 200 agencies" in out
    assert re.search(r"RESULT sqlite_city_page_median_s=\d+\.\d+ sqlite_refresh_s=\d+\.\d", out)
    assert "GET /bureau/agencies/A330000 (largest)" in out
