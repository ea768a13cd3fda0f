"""The colour rules (verifier/services/colour.py), case by case; the credit warnings they take
from the credit rules are tested in tests/verifier/test_credit_rules.py."""
import pytest

from verifier.services.colour import GREEN, RED, YELLOW, Facts, decide
from verifier.services.credit_rules import Reason

NOW = 1_800_000_000
GOOD = dict(valid=True, status="valid", worker_state="active", badge_state="active", now=NOW)
POOR = Reason("poor_reviews", params={"count": 3, "since": NOW - 86400})


def facts(**kw):
    return Facts(**{**GOOD, **kw})


@pytest.mark.parametrize("kw,colour,reasons", [
    ({}, GREEN, []),
    ({"badge_state": "registered"}, GREEN, []),
    ({"valid": False, "reason": "bad_signature"}, RED, ["bad_signature"]),
    ({"valid": False, "reason": "something new"}, RED, ["malformed"]),
    ({"valid": False, "reason": "revoked", "badge_state": "revoked"}, RED, ["revoked"]),
    ({"badge_state": "suspended"}, RED, ["suspended"]),
    ({"badge_state": "lost", "worker_state": "cancelled"}, RED, ["lost", "cancelled"]),
    ({"valid": False, "reason": "already_used", "credit": [Reason("health_expired")]}, RED,
     ["already_used"]),
    ({"banned": True, "credit": [POOR]}, RED, ["banned"]),
    ({"status": "unknown"}, YELLOW, ["status_unknown"]),
    ({"stale": True}, YELLOW, ["status_stale"]),
    ({"credit": [Reason("health_expired")]}, YELLOW, ["health_expired"]),
    ({"credit": [Reason("health_missing"), Reason("insurance_expired")]}, YELLOW,
     ["health_missing", "insurance_expired"]),
    ({"credit": [POOR], "stale": True}, YELLOW, ["status_stale", "poor_reviews"]),
])
def test_rules(kw, colour, reasons):
    d = decide(facts(**kw))
    assert (d.colour, d.reasons) == (colour, reasons)
    assert d.headline == (reasons[0] if reasons else "ok")


def test_a_warning_keeps_its_figures_for_the_page():
    d = decide(facts(credit=[Reason("health_expired"), POOR]))
    assert d.params == {"poor_reviews": {"count": 3, "since": NOW - 86400}}
