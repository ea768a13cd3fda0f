"""bench/bench_national.py still runs (a smoke run on PostgreSQL at scale 0.0005: 7 675
workers in 10 agencies): it builds the month, finds the rollup's check-in table equal to the
one counted from the raw rows, and prints every question's row, the memory and the RESULT
line. No time is asserted."""
import re

from bench import bench_national


def test_the_national_bench_runs(pg_cluster, capsys):   # noqa: ARG001 (PostgreSQL or skip)
    assert bench_national.main(["--scale", "0.0005", "--rounds", "1"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"built: 7675 active workers in 10 agencies \(largest 1918, ", out)
    assert "the rollup's agrees" in out
    for label in bench_national.LABELS.values():
        assert re.search(re.escape(label) + r" +\d+\.\d +\d+\.\d +\d+ +\d+\.\d{3}  (ok|MISSED)",
                         out), label
    assert re.search(r"bench process: VmRSS \d+ MB, peak \d+ MB", out)
    assert re.search(r"RESULT table_median_ms=\S+ page_median_ms=\S+ whole_median_ms=\S+ "
                     r"history_median_ms=\S+ build_s=\d+ rss_mb=\d+", out)
