"""The real verifier (verifier.create_app) for the provisioning tests, served over HTTP.

A temporary SQLite file (or the database `database_url` names), migrated with `flask
db-upgrade`; an operator key from `flask apikey-create`; then, through the HTTP API as an operator
would: the desk's trust list, the agency, the agency's API key. The verifier signs the agency's
status list with a key of the agency's in the trust list (not the desk's issuing key), so
registrations, revocations and retired indices show in the published list. werkzeug's threaded
server on 127.0.0.1 (a port of its own) in a thread of the test.

The tests assert against its real state: the HTTP API (status-indices, workers, /sl, verify)
and, for what the API does not list, its database.
"""
import json
import threading
import urllib.error
import urllib.request

from sqlalchemy import select
from werkzeug.serving import WSGIRequestHandler, make_server

from host import wire
from host.wire.status import StatusListToken
from verifier import create_app
from verifier.models import Badge, Worker

from .verifier import identity_config

LIVE = ("registered", "active")


class _Quiet(WSGIRequestHandler):
    def log_request(self, *a, **kw):
        pass


class RealVerifier:
    def __init__(self, folder, agency_id, agency_name, authority_key, status_key, trust_list,
                 status_host, database_url=None):
        folder.mkdir(parents=True, exist_ok=True)
        self.agency = agency_id
        self.authority_key = authority_key
        self.app = create_app({
            "DATABASE_URL": database_url or f"sqlite:///{folder / 'verifier.sqlite'}",
            "AUTHORITY_KEY": authority_key.public_key(),
            "STATUS_SIGNING_KEYS": {agency_id: status_key},
            "STATUS_BASE_URL": f"https://{status_host}",
            "RATE_LIMIT_PER_MIN": 0, "STATUS_CHECK_MS": 0, **identity_config()})
        self.x = self.app.extensions["xinka"]
        cli = self.app.test_cli_runner()
        r = cli.invoke(args=["db-upgrade"])
        assert r.exit_code == 0, r.output
        r = cli.invoke(args=["apikey-create", "--label", "operator"])
        assert r.exit_code == 0, r.output
        self.operator = r.stdout.strip()      # log lines (stderr) are not the key
        self.requests = []
        inner = self.app.wsgi_app

        def recording(environ, start_response):
            self.requests.append((environ["REQUEST_METHOD"], environ["PATH_INFO"]))
            return inner(environ, start_response)
        self.app.wsgi_app = recording
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True,
                                  request_handler=_Quiet)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()
        self.call("POST", "/api/v1/trust-list", trust_list, self.operator, 201)
        self.call("POST", "/api/v1/agencies", {"id": agency_id, "name": agency_name},
                  self.operator, 201)
        self.api_key = self.call("POST", f"/api/v1/agencies/{agency_id}/api-keys",
                                 {"label": "desk"}, self.operator, 201)["api_key"]
        self.requests.clear()

    def bureau_key(self):
        """A bureau API key (`flask apikey-create --bureau`)."""
        r = self.app.test_cli_runner().invoke(args=["apikey-create", "--bureau",
                                                    "--label", "bureau"])
        assert r.exit_code == 0, r.output
        return r.stdout.strip()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)
        self.x.db.engine.dispose()

    # --- the HTTP API ------------------------------------------------------------------------

    def call(self, method, path, body=None, key=None, expect=None, ctype=None):
        """JSON (or raw bytes for a bytes body) to the API; the decoded answer (or, for a non
        JSON answer, the bytes). `expect`: the status it must have."""
        data, headers = None, {"Authorization": f"Bearer {key or self.api_key}"}
        if isinstance(body, (bytes, bytearray)):
            data, headers["Content-Type"] = bytes(body), ctype or "application/octet-stream"
        elif body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                status, raw, kind = resp.status, resp.read(), resp.headers.get_content_type()
        except urllib.error.HTTPError as err:
            status, raw, kind = err.code, err.read(), err.headers.get_content_type()
        assert expect is None or status == expect, (method, path, status, raw[:300])
        return json.loads(raw) if kind == "application/json" else raw

    def indices(self, state=None):
        """{status_idx: reservation} of the agency (GET status-indices)."""
        q = f"?state={state}" if state else ""
        r = self.call("GET", f"/api/v1/agencies/{self.agency}/status-indices{q}", expect=200)
        return {e["status_idx"]: e for e in r["indices"]}

    def status_list(self):
        """{index: status name} of the agency's published, signed status list (GET /sl)."""
        token = self.call("GET", f"/sl/{self.agency}", expect=200)
        trust = self.x.store.snapshot.trust
        lst = StatusListToken.load(token, trust, None)
        names = {wire.VALID: "valid", wire.SUSPENDED: "suspended", wire.REVOKED: "revoked"}
        return lambda idx: names[lst.statuses.get(idx)]

    def verify(self, token, credential):
        """The verdict of POST /api/v1/verify for a tap."""
        return self.call("POST", "/api/v1/verify", token + credential, ctype="application/cbor")

    def worker_refs(self):
        r = self.call("GET", f"/api/v1/agencies/{self.agency}/workers", expect=200)
        return {w["worker_ref"]: w for w in r["workers"]}

    def cancel_worker(self, ref):
        wid = self.call("POST", f"/api/v1/agencies/{self.agency}/workers",
                        {"worker_ref": ref}, expect=201)["id"]
        self.call("POST", f"/api/v1/agencies/{self.agency}/workers/{wid}/cancel",
                  {"reason": "注销"}, expect=200)

    # --- its database ------------------------------------------------------------------------

    def badges(self):
        """Every badge of the agency as a dict (kid, serial, status_idx, state, worker_ref,
        credential), in registration order."""
        with self.x.db.session() as s:
            rows = s.execute(select(Badge, Worker.worker_ref)
                             .join(Worker, Worker.id == Badge.worker_id, isouter=True)
                             .where(Badge.agency_id == self.agency).order_by(Badge.id)).all()
            return [{"id": b.id, "kid": b.kid, "serial": b.serial, "status_idx": b.status_idx,
                     "state": b.state, "worker_ref": ref, "credential": b.credential}
                    for b, ref in rows]

    def live_badges(self):
        """Badges registered or active: after a failed issuance there must be none of it."""
        return [b for b in self.badges() if b["state"] in LIVE]
