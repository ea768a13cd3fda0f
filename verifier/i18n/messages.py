"""The texts of the codes that services and views return (verdicts, reasons, categories,
states, actions, refusals), as msgids of the message catalogue. Imports nothing: services may
use it without Flask; verifier/i18n/__init__.py translates them per request."""


def N_(msgid):
    """Marks a msgid for extraction; translated where it is shown."""
    return msgid


VERDICTS = {
    "green": N_("Genuine and active"),
    "yellow": N_("Genuine, but check"),
    "red": N_("Do not trust"),
}

REASONS = {
    "ok": N_("The badge is genuine, current and active."),
    "banned": N_("Not permitted to work (bureau decision)."),
    "malformed": N_("This link is damaged or incomplete. Ask the worker to tap the badge "
                    "again."),
    "oversized": N_("This link is far too long to come from a badge."),
    "wrong_alg": N_("The badge's signature is not genuine: the badge may be forged."),
    "bad_signature": N_("The badge's signature is not genuine: the badge may be forged."),
    "unknown_key": N_("The badge's key is not known here: the badge may be forged or "
                      "belong to another system."),
    "untrusted_issuer": N_("The agency that issued this badge is not on the trusted list."),
    "expired": N_("The badge's credential has expired."),
    "not_yet_valid": N_("The badge's credential is not valid yet."),
    "wrong_purpose": N_("This is not an employer link: it is meant for a check-in "
                        "terminal."),
    "revoked": N_("The agency has revoked this badge."),
    "suspended": N_("The agency has suspended this badge."),
    "lost": N_("This badge was reported lost."),
    "cancelled": N_("The worker's registration was cancelled."),
    "already_used": N_("This link was already used. Ask the worker to tap the badge again."),
    "replayed": N_("This link is old or a copy. Ask the worker to tap the badge again."),
    "stale_status": N_("The revocation list is out of date, so the badge cannot be checked "
                       "now."),
    "rate_limited": N_("Too many checks from this network. Wait a minute, then tap again."),
    "status_unknown": N_("The badge is genuine, but its current status could not be "
                         "confirmed."),
    "status_stale": N_("The badge is genuine, but the revocation list is out of date."),
    "health_expired": N_("The health check has expired."),
    "health_missing": N_("No health check on file."),
    "health_unverified": N_("The health certificate is self-declared: the agency has not "
                            "checked it."),
    "insurance_expired": N_("The insurance has expired."),
    "insurance_unverified": N_("The insurance is self-declared: the agency has not checked "
                               "it."),
    "insurance_missing": N_("No insurance on file."),
    "records_incomplete": N_("The health check or the insurance needs attention. Ask the "
                             "worker to press the badge button to share details."),
    "complaints": N_("%(count)d unresolved complaints since %(since)s."),
    "poor_reviews": N_("%(count)d poor reviews (2 stars or fewer) since %(since)s."),
}

CATEGORIES = {
    "late": N_("Late or absent"),
    "attitude": N_("Attitude"),
    "quality": N_("Quality of work"),
    "safety": N_("Safety"),
    "honesty": N_("Honesty"),
    "other": N_("Other"),
}

BADGE_STATES = {
    "registered": N_("registered"), "active": N_("active"), "suspended": N_("suspended"),
    "lost": N_("lost"), "revoked": N_("revoked"),
}

WORKER_STATES = {"active": N_("active"), "cancelled": N_("cancelled")}
# what a consent tap can show (host.wire SCOPE_NAMES): the worker page's choice
SCOPE_LABELS = {"certificates": N_("skill certificates"), "health": N_("health certificate"),
                "insurance": N_("insurance"), "agency": N_("the agency"),
                "credit": N_("credit grade and warnings"),
                "attendance": N_("check-ins (attendance)")}

ACTIONS = {
    "suspend": N_("Suspend"), "reinstate": N_("Reinstate"), "lose": N_("Report lost"),
    "revoke": N_("Revoke"), "activate": N_("Activate"), "cancel": N_("Cancel registration"),
}

REVIEW_REFUSALS = {
    "no_consent_tap": N_("A review needs a consent tap: ask the worker to press the badge "
                         "button, tap the badge, and review from that page. A plain status "
                         "check allows a complaint only."),
    "not_viewer": N_("Only the phone that opened the consent page can review this visit."),
    "other_worker": N_("This consent tap belongs to another worker: a review can only be "
                       "about the worker who was tapped."),
    "already_reviewed": N_("This visit already has a review: one review or complaint per "
                           "tap."),
    "review_window": N_("The time to review this visit is over."),
    "bad_review": N_("Please give 1 to 5 stars, a known category and at most 500 "
                     "characters."),
}
