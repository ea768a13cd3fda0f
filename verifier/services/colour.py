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
  - the health certificate or the insurance is expired, not on file, or only self-declared
    (workers in this registry; services/records.required_state);
  - COMPLAINT_LIMIT or more unresolved complaints in the last COMPLAINT_DAYS days.
green: genuine, current, active, and none of the yellow reasons.

Every applicable reason is listed, red ones first, in the order of RED_REASONS and
YELLOW_REASONS; the first is the headline. The decision needs no Flask and no database:
callers gather the `Facts`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

GREEN, YELLOW, RED = "green", "yellow", "red"

COMPLAINT_LIMIT = 3          # unresolved complaints ...
COMPLAINT_DAYS = 90          # ... within this many days turn the page yellow

# Reasons in the order they are reported (the first one found is the headline).
RED_REASONS = ("banned", "malformed", "oversized", "wrong_alg", "bad_signature", "unknown_key",
               "untrusted_issuer", "expired", "not_yet_valid", "wrong_purpose", "revoked",
               "suspended", "lost", "cancelled", "already_used", "replayed", "stale_status",
               "rate_limited")
YELLOW_REASONS = ("status_unknown", "status_stale", "health_expired", "health_missing",
                  "health_unverified", "insurance_expired", "insurance_missing",
                  "insurance_unverified", "complaints")


@dataclass
class Facts:
    """What is known about one showing of a tap."""
    valid: bool                       # verification.check() passed (and the tap was booked)
    reason: str | None = None         # the verifier's reason when not valid
    status: str | None = None         # valid / suspended / revoked / unknown
    stale: bool = False
    badge_state: str | None = None    # registry state when the badge is registered here
    worker_state: str | None = None   # active / cancelled, when known
    health: str = "missing"           # ok / unverified / expired / missing (records.py)
    insurance: str = "missing"
    worker_known: bool = False        # the worker is in this verifier's registry
    open_complaints: int = 0          # unresolved, within COMPLAINT_DAYS
    banned: bool = False              # a bureau ban of the worker's person is in force
    now: int = 0


@dataclass
class Decision:
    colour: str
    reasons: list[str] = field(default_factory=list)

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
    if f.worker_known:             # only the registry knows health and insurance
        yellow += [f"{what}_{state}" for what, state in (("health", f.health),
                                                         ("insurance", f.insurance))
                   if state != "ok"]
    if f.open_complaints >= COMPLAINT_LIMIT:
        yellow.append("complaints")
    if yellow:
        return Decision(YELLOW, yellow)
    return Decision(GREEN, [])


def _ordered(reasons: list[str], order: tuple[str, ...]) -> list[str]:
    return sorted(dict.fromkeys(reasons), key=order.index)
