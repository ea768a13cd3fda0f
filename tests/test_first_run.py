"""The README's first command, headless: a small fleet, serving in the background; the URLs it
prints answer as promised (console login 200, green employer page green, red one red, the
monthly report 200 after login), in headless Chromium too; Ctrl-C stops every process."""
import json
import re
import socket
import urllib.error
import urllib.request
from http.cookiejar import CookieJar

import pytest

from tools.first_run_screenshots import ServingDemo, capture


def get(opener, url, data=None):
    try:
        with opener.open(url, data=data, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def verdict(html):
    m = re.search(r'data-colour="(\w+)" data-reason="(\w+)"', html)
    return m.groups() if m else None


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    d = ServingDemo(tmp_path_factory.mktemp("first-run"), badges=4)
    yield d
    d.stop()


def test_printed_urls_answer_as_promised(demo):
    out, urls = demo.output(), demo.urls
    for step in range(1, 8):
        assert f"[{step}/7]" in out
    assert urls["console"] in out and urls["green"] in out and urls["red"] in out
    assert urls["report"] in out and " / ".join(urls["login"]) in out
    plain = urllib.request.build_opener()
    status, html = get(plain, urls["green"])
    assert status == 200 and verdict(html) == ("green", "ok"), verdict(html)
    status, html = get(plain, urls["red"])
    assert verdict(html)[0] == "red" and verdict(html)[1] == "revoked"
    # the agency console: log in with the printed demo login, open the report
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    status, html = get(browser, urls["console"])
    assert status == 200
    csrf = re.search(r'name="csrf" value="([^"]*)"', html).group(1)
    user, password = urls["login"]
    body = f"username={user}&password={password}&csrf={csrf}".encode()
    status, html = get(browser, urls["console"], body)
    assert status == 200 and "logout" in html.lower(), status
    status, html = get(browser, urls["report"])
    assert status == 200 and urls["report"].split("period=")[1] in html


def test_month_had_checkins_a_revocation_and_a_clone(demo):
    out = demo.output()
    assert "revokes badge 1" in out and "(CLONE)" in out
    assert re.search(r"badge 1 +at \w+ +terminal: red revoked", out)
    state = json.loads((demo.dir / "state" / "state.json").read_text())
    key = state["verifier"]["api_keys"][state["badges"]["2"]["agency"]]
    req = urllib.request.Request(
        f"http://127.0.0.1:{demo.port}/api/v1/agencies/{state['badges']['2']['agency']}"
        "/clone-evidence", headers={"Authorization": f"Bearer {key}"})
    ev = json.loads(urllib.request.urlopen(req, timeout=10).read())["evidence"]
    assert {e["badge_kid"] for e in ev} == {state["badges"]["2"]["kid"]}


def test_employer_pages_in_headless_chromium(demo, tmp_path):
    pytest.importorskip("selenium")
    from tests.web.conftest import chromium_or_skip
    chromium_or_skip()
    shots = capture(demo.urls, tmp_path)
    assert shots["green"][1] == "green" and shots["red"][1] == "red"
    assert shots["green"][0].stat().st_size > 5000


def test_ctrl_c_stops_every_process(demo):
    assert demo.stop() == 0
    assert "stopped." in demo.output()
    with socket.socket() as s:                  # the verifier no longer listens
        assert s.connect_ex(("127.0.0.1", demo.port)) != 0
    import os
    mine = str(demo.dir)
    left = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if mine.encode() in f.read():
                    left.append(pid)
        except OSError:
            pass
    assert not left, left
