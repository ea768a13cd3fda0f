"""Texts of the credit-file codes (record kinds, states, fields, choices; complaint severities,
states, escalations), as msgids of the message catalogue; like messages.py it imports nothing
Flask, so services may use it."""
from .messages import N_

RECORD_KINDS = {
    "health_certificate": N_("Health certificate"),
    "insurance": N_("Insurance"),
    "skill_certificate": N_("Skill certificate"),
    "training": N_("Training"),
    "background_check": N_("Background check"),
    "judicial_check": N_("Judicial enforcement check"),
    "dishonesty_check": N_("Dishonesty list check"),
}

RECORD_STATES = {
    "verified": N_("verified"), "self_declared": N_("self-declared"),
    "withdrawn": N_("withdrawn"), "expired": N_("expired"),
}

RECORD_FIELDS = {
    "number": N_("Number"), "type": N_("Type"), "title": N_("Occupation"),
    "level": N_("Level"), "course": N_("Course"), "hours": N_("Hours"),
    "result": N_("Result"), "issued_on": N_("Issued on"), "valid_until": N_("Valid until"),
    "state": N_("State"), "kind": N_("Record"), "reason": N_("Reason"),
}

RECORD_SOURCES = {
    "issuer": N_("Issuer"), "insurer": N_("Insurer"), "provider": N_("Training provider"),
    "body": N_("Checking body"),
}

RECORD_CHOICES = {
    "personal_accident": N_("personal accident"), "liability": N_("liability"),
    "employer": N_("employer's liability"),
    "clear": N_("clear"), "concerns": N_("concerns found"),
    "none_found": N_("none found"), "found": N_("record found"),
    "listed": N_("on the list"),
}

COMPLAINT_SEVERITIES = {"minor": N_("minor"), "serious": N_("serious")}
COMPLAINT_STATES = {"open": N_("with the agency"), "escalated": N_("with the commerce bureau"),
                    "closed": N_("closed")}
COMPLAINT_OUTCOMES = {"upheld": N_("upheld"), "partly_upheld": N_("partly upheld"),
                      "dismissed": N_("dismissed"),
                      "settled": N_("settled by the agency (before deadlines existed)")}
COMPLAINT_ESCALATIONS = {"serious": N_("a serious complaint"),
                         "overdue": N_("not answered by its deadline")}

# the reasons of a grade (services/credit_rules.py), with their figures
GRADE_REASONS = {
    "complaint_upheld": N_("Complaint %(outcome)s (%(severity)s), decided %(on)s"),
    "stars_high": N_("%(mean)s stars on average from %(count)d reviews"),
    "stars_good": N_("%(mean)s stars on average from %(count)d reviews"),
    "stars_low": N_("Only %(mean)s stars on average from %(count)d reviews"),
    "skill": N_("Verified certificate: %(title)s %(level)s"),
    "training": N_("%(hours)s hours of verified training"),
    "check_adverse": N_("%(kind)s with an adverse result (%(on)s)"),
    "regular": N_("Checked in %(checked)d of %(due)d months"),
    "irregular": N_("Checked in only %(checked)d of %(due)d months"),
    "tenure": N_("%(months)d months of verified visits (%(visits)d visits since %(since)s)"),
    "health_expired": N_("The health check has expired."),
    "health_missing": N_("No health check on file."),
    "health_unverified": N_("The health certificate is self-declared."),
    "insurance_expired": N_("The insurance has expired."),
    "insurance_missing": N_("No insurance on file."),
    "insurance_unverified": N_("The insurance is self-declared."),
}

GRADE_TRIGGERS = {
    "review": N_("a review"), "complaint": N_("a complaint"), "record": N_("a record"),
    "visit": N_("a visit"), "appeal": N_("an appeal"), "recheck": N_("a check"),
    "daily": N_("the daily run"), "quarterly": N_("the quarterly evaluation"),
    "rules": N_("new rules"), "migration": N_("typed by staff before the rules"),
}

APPEAL_TARGETS = {"grade": N_("the grade"), "record": N_("a record"),
                  "complaint": N_("a complaint's outcome"), "review": N_("a review")}
APPEAL_STATES = {"open": N_("with the commerce bureau"), "upheld": N_("upheld"),
                 "rejected": N_("rejected")}
BAN_CATEGORIES = {"crime": N_("a crime"), "abuse": N_("abuse of a client"),
                  "theft": N_("theft"), "fraud": N_("fraud"),
                  "false_identity": N_("a false identity"),
                  "serious_breach": N_("a serious breach of contract"), "other": N_("other")}
BAN_PROPOSAL_STATES = {"open": N_("with the commerce bureau"), "accepted": N_("ban decided"),
                       "rejected": N_("rejected by the bureau")}
APPLICATION_STATES = {"submitted": N_("waiting for review"),
                      "changes_requested": N_("changes asked for"),
                      "approved": N_("approved"), "refused": N_("refused")}
