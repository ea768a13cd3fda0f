"""Texts of the verified-visit codes (service types, refusals), as msgids of the message
catalogue; like messages.py it imports nothing Flask, so services may use it."""
from .messages import N_

SERVICE_NAMES = {
    "cleaning": N_("Cleaning"),
    "infant_care": N_("Infant care"),
    "elder_care": N_("Elderly care"),
    "cooking": N_("Cooking"),
    "hourly": N_("Hourly help"),
}

VISIT_REFUSALS = {
    "no_tap": N_("This link was never opened as a badge check on this phone. Tap the badge "
                 "again."),
    "not_viewer": N_("Only the phone that opened this badge check can confirm the visit."),
    "bad_form": N_("This form has expired. Tap the badge again."),
    "red_page": N_("The badge check is not green or yellow: no visit can be confirmed."),
    "already_confirmed": N_("This tap was already used for a visit. Each tap confirms once: "
                            "tap the badge again."),
    "bad_service_type": N_("Please choose a service type from the list."),
    "bad_district": N_("The district is too long."),
    "visit_open": N_("This visit is still open: end it with a tap at departure."),
    "visit_overlap": N_("This badge has another household's visit open right now. The "
                        "agency has been told."),
    "no_open_visit": N_("There is no open visit of this worker for this phone: confirm the "
                        "arrival first."),
    "household_unknown": N_("This phone's household key is not known here. Use your "
                            "recovery code, or remove the site's cookies to start afresh."),
    "household_expired": N_("This phone's household key has expired. Use your recovery "
                            "code to restore it."),
    "bad_recovery_code": N_("This recovery code is not known."),
    "not_your_visit": N_("This visit does not belong to this phone's household."),
    "no_receipt_key": N_("This service cannot sign receipts yet."),
    "rate_limited": N_("Too many requests. Wait a minute."),
    "already_reviewed": N_("This visit already has a review: one review per visit."),
    "review_window": N_("The time to review this visit is over: a visit may be reviewed "
                        "for 30 days."),
    "bad_review": N_("Please give 1 to 5 stars, a known category and at most 500 "
                     "characters."),
}

SIGNAL_KINDS = {
    "overlap": N_("Overlapping visits: an arrival while another household's visit of the "
                  "badge was open"),
    "late_confirm": N_("Late confirmation: the arrival was confirmed long after the page "
                       "was opened"),
    "many_workers": N_("One household confirming visits of many workers"),
    "one_worker_only": N_("A household that only ever confirms one worker (weak alone)"),
    "never_reviewed": N_("A household whose visits are never reviewed (weak alone)"),
    "instant_confirm": N_("Every confirmation at the minute of the tap (weak alone)"),
}

CLOSED_BY = {"departure": N_("departure tap"), "auto": N_("closed automatically")}
