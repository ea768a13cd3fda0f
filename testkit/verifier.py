"""The verifier app (verifier.create_app) set up with a deterministic sample world
(host.wire.sample.World): `make_app(db_url, world)` and `Env`, which imports the world's trust
list, registers both agencies, an operator key, one API key and one terminal per agency, and
badges 0..7 to workers. Used by the verifier, terminal and web tests and bench_verifier.py."""
import base64
import hashlib
import os

from host.wire import read_tag_url, sample, tag_data
from verifier import create_app
from verifier.services import registry


class Env:
    """An app with the world's trust list imported, both agencies registered, an operator
    key, one API key and one terminal per agency, and badges 0..7 registered to workers."""

    def __init__(self, app, world):
        self.app, self.world = app, world
        self.x = app.extensions["xinka"]
        self.client = app.test_client()
        self.keys, self.terminals, self.workers, self.badge_ids = {}, {}, {}, {}
        x, now = self.x, world.now
        with x.db.session() as s:
            x.store.import_trust_list(s, world.trust_list, now, "test")
        with x.db.session() as s:
            x.store.refresh(s, now, force=True)
            self.operator = registry.create_api_key(s, None, "operator", now, "test")
            for a in world.agencies:
                registry.create_agency(s, a.id, a.name, now, "test")
                self.keys[a.id] = registry.create_api_key(s, a.id, "k", now, "test")
                tid = f"T-{a.id}-01"
                self.terminals[a.id] = (tid, registry.create_terminal(s, a.id, tid, "",
                                                                       now, "test"))
            for i, b in enumerate(world.badges):
                w = registry.create_worker(s, b.agency_id, f"W-{i:07d}", now - 86400 * 40,
                                           "test", name=f"工人{i}")
                self.workers[i] = w.id
                bb = registry.register_badge(s, b.agency_id, now, "test", worker_id=w.id,
                                             credential=b.credential)
                self.badge_ids[i] = bb.id
        self.publish_lists(now)

    def tap(self, i, purpose="status", scope=63):
        b = self.world.badges[i]
        token = b.tap(purpose, scope=scope) if purpose == "consent" else b.tap(purpose)
        return token, b.credential

    def tap_path(self, i, purpose="status", scope=63):
        """The path of the URL a phone reads from badge i's tag (through the NDEF bytes)."""
        token, cred = self.tap(i, purpose, scope)
        url = read_tag_url(tag_data(sample.STATUS_HOST, token, cred))
        assert url.startswith(f"https://{sample.STATUS_HOST}/t/")
        return url[len(f"https://{sample.STATUS_HOST}"):]

    def publish_lists(self, now):
        """Sign every agency's status list at `now` (a test that moves the clock by days)."""
        from verifier.services import status
        x = self.x
        for a in self.world.agencies:
            with x.db.session() as s:
                status.publish(s, x.store, a.id, self.world.agency_keys[a.id],
                               self.app.config["STATUS_BASE_URL"], now, 3600, 86400 * 7)
        with x.db.session() as s:
            x.store.refresh(s, now, force=True)

    def auth(self, agency_id=None):
        key = self.operator if agency_id is None else self.keys[agency_id]
        return {"Authorization": f"Bearer {key}"}

    def terminal_auth(self, agency_id):
        return {"Authorization": f"Bearer {self.terminals[agency_id][1]}"}

    def checkin_item(self, i, nonce=None, t=None, terminal_id=None):
        b = self.world.badges[i]
        terminal_id = terminal_id or self.terminals[b.agency_id][0]
        t = t if t is not None else self.world.now - 60
        nonce = nonce if nonce is not None else os.urandom(16)
        token = b.tap("checkin", terminal_id=terminal_id, terminal_time=t, nonce=nonce)
        return {"token": b64(token), "credential": b64(b.credential),
                "receipt": {"terminal_id": terminal_id, "seen_at": t, "nonce": nonce.hex()}}

    def enrol_and_ban(self, workers, id_number):
        """Enrol each (agency, worker_ref) with the same ID number (one person), then ban
        that person with a bureau key; the ban's answer (JSON)."""
        from sqlalchemy import select

        from verifier.models import Person
        for agency, ref in workers:
            r = self.client.post(f"/api/v1/agencies/{agency}/workers/enrol",
                                 headers=self.auth(agency),
                                 json={"worker_ref": ref, "id_number": id_number})
            assert r.status_code == 200, r.json
        x = self.x
        with x.db.session() as s:
            key = registry.create_api_key(s, None, "bureau", x.now(), "test", role="bureau")
            digest = s.scalar(select(Person.person_hash))
        r = self.client.post("/api/v1/bureau/bans", headers={"Authorization": f"Bearer {key}"},
                             json={"person_hash": digest, "category": "theft",
                                   "legal_basis": "case 17", "decided_by": "bureau",
                                   "appeal_route": "appeal in writing"})
        assert r.status_code == 201, r.json
        return r.json

    def post_checkins(self, agency_id, items, client=None):
        return (client or self.client).post("/api/v1/checkins", json={"items": items},
                                            headers=self.terminal_auth(agency_id))


def console_login(client, username, password):
    """Sign `client` in to the console (the login form with its CSRF field); the client."""
    import re
    page = client.get("/console/login").text
    csrf = re.search(r'name="csrf" value="([^"]*)"', page).group(1)
    r = client.post("/console/login", data={"username": username, "password": password,
                                            "csrf": csrf})
    assert r.status_code == 303, r.text
    return client


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def identity_config():
    """TEST KEYS (derived from fixed labels, never for production): the verifier's ID-number
    sealing key, the bureau's person-hash secrets ("t1" current and "t0" retired) and the key
    that signs the session cookie."""
    def k(label):
        return hashlib.sha256(b"xinka TEST KEY " + label.encode()).hexdigest()
    return {"ID_SEAL_KEYS": {"t1": k("seal t1")}, "ID_SEAL_KEY_ID": "t1",
            "PERSON_HASH_KEYS": {"t1": k("person t1"), "t0": k("person t0")},
            "PERSON_HASH_KEY_ID": "t1", "SECRET_KEY": k("session")}


def make_app(db_url, world, **extra):
    cfg = {"DATABASE_URL": db_url, "TESTING": True, **identity_config(),
           "AUTHORITY_KEY": world.authority.public_key(),
           "STATUS_SIGNING_KEYS": dict(world.agency_keys),
           "STATUS_BASE_URL": "https://" + sample.STATUS_HOST,
           "FIXED_NOW": world.now, "RATE_LIMIT_PER_MIN": 0, "STATUS_CHECK_MS": 0,
           # the bureau console counts live (tests write, then read the figures); the stored
           # figures have their own tests (tests/web/test_city_figures.py)
           "CITY_FIGURES_MAX_AGE_S": 0,
           # console passwords at 1/32 of the production scrypt cost (as Django's test
           # settings use a fast hasher): one hash per test's staff user, not 0.14 s
           "STAFF_SCRYPT_N": 2 ** 10}
    cfg.update(extra)
    return create_app(cfg)
