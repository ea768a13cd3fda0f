"""A whole city in the verifier's database, filled by set-based SQL (one INSERT … SELECT per
table and agency, no ORM objects), for the bureau console's bench and tests:

- ~200 agencies, skewed as a city's are: four with 5 % of the workers each, sixteen with
  1.5 %, the rest (most under 5 000 at 1 M) on a falling slope; an approved admission
  application with a USCC (six districts of Hangzhou) for all but the last ten, two terminals;
- `workers` active workers (ids 1..), 1 % more cancelled, created over the last two years;
  one badge each (revoked for the cancelled; ~1 % revoked, ~0.5 % suspended, ~0.3 % lost);
- attendance for the last `months` periods (~92 % of the workers registered by then; the
  current period 25 days in) and one check-in each for the current period;
- 1 in 300 workers with a complaint (a review with a category) across the states: closed with
  an outcome, open within its deadline, escalated (serious, overdue); most in the 90-day
  window;
- credit records: insurance and a health certificate for 60 % (a few of them lapsed),
  training for 20 %, a verified skill certificate for half (ten titles) and self-declared ones
  beside; computed grades for
  70 % (10 % with an older row too, and a few typed by staff);
- 1 in 50 workers enrolled (a person file), and 1 in 100 of those under a ban: active, lifted,
  ended or not yet started.

`fill(engine, workers, now)` works on SQLite and PostgreSQL alike (numbers from the row id,
no randomness: two fills are equal). Nothing personal is made up beyond references.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Engine

from verifier.services import credit_rules, rollup
from verifier.services.periods import bounds, last_periods
from verifier.services.records import TITLES

DAY = 86400
DISTRICTS = ("330102", "330105", "330106", "330108", "330109", "330110")
TZ, START_DAY = "Asia/Shanghai", 1


@dataclass
class City:
    workers: int                    # active
    agencies: list[tuple[str, int, int]]   # (id, first worker id, active workers)
    seconds: float                  # the fill's wall time
    rows: dict[str, int]

    @property
    def largest(self) -> str:
        return max(self.agencies, key=lambda a: a[2])[0]


def sizes(workers: int, n_agencies: int = 200) -> list[int]:
    """Active workers per agency, largest first, summing to `workers`."""
    big, mid = 4, 16
    rest = n_agencies - big - mid
    weights = [0.05] * big + [0.015] * mid
    slope = [1.0 - 0.85 * i / max(rest - 1, 1) for i in range(rest)]
    weights += [w * (1 - sum(weights)) / sum(slope) for w in slope]
    out = [max(1, int(workers * w)) for w in weights]
    out[0] += workers - sum(out)
    return out


def _series(dialect: str, lo: int, hi: int) -> str:
    if dialect == "postgresql":
        return f"(SELECT generate_series({lo}, {hi}) AS g) AS s"
    return (f"(WITH RECURSIVE r(g) AS (SELECT {lo} UNION ALL SELECT g + 1 FROM r "
            f"WHERE g < {hi}) SELECT g FROM r) AS s")


def fill(engine: Engine, workers: int, now: int, n_agencies: int = 200,
         months: int = 1) -> City:
    """Fill an empty, migrated database (see the module docstring); the City."""
    d = engine.dialect.name
    blob = "'\\x00'::bytea" if d == "postgresql" else "X'00'"
    version = credit_rules.CURRENT.version
    t0 = time.perf_counter()
    counts = sizes(workers, n_agencies)
    agencies, wid = [], 1
    with engine.begin() as c:
        def run(sql: str, **params: object) -> None:
            c.execute(text(sql), params)
        if d == "postgresql":
            # a bulk load: the rollup's row triggers off (one advisory lock and one delta per
            # row would not fit a million rows in one transaction), counted once at the end
            run("SET LOCAL session_replication_role = replica")
        for i, n in enumerate(counts):
            agencies.append((f"A{330000 + i:06d}", wid, n))
            wid += n + (n + 99) // 100                     # then 1 % cancelled
        total = wid - 1
        c.execute(text("INSERT INTO agencies (id, name, created_at) VALUES (:i, :n, :t)"),
                  [{"i": a, "n": f"家政公司{k}", "t": now - 900 * DAY} for k, (a, _, _)
                   in enumerate(agencies)])
        c.execute(text(
            "INSERT INTO agency_applications (name, uscc, address, legal_representative, "
            "licence_ref, pledge, public_keys, username, password_hash, token_hash, state, "
            "agency_id, created_at, updated_at) VALUES (:n, :u, 'addr', 'rep', 'lic', TRUE, "
            "'', :a, 'x', :a, 'approved', :a, :t, :t)"),
            [{"n": f"家政公司{k}", "u": f"91{DISTRICTS[k % len(DISTRICTS)]}MA{k:07d}X",
              "a": a, "t": now - 900 * DAY}
             for k, (a, _, _) in enumerate(agencies[:max(len(agencies) - 10, 1)])])
        c.execute(text("INSERT INTO terminals (id, agency_id, token_hash, label, active, "
                       "created_at) VALUES (:i, :a, :i, 'desk', TRUE, :t)"),
                  [{"i": f"T-{a}-{k}", "a": a, "t": now - 900 * DAY}
                   for a, _, _ in agencies for k in (1, 2)])
        # persons first (workers point at them): every 50th worker id
        run(f"INSERT INTO persons (id, person_hash, hash_key_id, created_at) "
            f"SELECT g, 'P' || g, 't1', {now - 400 * DAY} FROM {_series(d, 1, total)} "
            f"WHERE g % 50 = 0")
        span = 730 * DAY
        for a, lo, n in agencies:
            hi = lo + n + (n + 99) // 100 - 1
            run(f"INSERT INTO workers (id, agency_id, worker_ref, state, created_at, "
                f"cancelled_at, person_id) SELECT g, '{a}', 'W' || g, "
                f"CASE WHEN g < {lo + n} THEN 'active' ELSE 'cancelled' END, "
                f"{now} - ((g % 262139) * 7919) % {span}, "
                f"CASE WHEN g < {lo + n} THEN NULL ELSE {now - 30 * DAY} END, "
                f"CASE WHEN g % 50 = 0 THEN g END FROM {_series(d, lo, hi)}")
        run("INSERT INTO badges (id, agency_id, worker_id, serial, kid, status_idx, state, "
            "created_at, updated_at) SELECT id, agency_id, id, 'S' || id, 'K' || id, id, "
            "CASE WHEN state = 'cancelled' OR id % 97 = 0 THEN 'revoked' "
            "WHEN id % 211 = 0 THEN 'suspended' WHEN id % 307 = 0 THEN 'lost' "
            "ELSE 'active' END, created_at, created_at FROM workers")
        periods = last_periods(now, TZ, START_DAY, months)
        for m, p in enumerate(periods):
            start, end = bounds(p, TZ, START_DAY)
            at = min(start + 3 * DAY, now)
            run(f"INSERT INTO attendance (agency_id, period, worker_ref, first_at, last_at, "
                f"first_terminal, last_terminal, count) SELECT agency_id, '{p}', worker_ref, "
                f"{at}, {at} + id % {5 * DAY}, 'T-' || agency_id || '-1', "
                f"'T-' || agency_id || '-1', 1 + id % 20 FROM workers "
                f"WHERE state = 'active' AND created_at < {end} "
                f"AND (id * 31 + {m} * 17) % 100 >= 8")
        cur = periods[-1]
        run(f"INSERT INTO checkins (token_hash, nonce, badge_kid, ctr_key, agency_id, "
            f"worker_ref, terminal_id, seen_at, received_at, period, token) "
            f"SELECT 'C' || w.id, 'N' || w.id, 'K' || w.id, 1, w.agency_id, w.worker_ref, "
            f"'T-' || w.agency_id || '-1', a.last_at, a.last_at + 60 + w.id % 3600, "
            f"'{cur}', {blob} FROM attendance a JOIN workers w ON w.agency_id = a.agency_id "
            f"AND w.worker_ref = a.worker_ref WHERE a.period = '{cur}'")
        # complaints: 1 in 300 workers, each through a review with a category
        which = "state = 'active' AND id % 300 = 7"
        filed = f"({now} - (id * 13) % {120 * DAY})"
        recent = f"({now} - (id % 10) * {DAY})"
        run(f"INSERT INTO reviews (id, agency_id, worker_ref, stars, category, comment, "
            f"created_at) SELECT id, agency_id, worker_ref, 1 + id % 3, 'late', 'x', "
            f"CASE WHEN id % 10 IN (6, 7) THEN {recent} ELSE {filed} END "
            f"FROM workers WHERE {which}")
        run(f"INSERT INTO complaints (review_id, agency_id, worker_ref, severity, state, "
            f"filed_at, deadline_at, deadline_provisional, status_hash, escalated_at, "
            f"escalation, outcome, decided_by, decided_at) SELECT id, agency_id, worker_ref, "
            f"CASE WHEN id % 10 = 8 THEN 'serious' ELSE 'minor' END, "
            f"CASE WHEN id % 10 < 6 THEN 'closed' WHEN id % 10 < 8 THEN 'open' "
            f"ELSE 'escalated' END, "
            f"CASE WHEN id % 10 IN (6, 7) THEN {recent} ELSE {filed} END, "
            f"CASE WHEN id % 10 IN (6, 7) THEN {recent} + {15 * DAY} "
            f"ELSE {filed} + {15 * DAY} END, FALSE, 'H' || id, "
            f"CASE WHEN id % 10 = 8 THEN {filed} WHEN id % 10 = 9 THEN {filed} + {15 * DAY} "
            f"END, CASE WHEN id % 10 = 8 THEN 'serious' WHEN id % 10 = 9 THEN 'overdue' END, "
            f"CASE WHEN id % 10 < 6 THEN CASE id % 3 WHEN 0 THEN 'upheld' "
            f"WHEN 1 THEN 'partly_upheld' ELSE 'dismissed' END END, "
            f"CASE WHEN id % 10 < 6 THEN CASE WHEN id % 4 = 0 THEN 'bureau' ELSE 'agency' END "
            f"END, CASE WHEN id % 10 < 6 THEN {filed} + (1 + id % 20) * {DAY} END "
            f"FROM workers WHERE {which}")
        rec = ("INSERT INTO credit_records (agency_id, worker_ref, kind, state, data, "
               "issued_on, valid_until, entered_by, entered_at, verified_by, verified_at) "
               "SELECT agency_id, worker_ref, '{kind}', '{state}', {data}, {issued}, {until}, "
               "'bench', {issued}, 'bench', {issued} FROM workers WHERE {where}")
        issued = f"({now} - {400 * DAY} + (id % 300) * {DAY})"
        run(rec.format(kind="insurance", state="verified",
                       data="'{\"type\": \"liability\"}'", issued=issued,
                       until=f"CASE WHEN id % 30 = 1 THEN {now - 5 * DAY} "
                             f"ELSE {now + 200 * DAY} END",
                       where="id % 10 < 6"))
        run(rec.format(kind="health_certificate", state="verified", data="'{}'", issued=issued,
                       until=f"CASE WHEN id % 25 = 2 THEN {now - 3 * DAY} "
                             f"ELSE {now + 100 * DAY} END",
                       where="id % 10 < 6"))
        run(rec.format(kind="training", state="verified",
                       data="'{\"course\": \"care\", \"hours\": ' || (4 + id % 37) || '}'",
                       issued=issued, until="NULL", where="id % 5 = 0"))
        title = "CASE (id / 2) % 10 " + " ".join(
            f"WHEN {k} THEN '{{\"title\": \"{t}\", \"level\": \"四级\"}}'"
            for k, t in enumerate(TITLES)) + " END"
        run(rec.format(kind="skill_certificate", state="verified", data=title, issued=issued,
                       until=f"CASE WHEN id % 40 = 3 THEN {now - 9 * DAY} END",
                       where="id % 2 = 0"))
        run(rec.format(kind="skill_certificate", state="self_declared", data=title,
                       issued=issued, until="NULL", where="id % 7 = 3"))
        grade = "CASE id % 13 WHEN 0 THEN 'D' WHEN 1 THEN 'C' WHEN 2 THEN 'C' " \
                "WHEN 3 THEN 'A' WHEN 4 THEN 'A' WHEN 5 THEN 'A' ELSE 'B' END"
        gr = ("INSERT INTO credit_grades (worker_id, computed_at, rule_version, grade, score, "
              "colour, reasons, warnings, \"trigger\") SELECT id, {at}, '{v}', {g}, 80, "
              "'green', '[]', '[]', 'nightly' FROM workers WHERE {where}")
        run(gr.format(at=now - 200 * DAY, v="staff", g="'B'", where="id % 40 = 1"))
        run(gr.format(at=now - 100 * DAY, v=version, g="'C'", where="id % 10 = 0"))
        run(gr.format(at=now - DAY, v=version, g=grade, where="id % 10 < 7"))
        # bans: 1 in 100 enrolled persons; active, lifted, ended, not started yet
        run(f"INSERT INTO bans (person_id, category, legal_basis, starts_at, ends_at, "
            f"decided_by, appeal_route, lifted_at, lifted_reason, start_recorded, "
            f"end_recorded, created_at) SELECT id, 'theft', 'case', "
            f"CASE WHEN id % 4 = 3 THEN {now + 10 * DAY} ELSE {now - 100 * DAY} END, "
            f"CASE WHEN id % 4 = 2 THEN {now - 10 * DAY} ELSE {now + 700 * DAY} END, "
            f"'bureau', 'appeal in writing', "
            f"CASE WHEN id % 4 = 1 THEN {now - 20 * DAY} END, "
            f"CASE WHEN id % 4 = 1 THEN 'appeal' END, id % 4 <> 3, id % 4 = 2, "
            f"{now - 100 * DAY} FROM persons WHERE id % 5000 = 0")
        if d == "postgresql":        # the explicit ids: move the sequences past them
            for table in ("workers", "badges", "persons", "reviews"):
                run(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))")
        if d == "postgresql":
            run("SET LOCAL session_replication_role = DEFAULT")
            rollup.rebuild(c)
        rows = {t: c.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in (
            "workers", "badges", "attendance", "checkins", "complaints", "credit_records",
            "credit_grades", "persons", "bans")}
    with engine.connect() as c:
        if d == "postgresql":            # what autovacuum would have done by then
            c.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    return City(workers, agencies, time.perf_counter() - t0, rows)
