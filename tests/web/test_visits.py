"""Verified visits: arrival and departure taps on the employer page, the household key, the
signed receipt (checked with pycose, an independent COSE implementation), and bad input, on
SQLite and PostgreSQL."""
import re

import cbor2
import pytest
from cose.keys import EC2Key
from cose.messages import CoseMessage
from sqlalchemy import func, select

from host import wire
from host.wire import keys as wire_keys
from tests.web.conftest import Site, day_of
from tests.web.test_employer_page import EN, verdict
from tests.verifier.conftest import make_app
from tests.host.test_idnumber import with_check_digit
from verifier.models import Agreement, AuditEntry, FraudSignal, Household, Review, Visit
from verifier.services import reviews, visits

HOUR = 3600


@pytest.fixture
def vsite(db_url, world):
    app = make_app(db_url, world, RECEIPT_SIGNING_KEY=wire_keys.generate())
    s = Site(app, world)
    yield s
    s.x.db.engine.dispose()


def offer(r):
    m = re.search(r'id="visit" data-offer="(\w+)"', r.text)
    return m.group(1) if m else None


def csrf(r):
    return re.search(r'name="csrf" value="([^"]+)"', r.text).group(1)


def form_token(client):
    """The CSRF token of this phone's browser session (what every form of its pages carries;
    read from a page that has a form and changes nothing)."""
    return csrf(client.get("/console/login"))


def open_tap(site, i, client):
    path = site.tap_path(i)
    r = client.get(path, headers=EN)
    return path, r


def arrive(site, i, client, service="cleaning", district=""):
    path, r = open_tap(site, i, client)
    assert offer(r) == "arrive", r.text
    return path, client.post(path + "/arrive", headers=EN, data={
        "csrf": csrf(r), "service": service, "district": district})


def depart(site, i, client):
    path, r = open_tap(site, i, client)
    assert offer(r) == "end", r.text
    return path, client.post(path + "/depart", headers=EN, data={"csrf": csrf(r)})


def visit_id(r):
    return int(re.search(r'data-visit="(\d+)"', r.text).group(1))


def counts(site):
    with site.x.db.session() as s:
        return (s.scalar(select(func.count(Visit.id))),
                s.scalar(select(func.count(Household.id))))


def later(site, seconds):
    site.app.config["FIXED_NOW"] = site.x.now() + seconds


def pycose_claims(data, key_map):
    """The claims of a receipt, verified by pycose against the published COSE_Key."""
    msg = CoseMessage.decode(data)
    msg.key = EC2Key.from_dict({1: 2, -1: 1, -2: key_map[-2], -3: key_map[-3]})
    assert msg.verify_signature()
    return cbor2.loads(msg.payload)


def test_arrival_departure_and_a_receipt_pycose_verifies(vsite):
    site, c = vsite, vsite.client
    start = site.x.now()
    _, r = arrive(site, 0, c, "elder_care", "徐汇区")
    assert r.status_code == 201 and verdict(r) == ("green", "arrive"), r.text
    code = re.search(r'id="recovery">([A-Z0-9-]+)<', r.text).group(1)
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", code)
    assert c.get_cookie("xh") is not None
    vid = visit_id(r)
    later(site, 3 * HOUR)
    _, r = depart(site, 0, c)
    assert r.status_code == 201 and verdict(r) == ("green", "depart"), r.text
    assert "Duration: 3 h" in r.text
    r = c.get(f"/visits/{vid}", headers=EN)
    assert r.status_code == 200 and 'data-closed="departure"' in r.text
    data = c.get(f"/visits/{vid}/receipt.cose").data
    key_map = cbor2.loads(c.get("/api/v1/receipt-key").data)
    claims = pycose_claims(data, key_map)
    with site.x.db.session() as s:
        v = s.get(Visit, vid)
        pseudonym = s.get(Household, v.household_id).pseudonym
    assert claims["typ"] == "xinka-visit-receipt" and claims["svc"] == "elder_care"
    assert (claims["hh"], claims["serial"], claims["agency"]) == \
        (pseudonym, v.serial, "A330100")
    assert v.serial and v.serial in c.get(f"/visits/{vid}", headers=EN).text
    assert (claims["start"], claims["end"]) == (start, start + 3 * HOUR)
    assert claims["ctr_end"] > claims["ctr_start"] and claims["district"] == "徐汇区"
    assert claims["closed_by"] == "departure"
    # a tampered receipt fails both the independent check and ours
    bad = bytearray(data)
    bad[data.index(b"elder_care")] ^= 1
    with pytest.raises(AssertionError):             # pycose: the signature does not verify
        pycose_claims(bytes(bad), key_map)
    with pytest.raises(wire.BadSignature):
        visits.check_receipt(bytes(bad), wire_keys.public_key_of(
            site.app.config["RECEIPT_SIGNING_KEY"]))
    assert visits.check_receipt(data, wire_keys.public_key_of(
        site.app.config["RECEIPT_SIGNING_KEY"]))["visit"] == vid
    with site.x.db.session() as s:
        h = visits.history(s, "A330100", v.worker_ref)
    assert (h["visits"], h["households"], h["service_types"]) == (1, 1, ["elder_care"])


def test_second_household_stays_apart(vsite):
    site = vsite
    a, b = site.client, site.app.test_client()
    _, r = arrive(site, 0, a)
    va = visit_id(r)
    later(site, HOUR)
    depart(site, 0, a)
    _, r = arrive(site, 0, b, "cooking")
    vb = visit_id(r)
    ha = re.search(r'id="household">([\w-]+)<', a.get(f"/visits/{va}", headers=EN).text)
    hb = re.search(r'id="household">([\w-]+)<', r.text)
    assert ha.group(1) != hb.group(1)
    # neither sees the other's visit
    for client, vid in ((a, vb), (b, va)):
        r = client.get(f"/visits/{vid}", headers=EN)
        assert (r.status_code, verdict(r)) == (404, ("red", "not_your_visit"))
        assert client.get(f"/visits/{vid}/receipt.cose").status_code == 404
    # household a tapping badge 0 while b's visit is open: an overlap, refused and signalled
    path, r = open_tap(site, 0, a)
    assert offer(r) == "arrive"
    before = counts(site)
    r = a.post(path + "/arrive", headers=EN, data={"csrf": csrf(r), "service": "cleaning"})
    assert (r.status_code, verdict(r)) == (409, ("red", "visit_overlap"))
    assert counts(site) == before
    with site.x.db.session() as s:
        [sig] = s.scalars(select(FraudSignal)).all()
        assert (sig.kind, sig.agency_id, sig.visit_id) == ("overlap", "A330100", vb)


def test_departure_without_arrival_and_replayed_arrival(vsite):
    site, c = vsite, vsite.client
    path, r = open_tap(site, 0, c)
    r = c.post(path + "/depart", headers=EN, data={"csrf": csrf(r)})
    assert (r.status_code, verdict(r)) == (409, ("red", "no_open_visit"))
    assert counts(site) == (0, 0)
    path, r = arrive(site, 0, c)
    assert r.status_code == 201
    token = form_token(c)
    # the same arrival link again: once only
    r = c.post(path + "/arrive", headers=EN, data={"csrf": token, "service": "cleaning"})
    assert (r.status_code, verdict(r)) == (409, ("red", "already_confirmed"))
    # the link replayed from another phone
    other = site.app.test_client()
    r = other.post(path + "/arrive", headers=EN, data={"csrf": token, "service": "cleaning"})
    assert (r.status_code, verdict(r)) == (403, ("red", "bad_form"))
    other.set_cookie("xv", c.get_cookie("xv", path="/t/").value, path="/t/")
    later(site, site.app.config["RELOAD_WINDOW_S"] + 1)
    r = other.post(path + "/arrive", headers=EN, data={"csrf": token, "service": "cleaning"})
    assert verdict(r)[0] == "red" and r.status_code in (403, 409)
    assert counts(site) == (1, 1)
    # a service type outside the catalogue
    path, r = open_tap(site, 1, c)
    r = c.post(path + "/arrive", headers=EN, data={"csrf": csrf(r), "service": "massage"})
    assert (r.status_code, verdict(r)) == (400, ("red", "bad_service_type"))
    assert counts(site) == (1, 1)


def test_forged_and_expired_household_cookie(vsite):
    site, c = vsite, vsite.client
    c.set_cookie("xh", "forged-" + "x" * 36, path="/")
    path, r = open_tap(site, 0, c)
    assert 'data-offer="household" data-reason="household_unknown"' in r.text
    r = c.post(path + "/arrive", headers=EN, data={"csrf": form_token(c),
                                                    "service": "cleaning"})
    assert (r.status_code, verdict(r)) == (403, ("red", "household_unknown"))
    assert counts(site) == (0, 0)
    c.delete_cookie("xh", path="/")
    _, r = arrive(site, 1, c)
    code = re.search(r'id="recovery">([A-Z0-9-]+)<', r.text).group(1)
    site.app.config["HOUSEHOLD_TTL_S"] = 2 * HOUR       # (a badge's credential outlives it)
    later(site, 2 * HOUR + 1)
    path, r = open_tap(site, 3, c)
    assert 'data-reason="household_expired"' in r.text
    r = c.post(path + "/arrive", headers=EN, data={"csrf": form_token(c),
                                                    "service": "cleaning"})
    assert (r.status_code, verdict(r)) == (403, ("red", "household_expired"))
    # the recovery code restores the household (a new key; the old cookie is replaced)
    r = c.post("/visits/recover", headers=EN, data={"code": code.lower()})
    assert (r.status_code, verdict(r)) == (403, ("red", "bad_form"))     # no CSRF token
    r = c.post("/visits/recover", headers=EN, data={"code": code.lower(),
                                                     "csrf": form_token(c)})
    assert r.status_code == 200 and verdict(r) == ("green", "recover")
    _, r = arrive(site, 3, c)
    assert r.status_code == 201 and 'id="recovery"' not in r.text
    assert counts(site)[1] == 1
    n = site.app.test_client()
    r = n.post("/visits/recover", headers=EN, data={"code": "AAAA", "csrf": form_token(n)})
    assert (r.status_code, verdict(r)) == (403, ("red", "bad_recovery_code"))


def test_revoked_badge_at_arrival_opens_nothing(vsite):
    site, c = vsite, vsite.client
    path, r = open_tap(site, 2, c)          # badge 2 is revoked
    assert verdict(r)[0] == "red" and offer(r) is None
    r = c.post(path + "/arrive", headers=EN, data={"csrf": csrf(c.get(site.tap_path(0))),
                                                    "service": "cleaning"})
    assert verdict(r)[0] == "red" and r.status_code == 403
    assert counts(site) == (0, 0)


def test_open_visit_closes_itself_after_the_maximum(vsite):
    site, c = vsite, vsite.client
    _, r = arrive(site, 0, c)
    vid = visit_id(r)
    later(site, site.app.config["VISIT_MAX_S"] + 60)
    _, r = open_tap(site, 0, c)
    assert offer(r) == "arrive"              # nothing left to end
    with site.x.db.session() as s:
        v = s.get(Visit, vid)
        assert (v.closed_by, v.end_at - v.start_at) == ("auto", site.app.config["VISIT_MAX_S"])
    r = c.get(f"/visits/{vid}", headers=EN)
    assert 'data-closed="auto"' in r.text and "closed automatically" in r.text
    claims = visits.check_receipt(c.get(f"/visits/{vid}/receipt.cose").data,
                                  wire_keys.public_key_of(
                                      site.app.config["RECEIPT_SIGNING_KEY"]))
    assert claims["closed_by"] == "auto" and "ctr_end" not in claims


# --- reviews and complaints of a verified visit (no consent tap) ---------------------------

def visit_done(site, i, client, hours=2, service="cleaning"):
    """An arrival of badge i confirmed by `client`'s household and ended `hours` later."""
    _, r = arrive(site, i, client, service)
    assert r.status_code == 201, r.text
    vid = visit_id(r)
    later(site, hours * HOUR)
    _, r = depart(site, i, client)
    assert r.status_code == 201, r.text
    return vid


def review_visit(client, vid, token=None, **form):
    data = {"stars": "4", "category": "", "comment": ""}
    data.update(form)
    data["csrf"] = token if token is not None else form_token(client)
    return client.post(f"/visits/{vid}/review", headers=EN, data=data)


def n_reviews(site):
    with site.x.db.session() as s:
        return s.scalar(select(func.count(Review.id)))


def test_a_household_reviews_and_complains_about_a_visit_without_a_consent_tap(vsite):
    site, c = vsite, vsite.client
    vid = visit_done(site, 0, c)                     # status taps only, never a consent tap
    r = c.get(f"/visits/{vid}", headers=EN)
    assert 'action="/visits/%d/review"' % vid in r.text
    r = review_visit(c, vid, stars="2", category="late", comment="an hour late")
    assert (r.status_code, verdict(r)) == (201, ("green", "review")), r.text
    with site.x.db.session() as s:
        [rev] = s.scalars(select(Review)).all()
        v = s.get(Visit, vid)
        assert (rev.visit_id, rev.view_id, rev.stars, rev.category) == (vid, None, 2, "late")
        assert (rev.agency_id, rev.worker_ref) == (v.agency_id, v.worker_ref)
        assert reviews.open_complaints(s, v.agency_id, v.worker_ref, site.x.now()) == 1
    r = c.get(f"/visits/{vid}", headers=EN)
    assert f'data-review="{rev.id}"' in r.text
    assert 'action="/visits/%d/review"' % vid not in r.text
    # the household's list of its visits marks it reviewed
    r = c.get("/visits", headers=EN)
    assert f'id="visit-{vid}"' in r.text and "reviewed" in r.text


def test_visit_reviews_refused_without_a_visit_twice_late_or_from_another_household(vsite):
    site, c = vsite, vsite.client
    vid = visit_done(site, 0, c)
    # no such visit, and no household at all
    stranger = site.app.test_client()
    for client, target in ((c, vid + 100), (stranger, vid)):
        r = review_visit(client, target)
        assert (r.status_code, verdict(r)) == (404, ("red", "not_your_visit")), r.text
    # another household (its own visit of the same badge) cannot review this one
    other = site.app.test_client()
    own = visit_done(site, 0, other)
    r = review_visit(other, vid)
    assert (r.status_code, verdict(r)) == (404, ("red", "not_your_visit"))
    assert n_reviews(site) == 0
    # without the browser's CSRF token
    r = review_visit(c, vid, token="x")
    assert (r.status_code, verdict(r)) == (403, ("red", "bad_form"))
    # bad stars: nothing written
    r = review_visit(c, vid, stars="9")
    assert (r.status_code, verdict(r)) == (400, ("red", "bad_review"))
    assert n_reviews(site) == 0
    assert review_visit(c, vid).status_code == 201
    r = review_visit(c, vid, stars="1")
    assert (r.status_code, verdict(r)) == (409, ("red", "already_reviewed"))
    assert n_reviews(site) == 1
    # 30 days after its arrival the other household's visit may no longer be reviewed
    with site.x.db.session() as s:
        start = s.get(Visit, own).start_at
    site.app.config["FIXED_NOW"] = start + site.app.config["VISIT_REVIEW_WINDOW_S"] + 1
    r = review_visit(other, own)
    assert (r.status_code, verdict(r)) == (403, ("red", "review_window"))
    assert 'action="/visits/%d/review"' % own not in other.get(f"/visits/{own}",
                                                                headers=EN).text
    assert n_reviews(site) == 1


# --- the worker's service history ----------------------------------------------------------

def test_consent_view_shows_the_history_across_agencies_and_never_a_household(vsite):
    site = vsite
    refs = [ref_of(i) for i in (0, 1)]
    agencies = [site.world.badges[i].agency_id for i in (0, 1)]
    assert agencies[0] != agencies[1]
    id_number = with_check_digit("11010519880516032")
    for agency, ref in zip(agencies, refs, strict=True):         # one person, two agencies
        r = site.client.post(f"/api/v1/agencies/{agency}/workers/enrol",
                             headers=site.auth(agency),
                             json={"worker_ref": ref, "id_number": id_number})
        assert r.status_code == 200, r.json
    a, b = site.app.test_client(), site.app.test_client()
    visit_done(site, 0, a, service="elder_care")
    visit_done(site, 1, b, service="cooking")
    visit_done(site, 1, a, service="cooking")
    with site.x.db.session() as s:
        pseudonyms = [h.pseudonym for h in s.scalars(select(Household))]
    assert len(pseudonyms) == 2
    viewer = site.app.test_client()
    r = viewer.get(site.tap_path(1, "consent"), headers=EN)
    assert verdict(r)[0] in ("green", "yellow"), r.text
    assert 'data-visits="3" data-households="2"' in r.text
    assert "3 verified visits, 2 households, since" in r.text and "at 2 agencies" in r.text
    assert "Cooking" in r.text and "Elderly care" in r.text
    assert not any(p in r.text for p in pseudonyms)
    # without the attendance-history scope bit nothing of it is shown
    r = viewer.get(site.tap_path(1, "consent", scope=1), headers=EN)
    assert 'id="served"' not in r.text
    # a worker outside the registry: this agency's file only
    with site.x.db.session() as s:
        h = visits.history(s, agencies[1], refs[1])
    assert (h["visits"], h["agencies"], h["across_agencies"]) == (2, 1, False)


# --- agreements, the console and the monthly report ---------------------------------------

def staff_post(site, client, path, data, from_page="/console/agreements"):
    data = dict(data, csrf=site.csrf(client, from_page))
    return client.post(path, data=data, headers=EN)


def test_agreements_match_visits_and_the_report_shows_them_against_the_agreed_hours(vsite):
    site = vsite
    hh = site.app.test_client()
    first = visit_done(site, 0, hh, hours=3)        # before any agreement exists
    with site.x.db.session() as s:
        v = s.get(Visit, first)
        ref, pseudonym = v.worker_ref, s.get(Household, v.household_id).pseudonym
        period = v.start_at
    staff = site.login(site.app.test_client())
    day = day_of(period)
    r = staff_post(site, staff, "/console/agreements", {
        "worker": ref, "household": pseudonym.lower(), "service": "cleaning",
        "first_day": day, "term_months": "6", "hours_per_week": "10.5"})
    assert r.status_code == 303, r.text
    aid = int(r.headers["Location"].split("/agreements/")[1].split("?")[0])
    r = staff.get(r.headers["Location"], headers=EN)
    assert 'data-visits="1"' in r.text and "1 earlier visits match it" in r.text
    second = visit_done(site, 0, hh, hours=2)       # matched at arrival
    other_hh = site.app.test_client()
    loose = visit_done(site, 0, other_hh, hours=1)  # another household: no agreement
    with site.x.db.session() as s:
        assert [s.get(Visit, i).agreement_id for i in (first, second, loose)] == \
            [aid, aid, None]
        [entry] = [e for e in s.scalars(select(AuditEntry)) if e.action == "agreement.create"]
        assert entry.subject == str(aid)
    # the console: per contract, per worker; another agency's staff sees none of it
    r = staff.get(f"/console/agreements/{aid}", headers=EN)
    assert f'id="visit-{first}"' in r.text and f'id="visit-{second}"' in r.text
    assert f'id="visit-{loose}"' not in r.text
    wid = site.workers[0]
    r = staff.get(f"/console/workers/{wid}", headers=EN)
    assert 'data-visits="3"' in r.text and f"#{aid}" in r.text
    r = staff.get(f"/console/visits?worker={ref}", headers=EN)
    assert all(f'id="visit-{i}"' in r.text for i in (first, second, loose))
    other = other_agency_staff(site)
    assert other.get(f"/console/agreements/{aid}", headers=EN).status_code == 404
    assert f'id="visit-{first}"' not in other.get(f"/console/visits?worker={ref}").text
    # the monthly report of the month: 5 verified hours of the agreement, 1 outside it
    month = period_of_ts(site, period)
    r = staff.get(f"/console/reports/?period={month}", headers=EN)
    row = re.search(rf'id="ag-{aid}" data-visits="(\d+)" data-verified="(\d+)" '
                    rf'data-agreed="(\d+)"', r.text)
    assert row is not None, r.text
    from verifier.services.periods import bounds
    _, month_end = bounds(month, "Asia/Shanghai", 1)
    with site.x.db.session() as s:
        first_day = s.get(Agreement, aid).start_at           # local midnight of `day`
    # 10.5 h a week for the days of the month the agreement covers
    assert int(row.group(3)) == round(630 * (month_end - first_day) / 86400 / 7)
    assert (int(row.group(1)), int(row.group(2))) == (2, 300)
    assert 'id="ag-none" data-visits="1" data-verified="60"' in r.text
    from openpyxl import load_workbook
    import io
    wb = load_workbook(io.BytesIO(staff.get(f"/console/reports/{month}.xlsx").data))
    ws = wb[wb.sheetnames[2]]
    assert [c.value for c in ws[2]][:6] == [aid, ref, pseudonym, "cleaning", 2, 5.0]


def test_reference_only_agreements_match_only_when_unambiguous(vsite):
    site = vsite
    hh = site.app.test_client()
    ref = ref_of(0)
    staff = site.login(site.app.test_client())
    day = day_of(site.x.now())
    form = {"worker": ref, "service": "cleaning", "first_day": day, "term_months": "1",
            "hours_per_week": "4"}
    r = staff_post(site, staff, "/console/agreements", dict(form, reference="HT-2026-001"))
    a1 = int(r.headers["Location"].split("/agreements/")[1].split("?")[0])
    v1 = visit_done(site, 0, hh)
    r = staff_post(site, staff, "/console/agreements", dict(form, reference="HT-2026-002"))
    a2 = int(r.headers["Location"].split("/agreements/")[1].split("?")[0])
    v2 = visit_done(site, 0, hh)                    # two reference-only ones: ambiguous
    with site.x.db.session() as s:
        assert (s.get(Visit, v1).agreement_id, s.get(Visit, v2).agreement_id) == (a1, None)
        pseudonym = s.get(Household, s.get(Visit, v2).household_id).pseudonym
    r = staff_post(site, staff, f"/console/agreements/{a2}/household",
                   {"household": pseudonym}, f"/console/agreements/{a2}")
    assert r.status_code == 303
    with site.x.db.session() as s:
        # named: the household's visits in the term go to a2 (v1 stays with a1, as matched)
        assert (s.get(Visit, v1).agreement_id, s.get(Visit, v2).agreement_id) == (a1, a2)


def test_bad_agreements_are_refused_with_a_reason_and_write_nothing(vsite):
    site = vsite
    ref = ref_of(0)
    staff = site.login(site.app.test_client())
    good = {"worker": ref, "reference": "HT-1", "service": "cleaning",
            "first_day": day_of(site.x.now()), "term_months": "12",
            "hours_per_week": "8"}
    bad = [({"hours_per_week": "0"}, 400), ({"hours_per_week": "100"}, 400),
           ({"hours_per_week": "many"}, 400), ({"term_months": "0"}, 400),
           ({"first_day": "2026-13-01"}, 400), ({"service": "massage"}, 400),
           ({"reference": "", "household": ""}, 400), ({"household": "H-NOSUCH"}, 400),
           ({"worker": "nobody"}, 404), ({"reference": "x" * 65}, 400)]
    for change, status in bad:
        r = staff_post(site, staff, "/console/agreements", dict(good, **change))
        assert r.status_code == status, (change, r.status_code)
    # another agency's worker is "no such worker" for this agency
    r = staff_post(site, staff, "/console/agreements",
                   dict(good, worker=ref_of(1)))
    assert r.status_code == 404
    with site.x.db.session() as s:
        assert s.scalar(select(func.count(Agreement.id))) == 0
    assert staff_post(site, staff, "/console/agreements", good).status_code == 303


# --- fraud signals -------------------------------------------------------------------------

def test_fraud_signals_are_recorded_and_shown_to_the_agency(db_url, world):
    app = make_app(db_url, world, RECEIPT_SIGNING_KEY=wire_keys.generate(),
                   FRAUD_THRESHOLDS={"late_s": 60, "many": 2, "pattern_min": 2})
    site = Site(app, world)
    try:
        c = site.client
        # a confirmation 2 minutes after the page was first shown (within the reload window)
        path, r = open_tap(site, 0, c)
        later(site, 120)
        r = c.post(path + "/arrive", headers=EN, data={"csrf": csrf(r), "service": "cleaning"})
        assert r.status_code == 201, r.text
        later(site, HOUR)
        depart(site, 0, c)
        # the same household, another worker of the agency: two workers; then badge 0 again
        visit_done(site, 4, c)
        visit_done(site, 0, c)
        # a household that only ever confirms badge 6's worker, at once, never reviewing
        lone = site.app.test_client()
        visit_done(site, 6, lone)
        visit_done(site, 6, lone)
        with site.x.db.session() as s:
            rows = [(g.kind, g.household_id) for g in s.scalars(select(FraudSignal))]
            lone_hh = s.get(Visit, s.scalar(select(func.max(Visit.id)))).household_id
        kinds = [k for k, _ in rows]
        assert kinds.count("late_confirm") == 1
        assert kinds.count("many_workers") == 1                  # once per household
        assert {k for k, h in rows if h == lone_hh} == \
            {"one_worker_only", "never_reviewed", "instant_confirm"}
        # the household that confirmed two workers is not "one worker only"
        assert ("one_worker_only", lone_hh) in rows and \
            sum(1 for k, h in rows if k == "one_worker_only") == 1
        staff = site.login(site.app.test_client())
        r = staff.get("/console/signals", headers=EN)
        for kind in set(kinds):
            assert f'data-kind="{kind}"' in r.text
        assert "weak alone" in r.text
        # staff of the other agency sees none of them
        assert 'data-kind=' not in other_agency_staff(site).get("/console/signals").text
    finally:
        site.x.db.engine.dispose()


def test_a_wrong_fraud_threshold_stops_the_start(db_url, world):
    with pytest.raises(ValueError, match="unknown lat_s"):
        make_app(db_url, world, FRAUD_THRESHOLDS={"lat_s": 60})
    with pytest.raises(ValueError, match="whole numbers"):
        make_app(db_url, world, FRAUD_THRESHOLDS={"late_s": "soon"})


def period_of_ts(site, ts):
    from verifier.services.periods import period_of
    return period_of(ts, site.app.config["TIMEZONE"], site.app.config["PERIOD_START_DAY"])


def other_agency_staff(site):
    """A logged-in console client of the other agency (A330101)."""
    from verifier.services import staff as staff_service
    with site.x.db.session() as s:
        staff_service.create_user(s, "A330101", "bo-chen", "another horse 2", site.x.now(), "test",
                                  display_name="Bo", scrypt_n=site.x.config["STAFF_SCRYPT_N"])
    client = site.app.test_client()
    r = client.post("/console/login", data={"username": "bo-chen", "password": "another horse 2",
                                            "csrf": site.csrf(client, "/console/login")})
    assert r.status_code == 303
    return client


def ref_of(i):
    """The worker reference of badge i of host.wire.sample's World."""
    return f"W-{i:07d}"
