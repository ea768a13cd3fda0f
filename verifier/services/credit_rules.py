"""The credit rules: THE one place that turns a worker's indicators into a grade A-D and the
credit part of the page colour (docs/credit-rules.md "Grade and colour"; change both together,
and give a changed rule a new `version`).

Pure: no database, no Flask. services/grades.py gathers the `Inputs` of a worker (every agency
file of the person) and keeps each `Assessment` with the rule version it was computed with.

The score starts at `base` and each indicator adds or takes points (`Reason.points`):

- complaints upheld (or partly upheld, half) by a decision: `serious` / `minor` points,
  halved every `complaint_half_life_days`, forgotten after `complaint_max_days`;
- review stars: the mean of the last `stars_days` days over at least `stars_min_sample`
  reviews;
- the highest verified skill certificate in force (points by level) and verified training
  hours of the last `training_days` days;
- a verified health certificate and insurance in force (each missing one takes points);
- a verified check (background, judicial enforcement, dishonesty) with an adverse result;
- check-in regularity over the last `regularity_periods` complete periods (at least
  `regularity_min_due` due);
- verified-visit tenure (months since the first of at least `tenure_min_visits` visits).

Grade: A from `grade_a` points, B from `grade_b`, C from `grade_c`, else D. A grade is never a
colour: red is reserved for "do not let in" (services/colour.py). The credit warnings below
turn the page yellow, each with its reason:

- the health certificate or insurance missing, expired or only self-declared;
- `complaint_limit` or more unresolved complaints filed in the last `complaint_days` days;
- `poor_limit` or more reviews of at most `poor_stars` stars in the last `poor_days` days.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

GREEN, YELLOW = "green", "yellow"
GRADES = ("A", "B", "C", "D")
DAY = 86400
MONTH_DAYS = 30.44
ADVERSE = {"background_check": "concerns", "judicial_check": "found",
           "dishonesty_check": "listed"}
# the order credit warnings are reported in (services/colour.YELLOW_REASONS follows it)
WARNINGS = ("health_expired", "health_missing", "health_unverified", "insurance_expired",
            "insurance_missing", "insurance_unverified", "complaints", "poor_reviews")


@dataclass(frozen=True)
class Rules:
    version: str
    base: float = 70
    grade_a: float = 85
    grade_b: float = 70
    grade_c: float = 55
    serious: float = 30
    minor: float = 10
    partly: float = 0.5
    complaint_half_life_days: int = 365
    complaint_max_days: int = 1095
    stars_days: int = 365
    stars_min_sample: int = 5
    stars_high: float = 4.5           # mean at or above: +stars_high_points
    stars_high_points: float = 10
    stars_good: float = 4.0
    stars_good_points: float = 5
    stars_low: float = 3.0            # mean below: -stars_low_points
    stars_low_points: float = 10
    level_points: tuple[tuple[str, float], ...] = (("五级", 4), ("四级", 6), ("三级", 8),
                                                   ("二级", 10), ("一级", 12))
    training_days: int = 1095
    training_steps: tuple[tuple[float, float], ...] = ((120, 8), (40, 4))   # (hours, points)
    record_missing_points: float = 10     # each of health certificate, insurance not ok
    adverse_check_points: float = 25
    regularity_periods: int = 12
    regularity_min_due: int = 3
    regularity_steps: tuple[tuple[float, float], ...] = ((0.9, 5), (0.75, 0), (0.5, -5),
                                                         (0.0, -15))   # (share from, points)
    tenure_min_visits: int = 3
    tenure_steps: tuple[tuple[int, float], ...] = ((24, 10), (12, 5))  # (months, points)
    complaint_limit: int = 3
    complaint_days: int = 90
    poor_stars: int = 2
    poor_limit: int = 3
    poor_days: int = 90


CURRENT = Rules(version="1")


@dataclass(frozen=True)
class Decided:
    """A complaint closed by a decision (the agency's or the bureau's)."""
    id: int
    severity: str                 # minor | serious
    outcome: str                  # upheld | partly_upheld | dismissed | settled
    decided_at: int


@dataclass
class Inputs:
    """What the rules need about one worker; set-aside inputs (an upheld appeal) left out."""
    now: int
    known: bool = True            # in this registry (its records are known here)
    records: list[dict[str, Any]] = field(default_factory=list)  # records.view, not withdrawn
    reviews: list[tuple[int, int, int]] = field(default_factory=list)  # (id, at, stars)
    decided: list[Decided] = field(default_factory=list)
    unresolved: list[int] = field(default_factory=list)   # filing times of open complaints
    periods_due: int = 0
    periods_checked: int = 0
    visits: int = 0
    first_visit_at: int | None = None


@dataclass(frozen=True)
class Reason:
    code: str
    points: float = 0
    params: dict[str, Any] = field(default_factory=dict)
    ref: str | None = None        # the input it comes from ("complaint:3", "review:9", ...)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "points": self.points, "params": self.params}
        if self.ref:
            out["ref"] = self.ref
        return out

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Reason:
        return cls(d["code"], d.get("points", 0), d.get("params") or {}, d.get("ref"))


@dataclass
class Assessment:
    version: str
    score: float
    grade: str
    colour: str                                          # green | yellow
    reasons: list[Reason] = field(default_factory=list)  # of the grade, largest first
    warnings: list[Reason] = field(default_factory=list)  # of the colour, in WARNINGS order

    def key(self) -> tuple[Any, ...]:
        """What a new history row is written for when it changes: the version, grade, colour,
        the warnings and which reasons (not their points: decay alone writes no row)."""
        return result_key(self.version, self.grade, self.colour, self.reasons, self.warnings)


def result_key(version: str, grade: str, colour: str | None, reasons: list[Reason],
               warnings: list[Reason]) -> tuple[Any, ...]:
    return (version, grade, colour, tuple(sorted(w.code for w in warnings)),
            tuple(sorted((r.code, r.ref or "") for r in reasons)))


def assess(i: Inputs, rules: Rules = CURRENT) -> Assessment:
    reasons = (_complaints(i, rules) + _stars(i, rules) + _skills(i, rules)
               + _training(i, rules) + _required(i, rules) + _checks(i, rules)
               + _regularity(i, rules) + _tenure(i, rules))
    reasons = [r for r in reasons if r.points]
    score = round(rules.base + sum(r.points for r in reasons), 1)
    reasons.sort(key=lambda r: -abs(r.points))
    warnings = warnings_of(i, rules)
    return Assessment(rules.version, score, grade_of(score, rules),
                      YELLOW if warnings else GREEN, reasons, warnings)


def grade_of(score: float, rules: Rules = CURRENT) -> str:
    for grade, floor in zip(GRADES[:3], (rules.grade_a, rules.grade_b, rules.grade_c),
                            strict=True):
        if score >= floor:
            return grade
    return "D"


def warnings_of(i: Inputs, rules: Rules = CURRENT) -> list[Reason]:
    """The credit reasons for a yellow page, in WARNINGS order."""
    out = []
    if i.known:
        for kind in ("health", "insurance"):
            state = required_state(i.records, f"{kind}_certificate" if kind == "health"
                                   else kind, i.now)
            if state != "ok":
                out.append(Reason(f"{kind}_{state}"))
    recent = [t for t in i.unresolved if t >= i.now - rules.complaint_days * DAY]
    if len(recent) >= rules.complaint_limit:
        out.append(Reason("complaints", params={"count": len(recent), "since": min(recent)}))
    poor = sorted(at for _, at, stars in i.reviews
                  if stars <= rules.poor_stars and at >= i.now - rules.poor_days * DAY)
    if len(poor) >= rules.poor_limit:
        out.append(Reason("poor_reviews", params={"count": len(poor), "since": poor[0]}))
    return out


def state_of(r: dict[str, Any], now: int) -> str:
    """A record's state at `now`: expired once its valid-until has passed."""
    if r["state"] != "withdrawn" and r.get("valid_until") is not None and \
            r["valid_until"] < now:
        return "expired"
    return r["state"]


def required_state(rows: list[dict[str, Any]], kind: str, now: int) -> str:
    """"ok" when a verified record of `kind` is in force, else "unverified" (only
    self-declared ones in force), "expired" (only expired ones) or "missing"."""
    states = {state_of(r, now) for r in rows if r["kind"] == kind}
    for found, answer in (("verified", "ok"), ("self_declared", "unverified"),
                          ("expired", "expired")):
        if found in states:
            return answer
    return "missing"


def _complaints(i: Inputs, rules: Rules) -> list[Reason]:
    out = []
    for c in i.decided:
        if c.outcome not in ("upheld", "partly_upheld"):
            continue
        age = (i.now - c.decided_at) / DAY
        if age > rules.complaint_max_days:
            continue
        weight = rules.serious if c.severity == "serious" else rules.minor
        if c.outcome == "partly_upheld":
            weight *= rules.partly
        points = -round(weight * 0.5 ** (max(age, 0) / rules.complaint_half_life_days), 1)
        out.append(Reason("complaint_upheld", points,
                          {"severity": c.severity, "outcome": c.outcome, "on": c.decided_at},
                          f"complaint:{c.id}"))
    return out


def _stars(i: Inputs, rules: Rules) -> list[Reason]:
    recent = [stars for _, at, stars in i.reviews if at >= i.now - rules.stars_days * DAY]
    if len(recent) < rules.stars_min_sample:
        return []
    mean = round(sum(recent) / len(recent), 2)
    params = {"mean": mean, "count": len(recent)}
    if mean >= rules.stars_high:
        return [Reason("stars_high", rules.stars_high_points, params)]
    if mean >= rules.stars_good:
        return [Reason("stars_good", rules.stars_good_points, params)]
    if mean < rules.stars_low:
        return [Reason("stars_low", -rules.stars_low_points, params)]
    return []


def _verified(i: Inputs, kind: str) -> list[dict[str, Any]]:
    """The verified records of `kind` in force."""
    return [r for r in i.records if r["kind"] == kind and state_of(r, i.now) == "verified"]


def _skills(i: Inputs, rules: Rules) -> list[Reason]:
    points = dict(rules.level_points)
    best = max(_verified(i, "skill_certificate"),
               key=lambda r: points.get(str(r.get("level")), 0), default=None)
    if best is None or best.get("level") not in points:
        return []
    return [Reason("skill", points[best["level"]],
                   {"title": best.get("title"), "level": best["level"]}, f"record:{best['id']}")]


def _training(i: Inputs, rules: Rules) -> list[Reason]:
    hours = sum(float(r.get("hours") or 0) for r in _verified(i, "training")
                if r["issued_on"] >= i.now - rules.training_days * DAY)
    for floor, points in rules.training_steps:
        if hours >= floor:
            return [Reason("training", points, {"hours": round(hours, 1)})]
    return []


def _required(i: Inputs, rules: Rules) -> list[Reason]:
    if not i.known:
        return []
    return [Reason(w.code, -rules.record_missing_points) for w in warnings_of(i, rules)
            if w.code.startswith(("health_", "insurance_"))]


def _checks(i: Inputs, rules: Rules) -> list[Reason]:
    return [Reason("check_adverse", -rules.adverse_check_points,
                   {"kind": kind, "on": r["issued_on"]}, f"record:{r['id']}")
            for kind, bad in ADVERSE.items() for r in _verified(i, kind)
            if r.get("result") == bad]


def _regularity(i: Inputs, rules: Rules) -> list[Reason]:
    if i.periods_due < rules.regularity_min_due:
        return []
    share = i.periods_checked / i.periods_due
    params = {"checked": i.periods_checked, "due": i.periods_due}
    for floor, points in rules.regularity_steps:
        if share >= floor:
            return [Reason("regular" if points > 0 else "irregular", points, params)]
    return []


def _tenure(i: Inputs, rules: Rules) -> list[Reason]:
    if i.first_visit_at is None or i.visits < rules.tenure_min_visits:
        return []
    months = int((i.now - i.first_visit_at) / DAY / MONTH_DAYS)
    for floor, points in rules.tenure_steps:
        if months >= floor:
            return [Reason("tenure", points, {"months": months, "since": i.first_visit_at,
                                              "visits": i.visits})]
    return []
