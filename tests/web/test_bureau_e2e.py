"""The bureau's scenario end to end, on SQLite and PostgreSQL: the real verifier over HTTP on
127.0.0.1, headless Chromium as the agency's desktop, the bureau's desktop and the employer's
browser, the real tools (`provision agency-key`, `provision issue` to a simulated badge on a
pty, `xinka-authority`, the desk terminal on nfcpy `udp:`), simulated badges under
MicroPython read as an employer's phone would.

1. An agency makes its key (`provision agency-key`) and applies on /apply/ with its public
   half; the bureau approves it in its console; the console counts one agency, no badge.
2. The bureau adds the approved keys to its book and publishes (seq 1); the agency's
   technician issues a badge with `provision issue`; the employer page is green, the desk
   terminal green; the console counts one worker, one badge, two keys listed.
3. The bureau rotates the agency's key (30 days of overlap) and publishes (seq 2): the old
   badge is still green, a badge issued with the new key is signed by it and green.
4. The bureau suspends the agency and publishes (seq 3): both badges red on the employer page
   and, once it has fetched the new list, at the desk terminal; the console shows the agency
   not listed.
"""
import io
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from cryptography.hazmat.primitives import serialization

from hardware.sim import fleet as simfleet
from hardware.sim import serial_badge
from hardware.sim.serial_badge import SerialBadge
from host import wire
from host.terminal.cli import main as terminal
from host.wire import keys
from provisioning.cli import main as provision
from tests.authority.conftest import AUTHORITY_ID, Tool
from tests.provisioning.test_issue_then_tap import ENTRY, _settled, read_tap, sim_build  # noqa: F401
from tests.verifier.conftest import db_kind, new_database, pg_cluster, sqlite_template  # noqa: F401
from tests.web.test_browser import verdict, wait_for
from testkit.browser import LiveServer, start_chromium, stop_chromium
from testkit.desk import NDEF_HOST, set_profile
from testkit.verifier import identity_config
from verifier import create_app

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")

AGENCY, NAME, USCC = "B330106", "杭州诚信家政", "91330106MA2CFY4X5F"
BUREAU_USER, BUREAU_PASSWORD = "zhou-bureau", "bureau horse 9"
AGENCY_USER, AGENCY_PASSWORD = "hz-admin", "a long password 1"
DESK_PASSPHRASE = "desk passphrase 2026"
DAY = 86400


def day(t):
    return datetime.fromtimestamp(t, ZoneInfo("Asia/Shanghai")).date().isoformat()


class City:
    """The verifier with the bureau's authority key as its anchor and the operator's status
    key for the agency-to-be, served over HTTP; the bureau's folder; one Chromium."""

    def __init__(self, url, tool, tmp):
        self.tool, self.tmp = tool, tmp
        self.status_key = keys.generate()
        self.app = create_app({"DATABASE_URL": url,
                               "AUTHORITY_KEY": str(tool.folder / "authority.pem"),
                               "STATUS_SIGNING_KEYS": {AGENCY: self.status_key},
                               "STATUS_BASE_URL": f"https://{NDEF_HOST}",
                               "RATE_LIMIT_PER_MIN": 0, "STATUS_CHECK_MS": 0,
                               **identity_config()})
        self.x = self.app.extensions["xinka"]
        cli = self.app.test_cli_runner()
        r = cli.invoke(args=["apikey-create", "--label", "operator"])
        assert r.exit_code == 0, r.output
        self.operator = r.stdout.strip()
        r = cli.invoke(args=["bureau-staff-create", BUREAU_USER, "--password", BUREAU_PASSWORD])
        assert r.exit_code == 0, r.output
        self.server = LiveServer(self.app)
        self.url = self.server.url
        self.client = self.app.test_client()
        self.drv = start_chromium(lang="en", phone=False)

    def stop(self):
        stop_chromium(self.drv)
        self.server.stop()
        self.x.db.engine.dispose()

    def api(self, method, path, body=None, expect=200):
        r = getattr(self.client, method)(path, json=body,
                                         headers={"Authorization": f"Bearer {self.operator}"})
        assert r.status_code == expect, (path, r.status_code, r.data[:300])
        return r

    def open(self, path):
        self.drv.get(self.url + path)

    def fill(self, values, by="name"):
        for name, value in values.items():
            el = self.drv.find_element(by, name)
            el.clear()
            el.send_keys(value)

    def wait_element(self, element_id):
        """The element once the page that has it is loaded (a form's answer)."""
        from selenium.webdriver.support import expected_conditions as ec
        from selenium.webdriver.support.ui import WebDriverWait
        return WebDriverWait(self.drv, 15).until(
            ec.presence_of_element_located(("id", element_id)))

    def as_bureau(self):
        self.drv.delete_all_cookies()
        self.open("/console/login")
        self.fill({"username": BUREAU_USER, "password": BUREAU_PASSWORD})
        self.drv.find_element("id", "login").click()
        wait_for(self.drv, "/bureau/")

    def as_agency(self):
        """The agency's first staff login, made by the approval."""
        self.drv.delete_all_cookies()
        self.open("/console/login")
        self.fill({"username": AGENCY_USER, "password": AGENCY_PASSWORD})
        self.drv.find_element("id", "login").click()
        wait_for(self.drv, "/console/workers")

    def enter_records(self, worker_ref):
        """The agency's staff enter the worker's health certificate and insurance (checked
        originals) on the console's record form."""
        workers = self.api("get", f"/api/v1/agencies/{AGENCY}/workers").json["workers"]
        wid = next(w["id"] for w in workers if w["worker_ref"] == worker_ref)
        today = self.x.now()
        for kind, values in (("health_certificate", {"number": "JK-2026-1", "source": "疾控中心"}),
                             ("insurance", {"number": "PA-77", "source": "人寿保险"})):
            self.open(f"/console/workers/{wid}/records/new?kind={kind}")
            self.fill({f"f-{k}" if k != "source" else "f-source": v for k, v in values.items()},
                      by="id")
            for field, at in (("f-issued", today - 30 * DAY), ("f-until", today + 300 * DAY)):
                self.drv.execute_script("arguments[0].value = arguments[1]",
                                        self.drv.find_element("id", field), day(at))
            self.drv.find_element("id", "save-record").click()
            wait_for(self.drv, "done=record")

    def counts(self):
        """What the bureau's city page says, once counted again ("Count again now": the
        verifier runs with the stored figures of production, CITY_FIGURES_MAX_AGE_S 900):
        totals and the agency's row."""
        self.open("/bureau/")
        self.drv.find_element("id", "refresh").click()
        wait_for(self.drv, "done=refreshed")
        html = self.drv.page_source
        t = self.drv.find_element("id", "totals")
        out = {k: int(t.get_attribute(f"data-{k}")) for k in ("agencies", "workers", "badges")}
        row = re.search(rf'<tr data-agency="{AGENCY}">(.*?)</tr>', html, re.S)
        if row:
            for col in ("active_workers", "badges_active", "trusted_keys"):
                m = re.search(rf'data-col="{col}"[^>]*>(?:<span[^>]*>)?([^<]*)<', row.group(1))
                out[col] = m.group(1).strip()
        return out

    def employer_page(self, tag):
        """Tap the badge as an employer's phone would, open its URL: (colour, reason); the
        credential read in `self.credential`."""
        _settled(tag)
        uri, _token, self.credential = read_tap(tag.path)
        assert uri.startswith(f"https://{NDEF_HOST}/t/")
        self.open(uri[len(f"https://{NDEF_HOST}"):])
        return verdict(self.drv)


@pytest.fixture
def city(db_kind, request, tmp_path, monkeypatch, capsys):  # noqa: F811
    tool = Tool(tmp_path / "bureau", monkeypatch, capsys)
    tool("init", "--id", AUTHORITY_ID)
    c = City(new_database(db_kind, request, tmp_path), tool, tmp_path)
    yield c
    c.stop()


def public_pem(key):
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def run(tool_main, args, capsys, expect=0):
    capsys.readouterr()
    rc = tool_main([str(a) for a in args])
    out = capsys.readouterr()
    assert rc == expect, f"exit {rc}\n{out.out}\n{out.err}"
    return out.out + out.err


@pytest.fixture
def badges(sim_build, tmp_path, monkeypatch):  # noqa: F811
    """issue(n, profile, worker): a blank simulated badge issued by `provision issue` over a
    pty, then, unplugged, the same flash image as a tag badge (started; stopped at the end)."""
    monkeypatch.setattr(serial_badge, "ENTRY", ENTRY)
    monkeypatch.setenv("PROVISION_PASSPHRASE", DESK_PASSPHRASE)
    made = []

    def issue(n, profile, worker, capsys):
        d = tmp_path / f"badge{n}"
        d.mkdir()
        usb = SerialBadge(sim_build, d / "flash.bin", bytes.fromhex("A4CF120000") + bytes([n]),
                          log=str(tmp_path / f"usb{n}.log"))
        usb.start()
        try:
            run(provision, ["--port", usb.port, "--profile", profile, "issue", "--worker",
                            worker], capsys)
            usb.pull_cable()
            usb.proc.wait(15)
        finally:
            usb.stop()
        tag = simfleet.SimBadge(n, d, simfleet.free_udp_port(), sim_build, 60000)
        tag.start()
        made.append(tag)
        return tag
    yield issue
    for tag in made:
        tag.stop()


def desk_terminal(city, tag, term, capsys):
    """One tap at the agency's desk terminal, its lists fetched from the verifier first (a
    run of --sync-only that ends when they are: the tap never races the list download)."""
    authority = serialization.load_pem_public_key(
        (city.tool.folder / "authority.pem").read_bytes())
    common = ["--verifier", city.url, "--token", term["token"], "--terminal-id", term["id"],
              "--agency", AGENCY, "--authority-key",
              wire.encode(wire.cose_key(authority)).hex(), "--data",
              str(city.tmp / "terminal"), "--no-colour"]
    out = io.StringIO()
    assert terminal(common + ["--sync-only", "--sync-wait-s", "20"], out=out) == 0, \
        out.getvalue()
    _settled(tag)
    out = io.StringIO()
    rc = terminal(common + ["--device", tag.path, "--taps", "1", "--hold-s", "0.1",
                            "--cooldown-s", "0"], out=out)
    assert rc == 0, out.getvalue()
    return out.getvalue()


def test_apply_approve_issue_rotate_suspend(city, badges, tmp_path, capsys):
    c, tool = city, city.tool
    push = ("--verifier", c.url, "--api-key", c.operator)
    desk = tmp_path / "desk"
    desk.mkdir()
    # 1. the agency's key, its application on the page, the bureau's approval
    out = run(provision, ["agency-key", desk / "agency.key"], capsys)
    assert "agency.key.pub.pem" in out
    old_kid = re.search(r"kid ([0-9a-f]{16})", out).group(1)
    pems = (desk / "agency.key.pub.pem").read_text() + public_pem(c.status_key)
    c.open("/apply/")
    c.fill({"name": NAME, "uscc": USCC, "address": "杭州市西湖区文三路 1 号",
            "legal_representative": "李明", "licence_ref": "licence-2026-17.pdf",
            "public_keys": pems, "username": AGENCY_USER, "password": AGENCY_PASSWORD,
            "password2": AGENCY_PASSWORD})
    c.drv.find_element("id", "pledge").click()
    c.drv.find_element("id", "submit").click()
    app_id = int(c.wait_element("number").text)
    assert c.drv.find_element("id", "token").text
    c.as_bureau()
    assert c.counts() == {"agencies": 0, "workers": 0, "badges": 0}
    c.open("/bureau/queues")
    c.drv.find_element("css selector", f'tr[data-application="{app_id}"] a').click()
    wait_for(c.drv, f"/bureau/applications/{app_id}")
    c.fill({"agency_id": AGENCY})
    c.drv.find_element("id", "approve").click()
    wait_for(c.drv, "done=approve")
    assert c.drv.find_element("id", "application").get_attribute("data-state") == "approved"
    assert c.counts() == {"agencies": 1, "workers": 0, "badges": 0, "active_workers": "0",
                          "badges_active": "0", "trusted_keys": "not listed"}

    # 2. into the trust list; a badge issued by the technician's tool: green
    r = c.client.get(f"/api/v1/admission/applications/{app_id}/keys.pem",
                     headers={"Authorization": f"Bearer {c.operator}"})
    assert r.headers["X-Agency-Id"] == AGENCY
    (tmp_path / "approved.pem").write_bytes(r.data)
    tool("agency", "add", AGENCY, NAME, "--key", tmp_path / "approved.pem")
    tool("publish", *push)
    api_key = c.api("post", f"/api/v1/agencies/{AGENCY}/api-keys", {"label": "desk"},
                    201).json["api_key"]
    (desk / "authority.pem").write_bytes((tool.folder / "authority.pem").read_bytes())
    (desk / "trust.cwt").write_bytes((tool.folder / "trust-1.cwt").read_bytes())
    profile = set_profile(desk, agency_id=AGENCY, key_file="agency.key", verifier=c.url,
                          api_key=api_key)
    old = badges(1, profile, "W-0000001", capsys)
    assert c.employer_page(old) == ("yellow", "records_incomplete")
    c.as_agency()
    c.enter_records("W-0000001")
    assert c.employer_page(old) == ("green", "ok")
    term = c.api("post", f"/api/v1/agencies/{AGENCY}/terminals", {"id": f"T-{AGENCY}-01"},
                 201).json
    assert " GREEN " in desk_terminal(c, old, term, capsys)
    c.as_bureau()
    assert c.counts() == {"agencies": 1, "workers": 1, "badges": 1, "active_workers": "1",
                          "badges_active": "1", "trusted_keys": "2"}

    # 3. rotation: the old badge green in the overlap, a new one signed with the new key
    out = run(provision, ["agency-key", desk / "agency2.key"], capsys)
    tool("agency", "rotate-key", AGENCY, "--old", old_kid, "--key",
         desk / "agency2.key.pub.pem", "--overlap", "30d")
    tool("publish", *push)
    (desk / "trust.cwt").write_bytes((tool.folder / "trust-2.cwt").read_bytes())
    profile = set_profile(desk, key_file="agency2.key")
    assert c.employer_page(old)[0] == "green"
    new = badges(2, profile, "W-0000002", capsys)
    c.as_agency()
    c.enter_records("W-0000002")
    assert c.employer_page(new) == ("green", "ok")
    # the new badge's credential is signed with the new key (and not the old one's)
    k2 = serialization.load_pem_public_key((desk / "agency2.key.pub.pem").read_bytes())
    only_k2 = wire.TrustList(AUTHORITY_ID, 1, c.x.now(), c.x.now() + 3600,
                             [wire.Agency(AGENCY, NAME, (k2,), 0, c.x.now() + 3600)])
    assert wire.Credential.verify(c.credential, only_k2, c.x.now()).iss == AGENCY
    assert c.employer_page(old)[0] == "green"
    with pytest.raises(wire.WireError):
        wire.Credential.verify(c.credential, only_k2, c.x.now())
    c.as_bureau()
    assert c.counts() == {"agencies": 1, "workers": 2, "badges": 2, "active_workers": "2",
                          "badges_active": "2", "trusted_keys": "3"}

    # 4. suspension: red on the employer page and, after its list update, at the terminal
    tool("agency", "suspend", AGENCY, "--reason", "licence withdrawn")
    tool("publish", *push)
    for tag in (old, new):
        colour, reason = c.employer_page(tag)
        assert colour == "red", reason
    assert " RED " in desk_terminal(c, old, term, capsys)
    c.as_bureau()
    after = c.counts()
    assert after["trusted_keys"] == "not listed"
    assert (after["agencies"], after["badges_active"]) == (1, "2")   # nothing was revoked
