"""The complainant's status page (`GET /complaints/<secret>`, the link given when the
complaint was filed): what happened so far, no JavaScript. Logic in services/complaints.py."""
from flask import Blueprint, make_response, render_template

from ..models import Review
from ..services import complaints
from ..services.errors import ServiceError
from . import employer as employer_view
from .common import ext, refused

bp = Blueprint("complaints", __name__)


@bp.get("/complaints/<secret>")
def status(secret):
    x = ext()
    try:
        with x.db.session() as s:
            complaints.escalate_overdue(s, x.now())
            c = complaints.by_secret(s, secret[:64])
            body = render_template("complaints/status.html", c=c,
                                   review=s.get(Review, c.review_id), now=x.now())
    except ServiceError as err:
        refused(err.reason, "complaint status")
        body = render_template("complaints/status.html", c=None, review=None, now=x.now())
        return employer_view._finish(make_response(body, 404))
    return employer_view._finish(make_response(body, 200))
