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
from tests.web.conftest import Site
from tests.web.test_employer_page import EN, verdict
from tests.verifier.conftest import make_app
from verifier.models import FraudSignal, Household, Visit
from verifier.services import visits

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
