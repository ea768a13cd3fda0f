"""Verified reviews: the employer may rate the service (1-5 stars) and optionally complain
(a category and a comment), bound either to a consent tap or to a verified visit.

A verified visit (`submit_for_visit`): the household that confirmed it, within
`VISIT_REVIEW_WINDOW_S` of its arrival, once per visit (`already_reviewed`; also a unique
constraint); no consent tap needed. Anyone else's visit is `not_your_visit`, as on the
receipt page.

A tap shown on the employer page (`submit`):

- a rating needs a consent tap, within `REVIEW_WINDOW_S`; a complaint needs a consent or a
  status tap of that worker, within `COMPLAINT_WINDOW_S` (30 days): a status tap without a
  complaint, an unknown token or a token booked only through the API is refused
  (`no_consent_tap`); only the browser that opened the page may (`not_viewer`);
- one per tap (`already_reviewed`; also a unique constraint);
- only for the worker of that tap (`other_worker`).

A review with a category is a complaint: its process (deadline, reply, outcome, escalation,
the bureau's decision) is services/complaints.py; it counts in the colour rules
(services/colour.py) until that process closes it (`resolved_at`).
"""
from __future__ import annotations

import logging

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..models import Household, Review, TapView, Visit
from . import events
from .credit_rules import CURRENT
from .errors import BadRequest, Conflict, Forbidden, NotFound

log = logging.getLogger(__name__)

CATEGORIES = ("late", "attitude", "quality", "safety", "honesty", "other")
REVIEW_WINDOW_S = 7 * 86400
COMPLAINT_WINDOW_S = 30 * 86400            # a complaint from a tap (status or consent)
VISIT_REVIEW_WINDOW_S = 30 * 86400
COMMENT_MAX = 500


class ReviewRefused(Forbidden):
    reason = "review_refused"


def exists_for(session: Session, view_id: int) -> bool:
    return session.scalar(select(Review.id).where(Review.view_id == view_id)) is not None


def open_complaints(session: Session, agency_id: str, worker_ref: str, now: int,
                    days: int = CURRENT.complaint_days) -> int:
    """Unresolved complaints about a worker within the last `days` days."""
    return session.scalar(select(func.count(Review.id)).where(
        Review.agency_id == agency_id, Review.worker_ref == worker_ref,
        Review.category.is_not(None), Review.resolved_at.is_(None),
        Review.created_at >= now - days * 86400)) or 0


def submit(session: Session, token_hash: str | None, viewer_hash: str, agency_id: str,
           worker_ref: str, stars: str | int | None, category: str | None,
           comment: str | None, now: int,
           window: int = REVIEW_WINDOW_S) -> Review:
    """Store a review for the tap whose token hashes to `token_hash` (module docstring);
    raises ReviewRefused / Conflict / BadRequest with a stable reason."""
    view = session.scalar(select(TapView).where(TapView.token_hash == token_hash)) \
        if token_hash else None
    complaint = bool(category)
    if view is None or (view.purpose != "consent" and not complaint):
        raise ReviewRefused("a rating needs a consent tap shown on this page; a status tap "
                            "allows a complaint", reason="no_consent_tap")
    if view.viewer_hash != viewer_hash:
        raise ReviewRefused("only the phone that opened the consent page may review",
                            reason="not_viewer")
    if (view.agency_id, view.worker_ref) != (agency_id, worker_ref):
        raise ReviewRefused("this consent tap belongs to another worker", reason="other_worker")
    if exists_for(session, view.id):
        raise Conflict("this tap already has a review", reason="already_reviewed")
    if now - view.first_at > (COMPLAINT_WINDOW_S if complaint else window):
        raise ReviewRefused("the time to review this visit is over", reason="review_window")
    return _store(session, Review(view_id=view.id, agency_id=view.agency_id,
                                  worker_ref=view.worker_ref, created_at=now),
                  stars, category, comment, f"this {view.purpose} tap")


def _store(session: Session, review: Review, stars: str | int | None, category: str | None,
           comment: str | None, what: str) -> Review:
    """Validate the form into `review` and insert it; the unique constraint (one review per
    tap, per visit) turns a concurrent second one into `already_reviewed`."""
    review.stars, review.category, review.comment = _validate(stars, category, comment)
    try:
        with session.begin_nested():
            session.add(review)
            session.flush()
    except IntegrityError as err:
        raise Conflict(f"{what} already has a review", reason="already_reviewed") from err
    events.credit_changed(session, review.agency_id, review.worker_ref, review.created_at,
                          "review")
    log.info("review of %s recorded: agency %s, %d stars%s", what, review.agency_id,
             review.stars, f", complaint ({review.category})" if review.category else "")
    return review


def for_visit(session: Session, visit_id: int) -> Review | None:
    return session.scalar(select(Review).where(Review.visit_id == visit_id))


def reviewed_visits(session: Session, visit_ids: list[int]) -> set[int]:
    if not visit_ids:
        return set()
    return {i for i in session.scalars(select(Review.visit_id).where(
        Review.visit_id.in_(visit_ids))) if i is not None}


def visit_window_open(v: Visit, now: int, window: int = VISIT_REVIEW_WINDOW_S) -> bool:
    """Whether the visit may still be reviewed (its arrival at most `window` ago)."""
    return now - v.start_at <= window


def submit_for_visit(session: Session, visit_id: int, household: Household | None,
                     stars: str | int | None, category: str | None, comment: str | None,
                     now: int, window: int = VISIT_REVIEW_WINDOW_S) -> Review:
    """Store the household's review of a visit it confirmed (module docstring)."""
    v = session.get(Visit, visit_id)
    if v is None or household is None or v.household_id != household.id:
        raise NotFound("not a visit of this household", reason="not_your_visit")
    if for_visit(session, v.id) is not None:
        raise Conflict("this visit already has a review", reason="already_reviewed")
    if not visit_window_open(v, now, window):
        raise ReviewRefused("the time to review this visit is over", reason="review_window")
    return _store(session, Review(visit_id=v.id, agency_id=v.agency_id,
                                  worker_ref=v.worker_ref, created_at=now),
                  stars, category, comment, f"visit {v.id}")


def _validate(stars: str | int | None, category: str | None,
              comment: str | None) -> tuple[int, str | None, str | None]:
    try:
        n = int(stars if stars is not None else "")
    except (TypeError, ValueError) as err:
        raise BadRequest("stars must be 1 to 5", reason="bad_review") from err
    if not 1 <= n <= 5:
        raise BadRequest("stars must be 1 to 5", reason="bad_review")
    category = category or None
    if category is not None and category not in CATEGORIES:
        raise BadRequest("unknown complaint category", reason="bad_review")
    comment = (comment or "").strip() or None
    if comment is not None and len(comment) > COMMENT_MAX:
        raise BadRequest(f"a comment has at most {COMMENT_MAX} characters",
                         reason="bad_review")
    return n, category, comment


def for_worker(session: Session, agency_id: str, worker_ref: str,
               limit: int = 100) -> list[Review]:
    return list(session.scalars(select(Review).where(Review.agency_id == agency_id,
                                                     Review.worker_ref == worker_ref)
                                .order_by(Review.id.desc()).limit(limit)))
