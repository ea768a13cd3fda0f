"""The colour rules (verifier/services/colour.py), case by case."""
import pytest

from verifier.services.colour import (COMPLAINT_LIMIT, GREEN, RED, YELLOW, Facts, decide)

NOW = 1_800_000_000
GOOD = dict(valid=True, status="valid", worker_known=True, worker_state="active",
            badge_state="active", health="ok", insurance="ok", now=NOW)


def facts(**kw):
    return Facts(**{**GOOD, **kw})


@pytest.mark.parametrize("kw,colour,reasons", [
    ({}, GREEN, []),
    ({"badge_state": "registered"}, GREEN, []),
    ({"worker_known": False, "health": "missing", "insurance": "missing"}, GREEN, []),
    ({"valid": False, "reason": "bad_signature"}, RED, ["bad_signature"]),
    ({"valid": False, "reason": "something new"}, RED, ["malformed"]),
    ({"valid": False, "reason": "revoked", "badge_state": "revoked"}, RED, ["revoked"]),
    ({"badge_state": "suspended"}, RED, ["suspended"]),
    ({"badge_state": "lost", "worker_state": "cancelled"}, RED, ["lost", "cancelled"]),
    ({"valid": False, "reason": "already_used", "health": "expired"}, RED, ["already_used"]),
    ({"status": "unknown"}, YELLOW, ["status_unknown"]),
    ({"stale": True}, YELLOW, ["status_stale"]),
    ({"health": "expired"}, YELLOW, ["health_expired"]),
    ({"health": "unverified"}, YELLOW, ["health_unverified"]),
    ({"health": "missing", "insurance": "expired"}, YELLOW,
     ["health_missing", "insurance_expired"]),
    ({"open_complaints": COMPLAINT_LIMIT - 1}, GREEN, []),
    ({"open_complaints": COMPLAINT_LIMIT}, YELLOW, ["complaints"]),
    ({"open_complaints": 9, "stale": True}, YELLOW, ["status_stale", "complaints"]),
])
def test_rules(kw, colour, reasons):
    d = decide(facts(**kw))
    assert (d.colour, d.reasons) == (colour, reasons)
    assert d.headline == (reasons[0] if reasons else "ok")
