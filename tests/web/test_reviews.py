"""Verified reviews: bound to a consent tap shown on the employer page; one per tap; only for
that tap's worker; complaints count in the colour rules until resolved."""
import re

from host.wire.ndef import b64url
from tests.web.test_employer_page import EN, verdict
from verifier.services import complaints, reviews

W1, W3 = "W-0000001", "W-0000003"
AGENCY1 = "A330101"


def _csrf(text):
    return re.search(r'name="csrf" value="([^"]+)"', text).group(1)


def view_consent(site, i, client=None):
    client = client or site.client
    path = site.tap_path(i, "consent")
    r = client.get(path, headers=EN)
    assert verdict(r)[0] in ("green", "yellow"), r.text
    return path, _csrf(r.text)


def post_review(client, path, csrf, worker=W1, agency=AGENCY1, stars="4", category="",
                comment=""):
    return client.post(path + "/review", headers=EN, data={
        "csrf": csrf, "agency": agency, "worker": worker, "stars": stars,
        "category": category, "comment": comment})


def refusal(r):
    return verdict(r)[1]


def test_review_after_a_consent_view(site):
    path, csrf = view_consent(site, 1)
    r = post_review(site.client, path, csrf, stars="2", category="late",
                    comment="came an hour late")
    assert r.status_code == 201 and "Your review was recorded" in r.text
    with site.x.db.session() as s:
        [rev] = reviews.for_worker(s, AGENCY1, W1)
        assert (rev.stars, rev.category, rev.comment) == (2, "late", "came an hour late")
    # the page, reloaded, no longer offers the form
    r = site.client.get(path, headers=EN)
    assert 'name="stars"' not in r.text and "This visit has been reviewed" in r.text


def test_a_status_tap_allows_a_complaint_for_30_days_not_a_rating(site):
    path = site.tap_path(1)
    r = site.client.get(path, headers=EN)
    assert "Complain about this worker" in r.text and "Rate this service" not in r.text
    assert 'name="category" required' in r.text and "No complaint" not in r.text
    csrf = _csrf(r.text)
    r = post_review(site.client, path, csrf)                       # a rating: refused
    assert (r.status_code, refusal(r)) == (403, "no_consent_tap")
    assert "A plain status check allows a complaint only" in r.text
    assert post_review(site.app.test_client(), path, csrf, category="late").status_code == 403
    site.app.config["FIXED_NOW"] = site.world.now + 30 * 86400 + 1
    r = post_review(site.client, path, csrf, stars="1", category="late")
    assert (r.status_code, refusal(r)) == (403, "review_window")
    site.app.config["FIXED_NOW"] = site.world.now + 29 * 86400
    r = post_review(site.client, path, csrf, stars="1", category="late", comment="no-show")
    assert r.status_code == 201 and 'id="complaint-link"' in r.text
    r = post_review(site.client, path, csrf, stars="1", category="late")
    assert (r.status_code, refusal(r)) == (409, "already_reviewed")
    with site.x.db.session() as s:
        [rev] = reviews.for_worker(s, AGENCY1, W1)
        assert (rev.stars, rev.category, rev.comment) == (1, "late", "no-show")
        [c] = complaints.for_worker(s, AGENCY1, W1).values()
        assert (c.state, c.severity) == ("open", "minor")


def test_refused_without_a_consent_tap(site):
    csrf = view_consent(site, 3)[1]          # a valid form token of this browser
    # a consent token that was never shown (nobody had the worker at the door)
    token, cred = site.tap(1, "consent")
    r = post_review(site.client, "/t/" + b64url(token + cred), csrf)
    assert (r.status_code, refusal(r)) == (403, "no_consent_tap")
    # a consent token verified through the API only
    token, cred = site.tap(1, "consent")
    site.client.post("/api/v1/verify", data=token + cred, content_type="application/cbor")
    r = post_review(site.client, "/t/" + b64url(token + cred), csrf)
    assert (r.status_code, refusal(r)) == (403, "no_consent_tap")
    # garbage
    r = post_review(site.client, "/t/AAAA", csrf)
    assert (r.status_code, refusal(r)) == (403, "no_consent_tap")


def test_second_review_for_one_tap_refused(site):
    path, csrf = view_consent(site, 1)
    assert post_review(site.client, path, csrf).status_code == 201
    r = post_review(site.client, path, csrf, stars="1", category="attitude")
    assert (r.status_code, refusal(r)) == (409, "already_reviewed")
    assert "one review or complaint per tap" in r.text
    with site.x.db.session() as s:
        assert len(reviews.for_worker(s, AGENCY1, W1)) == 1


def test_review_for_another_workers_tap_refused(site):
    path, csrf = view_consent(site, 1)                 # worker 1's tap ...
    r = post_review(site.client, path, csrf, worker=W3, category="safety")   # ... about 3
    assert (r.status_code, refusal(r)) == (403, "other_worker")
    assert "belongs to another worker" in r.text
    r = post_review(site.client, path, csrf, agency="A330100")
    assert (r.status_code, refusal(r)) == (403, "other_worker")
    with site.x.db.session() as s:
        assert reviews.for_worker(s, AGENCY1, W3) == []


def test_only_the_browser_that_saw_the_consent_page(site):
    path, csrf = view_consent(site, 1)
    other = site.app.test_client()
    r = post_review(other, path, csrf)
    assert (r.status_code, refusal(r)) == (403, "not_viewer")
    other.set_cookie("xv", "x" * 32, path="/t/")      # a cookie of its own, wrong form token
    r = post_review(other, path, csrf)
    assert (r.status_code, refusal(r)) == (403, "not_viewer")


def test_bad_reviews_and_the_review_window(site):
    path, csrf = view_consent(site, 1)
    for stars, cat, comment in (("0", "", ""), ("6", "", ""), ("x", "", ""),
                                ("3", "nonsense", ""), ("3", "other", "x" * 501)):
        r = post_review(site.client, path, csrf, stars=stars, category=cat, comment=comment)
        assert (r.status_code, refusal(r)) == (400, "bad_review"), (stars, cat)
    site.app.config["FIXED_NOW"] = site.world.now + 8 * 86400
    r = post_review(site.client, path, csrf)
    assert (r.status_code, refusal(r)) == (403, "review_window")


def test_three_complaints_turn_the_page_yellow_until_resolved(site):
    for n in range(3):
        path, csrf = view_consent(site, 3)
        assert post_review(site.client, path, csrf, worker=W3, stars="1",
                           category="quality").status_code == 201
        r = site.client.get(site.tap_path(3), headers=EN)
        want = ("yellow", "complaints") if n == 2 else ("green", "ok")
        assert verdict(r) == want, n
    # a plain low rating is not a complaint
    path, csrf = view_consent(site, 5)
    assert post_review(site.client, path, csrf, worker="W-0000005",
                       stars="1").status_code == 201
    assert verdict(site.client.get(site.tap_path(5)))[0] == "green"
    # the agency decides one (a minor complaint, within its deadline): the complaints warning
    # goes; three 1-star reviews in 90 days stay a warning of their own (credit rules)
    with site.x.db.session() as s:
        rid = reviews.for_worker(s, AGENCY1, W3)[0].id
        [cid] = [c.id for r, c in complaints.for_worker(s, AGENCY1, W3).items() if r == rid]
        complaints.propose(s, AGENCY1, cid, "partly_upheld", "talked to the worker",
                           site.x.now(), "staff:t")
    r = site.client.get(site.tap_path(3), headers=EN)
    assert verdict(r) == ("yellow", "poor_reviews")
    assert "3 poor reviews (2 stars or fewer) since 2027-01-01." in r.text


def test_complaints_older_than_90_days_do_not_count(site):
    for _ in range(3):
        path, csrf = view_consent(site, 3)
        assert post_review(site.client, path, csrf, worker=W3, stars="1",
                           category="quality").status_code == 201
    assert verdict(site.client.get(site.tap_path(3), headers=EN)) == ("yellow", "complaints")
    site.app.config["FIXED_NOW"] = site.world.now + 91 * 86400
    r = site.client.get(site.tap_path(3), headers=EN)
    # (the status list held is now stale too: yellow for that reason only)
    assert verdict(r) == ("yellow", "status_stale")
    assert "complaints" not in r.text


def test_a_review_changes_no_cookie_of_the_browser(site):
    """The employer page's form token is the browser session's (Flask-WTF); the review
    itself sets no cookie (a page whose cookies change is not restored from the back/forward
    cache, and nothing about the review belongs in the browser)."""
    path, csrf = view_consent(site, 5)
    assert site.client.get_cookie("session") is not None
    r = post_review(site.client, path, csrf, worker="W-0000005")
    assert r.status_code == 201, r.text
    assert r.headers.getlist("Set-Cookie") == []
