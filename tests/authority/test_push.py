"""`xinka-authority publish` against the real verifier (SQLite and PostgreSQL), over HTTP: the
first list, a key rotation with its overlap (a badge signed with the old key stays green, a badge
signed with the new key is green), a suspension (both red once the list is pushed), and every
refused push: not newer, signed by another authority, an agency's API key, no verifier at the
address — each with its own exit code and the verifier's state unchanged."""

import pytest

from authority.errors import EXIT_CODES
from hardware.sim.ports import free_port
from host.wire import keys, sample
from testkit.verifier import b64
from verifier.services import registry, status

from .conftest import Tool, Verifier, public_pem_file

AGENCY = "A330100"


@pytest.fixture
def verifier(db_url, tool):
    v = Verifier(db_url, tool.folder / "authority.pem", {})
    yield v
    v.stop()


class Badges:
    """Badges of AGENCY signed with whichever agency key is given, registered in the verifier,
    checked through POST /api/v1/verify as an employer's phone would."""

    def __init__(self, v):
        self.v, self.world, self.n = v, sample.World(n_agencies=1, n_badges=0), 0

    def issue(self, agency_key):
        self.world.agency_keys[AGENCY] = agency_key
        badge = self.world.make_badge(self.n, AGENCY)
        self.n += 1
        x = self.v.x
        with x.db.session() as s:
            x.store.refresh(s, x.now(), force=True)
            w = registry.create_worker(s, AGENCY, f"W-{badge.status_idx:07d}", x.now(), "test")
            registry.register_badge(s, AGENCY, x.now(), "test", worker_id=w.id,
                                    credential=badge.credential)
        return badge

    def publish_status(self, status_key):
        x = self.v.x
        with x.db.session() as s:
            x.store.refresh(s, x.now(), force=True)
            status.publish(s, x.store, AGENCY, status_key, "https://v.example.cn", x.now(),
                           3600, 86400)
        with x.db.session() as s:
            x.store.refresh(s, x.now(), force=True)

    def check(self, badge):
        r = self.v.client.post("/api/v1/verify", json={"token": b64(badge.tap()),
                                                       "credential": b64(badge.credential)})
        body = r.get_json()
        return "green" if body["valid"] else body["reason"]


def test_publish_rotate_suspend_on_a_real_verifier(tool, verifier, agency_key, tmp_path,
                                                   monkeypatch, capsys):
    v, push = verifier, ("--verifier", verifier.url, "--api-key", verifier.operator)
    k1, k1_pem = agency_key
    tool("agency", "add", AGENCY, "杭州安心家政", "--key", k1_pem)
    out = tool("publish", *push)
    assert "pushed to" in out and v.held_seq() == 1
    r = v.client.post("/api/v1/agencies", json={"id": AGENCY, "name": "杭州安心家政"},
                      headers={"Authorization": f"Bearer {v.operator}"})
    assert r.status_code == 201
    badges = Badges(v)
    old = badges.issue(k1)
    badges.publish_status(k1)
    assert badges.check(old) == "green"

    # rotation: the new key beside the old one for 30 days
    k2 = keys.generate()
    tool("agency", "rotate-key", AGENCY, "--key", public_pem_file(tmp_path / "k2.pem", k2),
         "--overlap", "30d")
    tool("publish", *push)
    assert v.held_seq() == 2
    new = badges.issue(k2)
    badges.publish_status(k1)            # the verifier's status key is still the old one
    assert (badges.check(old), badges.check(new)) == ("green", "green")

    # refused pushes: the verifier keeps seq 2 each time
    out = tool("push", tool.folder / "trust-1.cwt", *push, expect=EXIT_CODES["not_newer"])
    assert "更高序号" in out and "higher sequence number" in out
    foreign = Tool(tmp_path / "foreign", monkeypatch, capsys)
    foreign("init", "--id", "CN-XX-FAKE")
    foreign("agency", "add", AGENCY, "杭州安心家政", "--key", k1_pem)
    foreign("publish", "--seq", "99")
    out = foreign("push", foreign.folder / "trust-99.cwt", *push,
                  expect=EXIT_CODES["verifier_refused"])
    assert "unknown_key" in out
    agency_api_key = v.client.post(f"/api/v1/agencies/{AGENCY}/api-keys", json={"label": "d"},
                                   headers={"Authorization": f"Bearer {v.operator}"}
                                   ).get_json()["api_key"]
    out = tool("push", tool.folder / "trust-2.cwt", "--verifier", v.url, "--api-key",
               agency_api_key, expect=EXIT_CODES["verifier_refused"])
    assert "forbidden" in out
    before = tool.book()
    tool("publish", "--verifier", v.url, expect=EXIT_CODES["config_error"])   # no API key
    assert tool.book() == before and not (tool.folder / "trust-3.cwt").exists()
    assert v.held_seq() == 2 and badges.check(old) == "green"

    # suspension: both badges red once the list without the agency is pushed
    tool("agency", "suspend", AGENCY, "--reason", "licence withdrawn")
    closed = f"http://127.0.0.1:{free_port()}"          # nothing listens there
    out = tool("publish", "--verifier", closed, "--api-key", v.operator,
               expect=EXIT_CODES["verifier_unreachable"])
    assert "push" in out and (tool.folder / "trust-3.cwt").exists() and v.held_seq() == 2
    assert badges.check(old) == "green"          # nothing reached the verifier yet
    tool("push", tool.folder / "trust-3.cwt", *push)
    assert v.held_seq() == 3
    assert badges.check(old) != "green" and badges.check(new) != "green"
    assert badges.check(old) in ("untrusted_issuer", "unknown_key")


def test_admission_to_trust_list_to_green_badge(tool, verifier, tmp_path):
    """An agency applies with its public key; the bureau approves it on the verifier, takes the
    keys it approved into its book, publishes; the agency's badge is green."""
    v = verifier
    op = {"Authorization": f"Bearer {v.operator}"}
    agency_key = keys.generate()
    pem = public_pem_file(tmp_path / "mine.pub.pem", agency_key).read_text()
    r = v.client.post("/api/v1/admission/applications", json={
        "name": "杭州诚信家政", "uscc": "91110000600037341L", "address": "杭州市西湖区",
        "legal_representative": "王芳", "licence_ref": "scan-1.pdf", "pledge": True,
        "public_keys": [pem], "username": "wangfang", "password": "a long password 1"})
    assert r.status_code == 201, r.get_json()
    app_id = r.get_json()["application"]["id"]
    r = v.client.post(f"/api/v1/admission/applications/{app_id}/approve",
                      json={"agency_id": AGENCY}, headers=op)
    assert r.status_code == 200, r.get_json()
    r = v.client.get(f"/api/v1/admission/applications/{app_id}/keys.pem", headers=op)
    (tmp_path / "approved.pem").write_bytes(r.data)
    tool("agency", "add", r.headers["X-Agency-Id"], "杭州诚信家政", "--key",
         tmp_path / "approved.pem")
    tool("publish", "--verifier", v.url, "--api-key", v.operator)
    badges = Badges(v)
    badge = badges.issue(agency_key)
    badges.publish_status(agency_key)
    assert badges.check(badge) == "green"
