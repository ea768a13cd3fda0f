"""The credit rules (verifier/services/credit_rules.py), table-driven: each indicator moves the
score, the grade and the colour as docs/credit-rules.md "Grade and colour" says, at its
thresholds; the document's parameter table is the module's."""
import pathlib
import re
from dataclasses import fields, replace

import pytest

from verifier.services.credit_rules import (CURRENT, DAY, Decided, Inputs, assess, grade_of,
                                            warnings_of)

NOW = 1_800_000_000
DOC = pathlib.Path(__file__).resolve().parents[2] / "docs" / "credit-rules.md"
_ids = iter(range(1, 10_000))


def rec(kind, state="verified", days_ago=100, until_days=200, **data):
    return {"id": next(_ids), "kind": kind, "state": state, "issued_on": NOW - days_ago * DAY,
            "valid_until": NOW + until_days * DAY if until_days is not None else None, **data}


OK_RECORDS = [rec("health_certificate"), rec("insurance")]


def inputs(**kw):
    base = dict(now=NOW, records=list(OK_RECORDS))
    base.update(kw)
    return Inputs(**base)


def reviews(*stars, days_ago=10):
    return [(next(_ids), NOW - days_ago * DAY, s) for s in stars]


def complaint(severity="minor", outcome="upheld", days_ago=0):
    return Decided(next(_ids), severity, outcome, NOW - days_ago * DAY)


# (what changes, expected score, grade, reason codes of the grade)
CASES = [
    ("nothing but the required records", {}, 70, "B", []),
    ("one upheld minor complaint today", {"decided": [complaint()]}, 60, "C",
     ["complaint_upheld"]),
    ("one upheld serious complaint today", {"decided": [complaint("serious")]}, 40, "D",
     ["complaint_upheld"]),
    ("serious, a half-life ago: half the weight",
     {"decided": [complaint("serious", days_ago=365)]}, 55, "C", ["complaint_upheld"]),
    ("serious, partly upheld", {"decided": [complaint("serious", "partly_upheld")]}, 55, "C",
     ["complaint_upheld"]),
    ("dismissed and settled complaints count nothing",
     {"decided": [complaint("serious", "dismissed"), complaint("minor", "settled")]}, 70, "B",
     []),
    ("upheld more than complaint_max_days ago: forgotten",
     {"decided": [complaint("serious", days_ago=1096)]}, 70, "B", []),
    ("4 reviews of 5 stars: under the minimum sample", {"reviews": reviews(5, 5, 5, 5)}, 70,
     "B", []),
    ("5 reviews averaging 4.6", {"reviews": reviews(5, 5, 5, 4, 4)}, 80, "B", ["stars_high"]),
    ("5 reviews averaging 4.0", {"reviews": reviews(4, 4, 4, 4, 4)}, 75, "B", ["stars_good"]),
    ("5 reviews averaging 3.0: no points", {"reviews": reviews(3, 3, 3, 3, 3)}, 70, "B", []),
    ("5 reviews averaging 2.8", {"reviews": reviews(3, 3, 3, 3, 2)}, 60, "C", ["stars_low"]),
    ("reviews older than stars_days do not count",
     {"reviews": reviews(1, 1, 1, 1, 1, days_ago=366)}, 70, "B", []),
    ("verified 三级 certificate", {"records": OK_RECORDS + [rec("skill_certificate",
                                                              title="育婴员", level="三级")]},
     78, "B", ["skill"]),
    ("the highest of two certificates counts",
     {"records": OK_RECORDS + [rec("skill_certificate", title="育婴员", level="五级"),
                               rec("skill_certificate", title="养老护理员", level="一级")]},
     82, "B", ["skill"]),
    ("a self-declared certificate counts nothing",
     {"records": OK_RECORDS + [rec("skill_certificate", "self_declared", level="一级")]}, 70,
     "B", []),
    ("40 verified training hours", {"records": OK_RECORDS + [rec("training", hours=40)]}, 74,
     "B", ["training"]),
    ("120 verified training hours",
     {"records": OK_RECORDS + [rec("training", hours=80), rec("training", hours=40)]}, 78, "B",
     ["training"]),
    ("39.5 hours: under the first step", {"records": OK_RECORDS + [rec("training",
                                                                      hours=39.5)]}, 70, "B",
     []),
    ("training older than training_days",
     {"records": OK_RECORDS + [rec("training", days_ago=1096, hours=200)]}, 70, "B", []),
    ("no health certificate", {"records": [rec("insurance")]}, 60, "C", ["health_missing"]),
    ("expired insurance", {"records": [rec("health_certificate"),
                                       rec("insurance", until_days=-1)]}, 60, "C",
     ["insurance_expired"]),
    ("self-declared health certificate", {"records": [rec("health_certificate",
                                                          "self_declared"), rec("insurance")]},
     60, "C", ["health_unverified"]),
    ("verified dishonesty listing", {"records": OK_RECORDS + [rec("dishonesty_check",
                                                                  result="listed")]},
     45, "D", ["check_adverse"]),
    ("a clear background check counts nothing",
     {"records": OK_RECORDS + [rec("background_check", result="clear")]}, 70, "B", []),
    ("2 periods due: too few to judge", {"periods_due": 2, "periods_checked": 0}, 70, "B", []),
    ("9 of 10 periods", {"periods_due": 10, "periods_checked": 9}, 75, "B", ["regular"]),
    ("8 of 10 periods", {"periods_due": 10, "periods_checked": 8}, 70, "B", []),
    ("6 of 10 periods", {"periods_due": 10, "periods_checked": 6}, 65, "C", ["irregular"]),
    ("4 of 10 periods", {"periods_due": 10, "periods_checked": 4}, 55, "C", ["irregular"]),
    ("12 months of visits", {"visits": 3, "first_visit_at": NOW - 366 * DAY}, 75, "B",
     ["tenure"]),
    ("24 months of visits", {"visits": 30, "first_visit_at": NOW - 731 * DAY}, 80, "B",
     ["tenure"]),
    ("2 visits: under tenure_min_visits", {"visits": 2, "first_visit_at": NOW - 800 * DAY},
     70, "B", []),
    ("everything good", {"records": OK_RECORDS + [rec("skill_certificate", level="二级"),
                                                  rec("training", hours=120)],
                         "reviews": reviews(5, 5, 5, 5, 5),
                         "periods_due": 12, "periods_checked": 12,
                         "visits": 40, "first_visit_at": NOW - 800 * DAY},
     113, "A", ["stars_high", "skill", "tenure", "training", "regular"]),
]


@pytest.mark.parametrize("what,kw,score,grade,codes", CASES, ids=[c[0] for c in CASES])
def test_each_indicator_moves_the_grade(what, kw, score, grade, codes):
    a = assess(inputs(**kw))
    assert (a.score, a.grade) == (score, grade), what
    assert sorted(r.code for r in a.reasons) == sorted(codes)
    assert [abs(r.points) for r in a.reasons] == sorted((abs(r.points) for r in a.reasons),
                                                        reverse=True)    # largest first
    assert a.version == CURRENT.version


@pytest.mark.parametrize("score,grade", [(85, "A"), (84.9, "B"), (70, "B"), (69.9, "C"),
                                         (55, "C"), (54.9, "D"), (-40, "D")])
def test_grade_thresholds(score, grade):
    assert grade_of(score) == grade


# (what, inputs, colour, warning codes, parameters of the first warning)
COLOUR = [
    ("all in order", {}, "green", [], {}),
    ("2 poor reviews in 90 days", {"reviews": reviews(1, 2)}, "green", [], {}),
    ("3 poor reviews in 90 days", {"reviews": reviews(1, 2, 2, days_ago=30) + reviews(5)},
     "yellow", ["poor_reviews"], {"count": 3, "since": NOW - 30 * DAY}),
    ("3 stars is not poor", {"reviews": reviews(3, 3, 3)}, "green", [], {}),
    ("poor reviews older than 90 days", {"reviews": reviews(1, 1, 1, days_ago=91)}, "green",
     [], {}),
    ("3 unresolved complaints in 90 days",
     {"unresolved": [NOW - 5 * DAY, NOW - 60 * DAY, NOW - 89 * DAY]}, "yellow",
     ["complaints"], {"count": 3, "since": NOW - 89 * DAY}),
    ("2 unresolved in 90 days and one older", {"unresolved": [NOW, NOW, NOW - 91 * DAY]},
     "green", [], {}),
    ("expired health certificate, self-declared insurance",
     {"records": [rec("health_certificate", until_days=-1), rec("insurance",
                                                                "self_declared")]},
     "yellow", ["health_expired", "insurance_unverified"], {}),
    ("a worker of another registry: records unknown, complaints known",
     {"known": False, "records": [], "unresolved": [NOW] * 3}, "yellow", ["complaints"],
     {"count": 3, "since": NOW}),
    ("grade D alone is not a colour", {"decided": [complaint("serious")] * 2}, "green", [],
     {}),
]


@pytest.mark.parametrize("what,kw,colour,codes,params", COLOUR, ids=[c[0] for c in COLOUR])
def test_credit_warnings_turn_the_page_yellow(what, kw, colour, codes, params):
    a = assess(inputs(**kw))
    assert a.colour == colour, what
    assert [w.code for w in a.warnings] == codes
    assert [w.code for w in warnings_of(inputs(**kw))] == codes
    if codes:
        assert a.warnings[0].params == params


def test_a_withdrawn_record_is_never_counted():
    """grades.inputs leaves withdrawn records out; the rules also ignore one given."""
    a = assess(inputs(records=[rec("health_certificate", "withdrawn"), rec("insurance")]))
    assert [w.code for w in a.warnings] == ["health_missing"]


def test_the_documented_parameters_are_the_module_s():
    text = DOC.read_text(encoding="utf-8")
    m = re.search(r"rules version \*\*(\w+)\*\*", text)
    assert m and m.group(1) == CURRENT.version
    documented = dict(re.findall(r"^\| `(\w+)` \| ([^|]+?) \|", text, re.M))
    for f in fields(CURRENT):
        if f.name == "version":
            continue
        assert f.name in documented, f"docs/credit-rules.md does not give {f.name}"
        value = getattr(CURRENT, f.name)
        if isinstance(value, tuple):
            shown = ", ".join(f"{a if isinstance(a, str) else format(a, 'g')} → {b:+g}"
                              for a, b in value)
        else:
            shown = f"{value:g}"
        assert documented[f.name].strip() == shown, f.name


def test_a_new_rule_version_changes_the_result_key():
    i = inputs(reviews=reviews(2, 2, 2))
    a, b = assess(i), assess(i, replace(CURRENT, version="test-2", poor_limit=4))
    assert (a.colour, b.colour) == ("yellow", "green")
    assert a.key() != b.key() and b.version == "test-2"
