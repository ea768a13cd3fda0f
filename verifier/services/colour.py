"""The colour rules of the employer page: THE one place that decides green, yellow or red.
docs/employer.md shows the same rules as a table; change both together.

red with the one reason "banned" ("not permitted to work (bureau decision)", nothing more:
not the ban's reason, not the badge's other states), while a bureau ban of the worker's person
is in force (services/bans.py);
red, when any of:
  - the tap does not verify: forged, malformed, unknown key, untrusted issuer, expired or not
    yet valid credential, a check-in token (wrong purpose), too many checks (rate limit);
  - the status list says revoked or suspended;
  - this verifier's registry holds the badge as revoked, suspended or lost, or the worker as
    cancelled (注销);
  - the tap was seen before: replayed (an older or copied token), or this link was already
    used (only the first browser may reload it, within the reload window);
  - the status list is stale and the policy is `refuse`.
yellow, when genuine and not red, but any of:
  - the status list is missing (status unknown) or stale;
  - a credit warning of the rules (services/credit_rules.py: a health certificate or
    insurance expired, missing or only self-declared; unresolved complaints; poor reviews),
    each with its parameters ("3 poor reviews since …").
green: genuine, current, active, and none of the yellow reasons.

A credit grade is never a colour: grade D is shown as a grade (services/grades.py).

Every applicable reason is listed, red ones first, in the order of RED_REASONS and
YELLOW_REASONS; the first is the headline. The decision needs no Flask and no database:
callers gather the `Facts`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .credit_rules import WARNINGS, Reason

GREEN, YELLOW, RED = "green", "yellow", "red"

# Reasons in the order they are reported (the first one found is the headline).
RED_REASONS = ("banned", "malformed", "oversized", "wrong_alg", "bad_signature", "unknown_key",
               "untrusted_issuer", "expired", "not_yet_valid", "wrong_purpose", "revoked",
               "suspended", "lost", "cancelled", "already_used", "replayed", "stale_status",
               "rate_limited")
YELLOW_REASONS = ("status_unknown", "status_stale") + WARNINGS


@dataclass
class Facts:
    """What is known about one showing of a tap."""
    valid: bool                       # verification.check() passed (and the tap was booked)
    reason: str | None = None         # the verifier's reason when not valid
    status: str | None = None         # valid / suspended / revoked / unknown
    stale: bool = False
    badge_state: str | None = None    # registry state when the badge is registered here
    worker_state: str | None = None   # active / cancelled, when known
    credit: list[Reason] = field(default_factory=list)   # credit_rules.warnings_of
    banned: bool = False              # a bureau ban of the worker's person is in force
    now: int = 0


@dataclass
class Decision:
    colour: str
    reasons: list[str] = field(default_factory=list)
    params: dict[str, dict[str, Any]] = field(default_factory=dict)   # reason -> its figures

    @property
    def headline(self) -> str:
        return self.reasons[0] if self.reasons else "ok"


def decide(f: Facts) -> Decision:
    """The Decision for a set of Facts."""
    if f.banned:
        return Decision(RED, ["banned"])
    red: list[str] = []
    if not f.valid:
        red.append(f.reason if f.reason in RED_REASONS else "malformed")
    if f.badge_state in ("revoked", "suspended", "lost") and f.badge_state not in red:
        red.append(f.badge_state)
    if f.worker_state == "cancelled":
        red.append("cancelled")
    if red:
        return Decision(RED, _ordered(red, RED_REASONS))
    yellow: list[str] = []
    if f.status == "unknown":
        yellow.append("status_unknown")
    elif f.stale:
        yellow.append("status_stale")
    yellow += [w.code for w in f.credit]
    if yellow:
        return Decision(YELLOW, yellow, {w.code: w.params for w in f.credit if w.params})
    return Decision(GREEN, [])


def _ordered(reasons: list[str], order: tuple[str, ...]) -> list[str]:
    return sorted(dict.fromkeys(reasons), key=order.index)
