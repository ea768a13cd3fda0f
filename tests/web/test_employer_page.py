"""GET /t/<b64>: verdicts and colours, the one-view rule, consent details and scope, language,
size, accessibility, and bad input (never a 500, nothing unescaped)."""
import re

import pytest

from host import wire
from host.wire import sample
from host.wire.credential import issue, ueid_from_mac
from host.wire.ndef import b64url
from tests.web import a11y
from verifier.services.employer import mask_name

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
EN = {"Accept-Language": "en-US,en;q=0.9"}


def verdict(r):
    m = re.search(r'id="verdict" data-colour="(\w+)" data-reason="(\w+)"', r.text)
    assert m, r.text[:500]
    return m.group(1), m.group(2)


def test_status_tap_is_green_and_shows_only_the_basic_status(site):
    r = site.client.get(site.tap_path(0), headers=ZH)
    assert r.status_code == 200
    assert verdict(r) == ("green", "ok")
    assert '<html lang="zh-CN">' in r.text
    assert "真实有效" in r.text and "杭州安心家政0" in r.text and "A4CF12000000" in r.text
    assert "2027-01-01 18:40" in r.text                # time of the check, Asia/Shanghai
    assert "育婴员" not in r.text and "工*0" not in r.text   # no consent: nothing personal
    assert "Rate this service" not in r.text and "投诉这位服务员" in r.text   # complaint only


def test_consent_tap_shows_the_profile(site):
    r = site.client.get(site.tap_path(1, "consent"), headers=EN)
    assert verdict(r) == ("green", "ok")
    assert '<html lang="en">' in r.text
    t = r.text
    for expected in ("工*1", "育婴员", "三级", "养老护理员", "Valid until 2027-07-20",
                     "Valid until 2027-10-28", "Credit grade", 'data-grade="B" data-rules="1"',
                     "Verified certificate: 育婴员 三级 (+8)", "Photo placeholder",
                     "Checked in 3 of 12 months", 'name="stars"'):
        assert expected in t, expected
    # the attendance strip: Aug, Sep and Nov 2026 checked in
    on = re.findall(r'<li class="on"><span aria-hidden="true">(\d\d)</span>', t)
    assert on == ["08", "09", "11"]


def test_consent_scope_limits_what_is_shown(site):
    r = site.client.get(site.tap_path(3, "consent", scope=wire.tap.SCOPE_CERTIFICATES),
                        headers=EN)
    assert verdict(r)[0] == "green"
    assert "育婴员" in r.text
    for hidden in ("Health check", "Insurance", "Credit grade", "Monthly check-ins"):
        assert hidden not in r.text


def test_yellow_when_health_check_expired(site):
    r = site.client.get(site.tap_path(6, "consent"), headers=EN)
    assert verdict(r) == ("yellow", "health_expired")
    assert "Expired on 2026-12-22" in r.text
    # without consent the reason does not say which record
    r = site.client.get(site.tap_path(6), headers=EN)
    assert verdict(r) == ("yellow", "records_incomplete")
    assert "health check or the insurance needs attention" in r.text


def test_red_when_revoked(site):
    r = site.client.get(site.tap_path(2), headers=ZH)
    assert verdict(r) == ("red", "revoked")
    assert "机构已吊销该工牌" in r.text
    assert r.status_code == 200


def test_red_when_suspended_or_lost_in_the_registry(site):
    from verifier.services import registry
    with site.x.db.session() as s:
        registry.transition(s, "A330100", site.badge_ids[0], "lose", site.x.now(), "t",
                            "lost on the bus")
    # no republish: the registry alone already turns the page red
    r = site.client.get(site.tap_path(0), headers=EN)
    assert verdict(r) == ("red", "lost")


def test_red_for_a_checkin_token(site):
    b = site.world.badges[0]
    token = b.tap("checkin", terminal_id="T-1", terminal_time=site.world.now,
                  nonce=bytes(16))
    r = site.client.get("/t/" + b64url(token + b.credential), headers=EN)
    assert verdict(r) == ("red", "wrong_purpose")


# -- the one-view rule ----------------------------------------------------------------------

def test_reload_within_window_from_the_same_browser(site):
    path = site.tap_path(1, "consent")
    assert verdict(site.client.get(path))[0] == "green"
    r = site.client.get(path + "?lang=en")             # a reload (and a language switch)
    assert verdict(r)[0] == "green" and "Reloaded" in r.text and "工*1" in r.text
    site.app.config["FIXED_NOW"] = site.world.now + 599
    assert verdict(site.client.get(path))[0] == "green"
    site.app.config["FIXED_NOW"] = site.world.now + 601
    r = site.client.get(path, headers=EN)
    assert verdict(r) == ("red", "already_used")
    assert "This link was already used" in r.text and "工*1" not in r.text


def test_reused_link_from_another_browser_is_red(site):
    path = site.tap_path(1, "consent")
    assert verdict(site.client.get(path))[0] == "green"
    other = site.app.test_client()
    r = other.get(path, headers=ZH)
    assert verdict(r) == ("red", "already_used")
    assert "此链接已被使用过" in r.text and "育婴员" not in r.text


def test_link_verified_through_the_api_first_is_used(site):
    token, cred = site.tap(0)
    assert site.client.post("/api/v1/verify", data=token + cred,
                            content_type="application/cbor").status_code == 200
    assert verdict(site.client.get("/t/" + b64url(token + cred))) == ("red", "already_used")


def test_older_link_of_the_same_badge_is_replayed(site):
    old, new = site.tap_path(0), site.tap_path(0)
    assert verdict(site.client.get(new))[0] == "green"
    assert verdict(site.app.test_client().get(old)) == ("red", "replayed")


# -- bad input --------------------------------------------------------------------------------

def _b64_of(site, i=0):
    return site.tap_path(i)[len("/t/"):]


def test_token_cut_in_half(site):
    b = _b64_of(site)
    for cut in (b[:len(b) // 2], b[:len(b) // 2 + 1], b[:-1], b[:10], ""):
        r = site.client.get("/t/" + cut, headers=EN)
        assert r.status_code == 400, cut
        assert verdict(r) == ("red", "malformed")
        assert "damaged or incomplete" in r.text


def test_token_for_another_verifier(site):
    """A badge of another system: its agency key (or its whole trust list) is not ours."""
    other = sample.secret("another authority's agency")
    key = sample.secret("a badge elsewhere")
    for agency_id, want in (("A330100", "unknown_key"), ("B990000", "untrusted_issuer")):
        cred = issue(other, agency_id, "W-1", key.public_key(),
                     ueid_from_mac(bytes(6)), 0, f"https://v.other.cn/sl/{agency_id}",
                     sample.T2026, sample.T2026, sample.T2028)
        token = wire.build_tap(key, "status", 1)
        r = site.client.get("/t/" + b64url(token + cred), headers=EN)
        assert verdict(r) == ("red", want)
    # a tap signed by another key than the credential's badge key
    b = site.world.badges[0]
    r = site.client.get("/t/" + b64url(wire.build_tap(key, "status", 99) + b.credential))
    assert verdict(r) == ("red", "unknown_key")


def test_giant_url(site):
    r = site.client.get("/t/" + "A" * 100_000, headers=EN)
    assert r.status_code == 414
    assert verdict(r) == ("red", "oversized")
    assert len(r.data) < 30_000


INJECT = '"><script>alert(1)</script><img src=x onerror=alert(2)>'


def test_script_injection_everywhere_is_escaped(site):
    from verifier.models import Agency, Worker
    from verifier.services import records
    with site.x.db.session() as s:
        s.get(Agency, "A330101").name = INJECT
        s.get(Worker, site.workers[1]).name = INJECT
        records.add_many(s, "A330101", "W-0000001", [
            ("skill_certificate", {"title": "育婴员", "level": "三级", "number": INJECT,
                                   "source": INJECT, "issued_on": "2026-01-01"}),
            ("training", {"course": INJECT, "hours": "8", "source": INJECT,
                          "issued_on": "2026-01-01"})], "self_declared", site.x.now(), INJECT,
            "Asia/Shanghai")
    path = site.tap_path(1, "consent")
    probes = [
        (path, {}),
        (path + "?lang=" + INJECT, {}),
        ("/t/" + INJECT, {}),
        ("/t/%3Cscript%3Ealert(1)%3C/script%3E", {}),
        ("/t/" + _b64_of(site, 3) + "/" + INJECT, {}),
        (site.tap_path(5), {"Accept-Language": INJECT}),
        (site.tap_path(7), {"Cookie": f"xv={INJECT}; lang={INJECT}"}),
    ]
    for p, headers in probes:
        r = site.client.get(p, headers=headers)
        assert r.status_code < 500, p
        assert "<script>" not in r.text and "<img src=x" not in r.text, p
        verdict(r)


def test_never_a_500_on_random_paths(site):
    import random
    rnd = random.Random(6)
    alphabet = "ABCxyz019-_%/.~?&=<>'\" \\"
    for _ in range(200):
        p = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 80)))
        r = site.client.get("/t/" + p)
        assert r.status_code < 500, p


# -- size, language, accessibility ----------------------------------------------------------

def test_pages_are_small_and_accessible(site):
    for path, headers in ((site.tap_path(1, "consent"), EN), (site.tap_path(0), ZH),
                          (site.tap_path(6, "consent"), ZH), (site.tap_path(2), EN),
                          ("/t/xyz", EN)):
        r = site.client.get(path, headers=headers)
        assert len(r.data) < 30 * 1024, (path, len(r.data))
        assert a11y.problems(r.text) == [], path
        csp = r.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "script-src" not in csp
        assert r.headers["Referrer-Policy"] == "no-referrer"
        assert r.headers["Cache-Control"] == "no-store"


def test_verdict_colours_have_enough_contrast():
    import pathlib
    css = (pathlib.Path(__file__).parents[2] / "verifier/static/employer.css").read_text()
    for colour in ("green", "yellow", "red"):
        m = re.search(r"\.verdict\.%s\{background:(#\w+);color:(#\w+)\}" % colour, css)
        assert m, colour
        ratio = a11y.contrast(m.group(1), m.group(2))
        assert ratio >= 4.5, (colour, ratio)      # WCAG AA for normal text; the text is large


@pytest.mark.parametrize("headers,args,lang", [
    ({}, "", "zh-CN"), (EN, "", "en"), (ZH, "", "zh-CN"),
    ({"Accept-Language": "fr-FR,en;q=0.5"}, "", "en"),
    ({"Accept-Language": "de"}, "", "zh-CN"), (EN, "?lang=zh", "zh-CN"),
    (ZH, "?lang=en", "en"), (ZH, "?lang=xx", "zh-CN")])
def test_language(sqlite_site, headers, args, lang):
    r = sqlite_site.client.get("/t/broken" + args, headers=headers)
    assert f'<html lang="{lang}">' in r.text


def test_language_switch_is_remembered(sqlite_site):
    c = sqlite_site.client
    assert '<html lang="en">' in c.get("/t/x?lang=en", headers=ZH).text
    assert '<html lang="en">' in c.get("/t/x", headers=ZH).text
    assert '<html lang="zh-CN">' in c.get("/t/x?lang=zh", headers=EN).text


def test_mask_name():
    assert [mask_name(n) for n in ("张", "张三", "王小明", "欧阳小明", "Anna Li", None)] == \
        ["*", "张*", "王*明", "欧**明", "A*****i", None]


def test_metrics_count_pages_by_colour(sqlite_site):
    sqlite_site.client.get(sqlite_site.tap_path(2))
    m = sqlite_site.client.get("/metrics").text
    assert 'xinka_employer_pages_total{colour="red",reason="revoked"} 1' in m
