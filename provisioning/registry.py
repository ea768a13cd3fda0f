"""HTTP client for the verifier's badge registry (the provisioning side of it; the verifier
implements it in verifier/views/registry.py, docs/verifier.md "Provisioning").

Endpoints (JSON bodies, `Authorization: Bearer <agency API key>`; errors are
`{"reason": code, "message": text}` with a 4xx/5xx status):

  POST   /api/v1/agencies/<agency>/workers/enrol          {"worker_ref", "id_number"}
         200 {"worker": {...}, "person_new": bool, "elsewhere": [{"agency", "serial",
         "state"}]}  the ID number checked, sealed, the person's file found or made; 403
         "person_banned" with {"ends_on": "YYYY-MM-DD"}; 400 "id_number_invalid" with "part"
  POST   /api/v1/agencies/<agency>/status-indices          {"kid": hex, "serial": hex}
         201 {"status_idx": int, "uri": status list URI}   reserve an index for a new badge
  DELETE /api/v1/agencies/<agency>/status-indices/<idx>    {"retire": bool, "reason": text}
         200 {"status_idx": int, "state": "free" | "retired"}
         give back a reservation that was never registered; "retire" = a credential with this
         index may exist (it was sent to a badge): never hand the index out again (and revoke
         it in the status list). 409 "index_registered" with {"badge_id", "kid"}: a badge was
         registered with it after all (the answer to the registration was lost)
  POST   /api/v1/agencies/<agency>/badges
         {"credential": base64url, "kid": hex, "serial": hex, "status_idx": int,
          "worker_ref": text}  201 {"id": int, "kid": .., "serial": .., "status_idx": ..,
                                     "state": "registered", ...}
         the verifier checks the credential (this agency's trusted key, its status uri, the
         reserved index, kid / serial / worker) and consumes the reservation
  GET    /api/v1/agencies/<agency>/badges?serial=<hex>&live=1
         200 {"badges": [{"id", "kid", "serial", "status_idx", "state", ...}]}
         the registrations of this physical badge that are not revoked (a wiped badge being
         issued again has one)
  POST   /api/v1/agencies/<agency>/badges/<old id>/reissue
         {"credential", "kid", "serial", "status_idx", "worker_ref", "reason"}
         200 {"old": {..., "state": "revoked"}, "new": {"id", ..., "state": "registered"}}
         registration as above, and the old badge revoked in the same transaction
  POST   /api/v1/agencies/<agency>/badges/<id>/activate     {"reason": text}   200 {...}
  POST   /api/v1/agencies/<agency>/badges/<id>/revoke       {"reason": text}   200 {...}
"""
import base64
import json
import logging
import urllib.error
import urllib.parse
import urllib.request

from host import wire

from .errors import IdNumberRejected, PersonBanned, VerifierError

log = logging.getLogger(__name__)

TIMEOUT = 10


def _refused(detail, status, info):
    """VerifierError with the HTTP status (None: no answer) and the error body; the refusals
    that have an error of their own (a banned person, a bad ID number) as that error."""
    if info.get("reason") == "person_banned" and isinstance(info.get("ends_on"), str):
        return PersonBanned(info["ends_on"])
    if info.get("reason") == "id_number_invalid":
        return IdNumberRejected(str(info.get("part")))
    err = VerifierError(detail)
    err.status, err.info = status, info
    err.server_reason = info.get("reason")
    return err


class Registry:
    def __init__(self, base_url, agency_id, api_key="", timeout=TIMEOUT):
        self.base = base_url.rstrip("/")
        self.agency = agency_id
        self.api_key = api_key
        self.timeout = timeout

    def _call(self, method, path, body):
        url = f"{self.base}/api/v1/agencies/{self.agency}{path}"
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, method=method, data=data,
                                     headers={"Content-Type": "application/json",
                                              "Authorization": f"Bearer {self.api_key}"})
        log.debug("verifier: %s %s", method, url)      # the API key is in a header, not here
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as err:
            try:
                info = json.loads(err.read())
                if not isinstance(info, dict):
                    raise ValueError("not an object")
                detail = f"{err.code} {info.get('reason', '')}: {info.get('message', '')}"
            except (ValueError, OSError):
                info, detail = {}, f"{err.code}"
            log.info("verifier refused %s %s: HTTP %d %s", method, url, err.code,
                        info.get("reason", ""))
            raise _refused(f"{method} {url}: {detail}", err.code, info) from err
        except (urllib.error.URLError, OSError, ValueError) as err:
            log.info("verifier unreachable: %s %s: %s", method, url, err)
            raise _refused(f"{method} {url}: {err}", None, {}) from err

    def enrol(self, worker_ref, id_number):
        """Enrol the worker with its ID number: {"worker", "person_new", "elsewhere": the
        person's live badges at other agencies}; PersonBanned for a banned person."""
        r = self._call("POST", "/workers/enrol", {"worker_ref": worker_ref,
                                                  "id_number": id_number})
        if not isinstance(r.get("worker"), dict) or not isinstance(r.get("elsewhere"), list):
            raise VerifierError("enrolment answer lacks worker / elsewhere")
        return r

    def issue_scope(self, worker_ref):
        """The consent scope bits the agency console set for this worker's next badge, or
        None (the profile's consent_scope)."""
        q = urllib.parse.urlencode({"worker_ref": worker_ref})
        r = self._call("GET", f"/issue-scope?{q}", None)
        bits = r.get("scope")
        if bits is not None and (type(bits) is not int or not 0 <= bits <= wire.SCOPE_ALL):
            raise VerifierError("issue-scope answer lacks scope")
        return bits

    def allocate(self, kid, serial):
        """(status index, status list URI) reserved for a badge."""
        r = self._call("POST", "/status-indices", {"kid": kid.hex(), "serial": serial})
        if type(r.get("status_idx")) is not int or not isinstance(r.get("uri"), str):
            raise VerifierError("allocation answer lacks status_idx / uri")
        return r["status_idx"], r["uri"]

    def release(self, idx, retire, reason):
        return self._call("DELETE", f"/status-indices/{idx}", {"retire": retire,
                                                                "reason": reason})

    def live_badges(self, serial):
        """The registrations of badge `serial` that are not revoked, oldest first."""
        q = urllib.parse.urlencode({"serial": serial, "live": 1})
        r = self._call("GET", f"/badges?{q}", None)
        rows = r.get("badges")
        if not isinstance(rows, list) or not all(isinstance(b, dict) and
                                                 type(b.get("id")) is int for b in rows):
            raise VerifierError("badge listing answer lacks badges / id")
        return rows

    def register(self, credential, kid, serial, idx, worker_ref, replaces=None, reason=""):
        """The new registration; `replaces`: the id of the badge it re-issues, which the
        verifier revokes in the same transaction (the answer's "replaced")."""
        body = {"credential": base64.urlsafe_b64encode(credential).rstrip(b"=").decode(),
                "kid": kid.hex(), "serial": serial, "status_idx": idx, "worker_ref": worker_ref}
        if replaces is None:
            return self._call("POST", "/badges", body)
        r = self._call("POST", f"/badges/{replaces}/reissue", dict(body, reason=reason))
        if not isinstance(r.get("new"), dict) or not isinstance(r.get("old"), dict):
            raise VerifierError("re-issue answer lacks new / old")
        return dict(r["new"], replaced=r["old"])

    def activate(self, badge_id, reason):
        return self._call("POST", f"/badges/{badge_id}/activate", {"reason": reason})

    def revoke(self, badge_id, reason):
        return self._call("POST", f"/badges/{badge_id}/revoke", {"reason": reason})
