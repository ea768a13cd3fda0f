"""The bureau's figures, counted set-based (services/aggregates.py: a query per table grouped
by agency), equal a plain count in Python over every row, on a small city of testkit/city.py
with the awkward cases added: a worker insured twice, two certificates of one title, titles
not in the catalogue, training without hours or with hours as text, records and check-ins of
cancelled workers and of nobody, a worker created after the period ends, a staff grade after a
computed one, a badge with no worker, an open complaint past its deadline, an agency with
nothing. And a write in the session is seen by the next count in it (the memo is dropped).
SQLite and PostgreSQL."""
import json
from statistics import median

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from host.wire import sample
from testkit import city
from verifier.db import make_engine
from verifier.models import (Attendance, Badge, Ban, Checkin, Complaint, CreditGrade,
                             CreditRecord, Worker)
from verifier.services import agency_credit, national
from verifier.services import city as city_stats
from verifier.services.periods import bounds, last_periods
from verifier.services.records import TITLES

DAY = city.DAY
NOW = sample.NOW + 25 * DAY
TZ = city.TZ


def awkward(engine, c0):
    """The awkward rows, in the first agency (c0: its id, first worker id, active workers)."""
    a, lo, n = c0
    ref = lambda i: f"W{lo + i}"        # noqa: E731
    gone = f"W{lo + n}"                 # its first cancelled worker
    rec = ("INSERT INTO credit_records (agency_id, worker_ref, kind, state, data, issued_on, "
           "valid_until, entered_by, entered_at) VALUES (:a, :w, :k, 'verified', :d, 0, :u, "
           "'t', 0)")
    rows = [(ref(1), "insurance", "{}", NOW + DAY), (ref(1), "insurance", "{}", NOW),
            (ref(2), "skill_certificate", '{"title": "育婴员"}', None),
            (ref(2), "skill_certificate", '{"title": "育婴员"}', NOW + DAY),
            (ref(2), "skill_certificate", '{"title": "保育员"}', NOW - 1),
            (ref(3), "skill_certificate", '{"title": "不存在"}', None),
            (ref(3), "skill_certificate", '{"title": 5}', None),
            (ref(3), "skill_certificate", "{}", None),
            (ref(4), "training", '{"course": "x"}', None),
            (ref(4), "training", '{"hours": "7.5"}', None),
            (ref(4), "training", '{"hours": 2.25}', None)]
    for who in (gone, "W-nobody"):
        rows += [(who, "insurance", "{}", NOW + 50 * DAY), (who, "training", '{"hours": 9}', None),
                 (who, "skill_certificate", '{"title": "育婴员"}', None)]
    with engine.begin() as c:
        c.execute(text("INSERT INTO agencies (id, name, created_at) VALUES ('A-EMPTY', 'e', 0)"))
        c.execute(text(rec), [{"a": a, "w": w, "k": k, "d": d, "u": u} for w, k, d, u in rows])
        c.execute(text("INSERT INTO workers (agency_id, worker_ref, state, created_at) VALUES "
                       "(:a, 'W-later', 'active', :t)"), {"a": a, "t": NOW + 10 * DAY})
        for who in ("W-nobody", gone, "W-later"):
            c.execute(text("INSERT INTO attendance (agency_id, period, worker_ref, first_at, "
                           "last_at, first_terminal, last_terminal, count) VALUES (:a, :p, :w, "
                           ":t, :t, 'T', 'T', 1)"),
                      {"a": a, "p": last_periods(NOW, TZ, 1, 1)[0], "w": who, "t": NOW - DAY})
        for wid, grade in ((lo + 20, "D"), (lo + 9, "A")):
            c.execute(text("INSERT INTO credit_grades (worker_id, computed_at, rule_version, "
                           "grade, reasons, warnings, \"trigger\") VALUES (:w, 0, 'staff', :g, "
                           "'[]', '[]', 't')"), {"w": wid, "g": grade})
        c.execute(text("INSERT INTO badges (agency_id, worker_id, serial, kid, status_idx, "
                       "state, created_at, updated_at) VALUES (:a, NULL, 's', 'K-none', -1, "
                       "'registered', :t, :t)"), {"a": a, "t": NOW - 3 * DAY})
        for i, (agency, deadline) in enumerate(((a, NOW - DAY), ("A-EMPTY", NOW + DAY))):
            rid = 10_000_000 + i
            c.execute(text("INSERT INTO reviews (id, agency_id, worker_ref, stars, category, "
                           "created_at) VALUES (:r, :a, 'W1', 1, 'late', :t)"),
                      {"r": rid, "a": agency, "t": NOW - 20 * DAY})
            c.execute(text("INSERT INTO complaints (review_id, agency_id, worker_ref, severity, "
                           "state, filed_at, deadline_at, deadline_provisional, status_hash) "
                           "VALUES (:r, :a, 'W1', 'minor', 'open', :f, :d, FALSE, :h)"),
                      {"r": rid, "a": agency, "f": NOW - 20 * DAY, "d": deadline,
                       "h": f"awkward{i}"})
        # one person with two files at the agency, under a ban in force
        c.execute(text("INSERT INTO persons (id, person_hash, hash_key_id, created_at) VALUES "
                       "(9000001, 'P-awkward', 't1', 0)"))
        c.execute(text("INSERT INTO bans (person_id, category, legal_basis, starts_at, ends_at, "
                       "decided_by, appeal_route, start_recorded, end_recorded, created_at) "
                       "VALUES (9000001, 'theft', 'x', :s, :e, 'bureau', 'x', TRUE, FALSE, 0)"),
                  {"s": NOW - DAY, "e": NOW + DAY})
        c.execute(text("UPDATE workers SET person_id = 9000001 WHERE id IN (:a, :b)"),
                  {"a": lo + 5, "b": lo + 6})


def share(n, of):
    return round(n / of, 3) if of else None


def plain(s, agency_ids):
    """Every figure, counted in Python over every row (the definitions in the services'
    docstrings)."""
    periods = last_periods(NOW, TZ, 1, 12)
    spans = [bounds(p, TZ, 1) for p in periods]
    cur, end = periods[-1], spans[-1][1]
    workers = list(s.scalars(select(Worker)))
    live = {(w.agency_id, w.worker_ref): w for w in workers if w.state == "active"}
    records = list(s.scalars(select(CreditRecord).where(CreditRecord.state == "verified")))
    att = list(s.scalars(select(Attendance)))
    complaints = list(s.scalars(select(Complaint)))
    badges = list(s.scalars(select(Badge)))
    grades = list(s.scalars(select(CreditGrade).where(CreditGrade.rule_version != "staff")
                            .order_by(CreditGrade.id)))
    latest = {g.worker_id: g.grade for g in grades}
    by_id = {w.id: w for w in workers}
    out = {}
    for a in agency_ids:
        mine = [w for w in live.values() if w.agency_id == a]
        n = len(mine)
        reg = [w for w in mine if w.created_at < end]
        present = sum(1 for r in att if r.agency_id == a and r.period == cur and
                      (a, r.worker_ref) in live and live[(a, r.worker_ref)].created_at < end)
        mrec = [r for r in records if r.agency_id == a and (a, r.worker_ref) in live]
        insured = len({r.worker_ref for r in mrec if r.kind == "insurance" and
                       r.valid_until is not None and r.valid_until >= NOW})
        training = sum(float(json.loads(r.data or "{}").get("hours", 0)) for r in mrec
                       if r.kind == "training")
        window = [c for c in complaints if c.agency_id == a and
                  c.filed_at >= NOW - agency_credit.WINDOW_DAYS * DAY]
        decided = [c for c in window if c.state == "closed" and c.decided_at is not None]
        days = [(c.decided_at - c.filed_at) / DAY for c in decided]
        g = {}
        for wid, grade in latest.items():
            w = by_id[wid]
            if w.agency_id == a and w.state == "active":
                g[grade] = g.get(grade, 0) + 1
        out[a] = {
            "active_workers": n,
            "badges": {st: sum(1 for b in badges if b.agency_id == a and b.state == st)
                       for st in national.BADGE_STATES},
            "grades": {**{k: g.get(k, 0) for k in "ABCD"}, "ungraded": n - sum(g.values())},
            "compliance": {"insurance_coverage": share(insured, n),
                           "overdue_complaints": sum(1 for c in window
                                                     if c.escalation == "overdue")},
            "service_quality": {
                "complaints": len(window),
                "complaints_per_100": round(100 * len(window) / n, 1) if n else None,
                "upheld_share": share(sum(1 for c in decided if c.outcome in
                                          ("upheld", "partly_upheld")), len(decided)),
                "median_handling_days": round(median(days), 1) if days else None,
                "open": sum(1 for c in window if c.state != "closed")},
            "performance": {"checkin_rate": share(present, len(reg)), "checked_in": present,
                            "registered": len(reg)},
            "social_responsibility": {"training_hours_per_worker":
                                      round(training / n, 1) if n else None}}
    trends = {}
    for a in list(agency_ids) + [None]:
        rows = []
        for p, (start, stop) in zip(periods, spans, strict=True):
            registered = sum(1 for w in live.values() if w.created_at < stop and
                             a in (None, w.agency_id))
            checked = sum(1 for r in att if r.period == p and (r.agency_id, r.worker_ref) in live
                          and a in (None, r.agency_id))
            rows.append({"period": p, "registered": registered, "checked_in": checked,
                         "checkin_rate": share(checked, registered),
                         "complaints": sum(1 for c in complaints if start <= c.filed_at < stop
                                           and a in (None, c.agency_id)),
                         "badges_issued": sum(1 for b in badges if start <= b.created_at < stop
                                              and a in (None, b.agency_id))})
        trends[a] = rows
    titles = {t: set() for t in TITLES}
    for r in records:
        w = live.get((r.agency_id, r.worker_ref))
        title = json.loads(r.data or "{}").get("title")
        if (w is not None and r.kind == "skill_certificate" and title in titles and
                (r.valid_until is None or r.valid_until >= NOW)):
            titles[title].add(w.id)
    types = [{"type": t, "workers": len(ids)} for t, ids in titles.items()]
    types.append({"type": city_stats.NO_CERTIFICATE,
                  "workers": len(live) - len(set().union(*titles.values()))})
    bans = [b for b in s.scalars(select(Ban)) if b.lifted_at is None and
            b.starts_at <= NOW < b.ends_at]
    banned = {a: len({w.id for w in live.values() if w.agency_id == a and
                      any(b.person_id == w.person_id for b in bans)}) for a in agency_ids}
    synced = {a: max((c.received_at for c in s.scalars(select(Checkin).where(
        Checkin.agency_id == a))), default=None) for a in agency_ids}
    return out, trends, types, banned, synced


def test_set_based_figures_equal_a_plain_count(db_url):
    engine = make_engine(db_url)
    c = city.fill(engine, 1200, NOW, n_agencies=24, months=3)
    awkward(engine, c.agencies[0])
    with Session(engine) as s:
        data = national.export(s, NOW, TZ, 1)      # escalates the overdue complaint first
        ids = [a["id"] for a in data["agencies"]]
        assert "A-EMPTY" in ids and len(ids) == 25
        figures, trends, types, banned, synced = plain(s, ids)
        assert sum(f["compliance"]["overdue_complaints"] for f in figures.values()) > 0
        for a in data["agencies"]:
            got = {k: a[k] for k in figures[a["id"]]}
            assert got == figures[a["id"]], a["id"]
            single = agency_credit.figures(s, a["id"], NOW, TZ, 1)
            assert {k: single[k] for k in ("compliance", "service_quality", "performance",
                                           "social_responsibility")} == \
                {k: figures[a["id"]][k] for k in ("compliance", "service_quality",
                                                   "performance", "social_responsibility")}
        assert city_stats.trends(s, NOW, TZ, 1) == trends[None]
        for a in (ids[0], ids[5], "A-EMPTY"):
            assert city_stats.trends(s, NOW, TZ, 1, a) == trends[a], a
        assert city_stats.service_types(s, NOW) == types
        extras = city_stats.agency_extras(s, NOW)
        assert {a: e["banned_workers"] for a, e in extras.items()} == banned
        assert banned[c.agencies[0][0]] == 2
        assert {a: e["last_sync"] for a, e in extras.items()} == synced
        assert sum(d["workers"] for d in city_stats.districts(s)) == \
            data["totals"]["active_workers"]
        s.rollback()
    engine.dispose()


def test_a_write_in_the_session_is_counted_next_time(db_url):
    """The counts are shared within a transaction, never past a write of its own."""
    engine = make_engine(db_url)
    c = city.fill(engine, 300, NOW, n_agencies=21)
    a, lo, n = c.agencies[0]
    with Session(engine) as s:
        before = agency_credit.figures(s, a, NOW, TZ, 1)["active_workers"]
        assert before == n
        s.get(Worker, lo).state = "cancelled"           # an ORM change, flushed on the query
        assert agency_credit.figures(s, a, NOW, TZ, 1)["active_workers"] == n - 1
        s.execute(text("UPDATE workers SET state = 'cancelled' WHERE id = :i"), {"i": lo + 1})
        assert agency_credit.figures(s, a, NOW, TZ, 1)["active_workers"] == n - 2
        s.rollback()                                    # a new transaction counts again
        assert agency_credit.figures(s, a, NOW, TZ, 1)["active_workers"] == n
    engine.dispose()
