"""The OpenAPI 3.1 document served at /api/v1/openapi.json."""

REASONS = ["malformed", "oversized", "wrong_alg", "bad_signature", "unknown_key",
           "untrusted_issuer", "expired", "not_yet_valid", "wrong_purpose", "revoked",
           "suspended", "replayed", "stale_status"]


def _json(schema):
    return {"application/json": {"schema": schema}}


def _resp(desc, schema=None):
    r = {"description": desc}
    if schema:
        r["content"] = _json(schema)
    return r


ERR = {"$ref": "#/components/schemas/Error"}
VERDICT = {"$ref": "#/components/schemas/Verdict"}
AGENCY = {"name": "agency_id", "in": "path", "required": True, "schema": {"type": "string"}}
WORKER = {"name": "worker_id", "in": "path", "required": True, "schema": {"type": "integer"}}
BADGE = {"name": "badge_id", "in": "path", "required": True, "schema": {"type": "integer"}}
PERIOD = {"name": "period", "in": "query", "required": True,
          "schema": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"}}
OBJ = {"type": "object"}
RES_STATES = ["reserved", "registered", "free", "retired"]
RESERVATION = {"type": "object", "required": ["status_idx", "uri"], "properties": {
    "status_idx": {"type": "integer"}, "uri": {"type": "string"},
    "state": {"type": "string", "enum": RES_STATES}, "kid": {"type": "string"},
    "serial": {"type": "string"}}}
MISSING = {"type": "object", "required": ["agency", "period", "missing", "next_cursor"],
           "properties": {
               "agency": {"type": "string"}, "period": {"type": "string"},
               "missing": {"type": "array", "items": {
                   "type": "object", "required": ["worker_id", "worker_ref"], "properties": {
                       "worker_id": {"type": "integer"}, "worker_ref": {"type": "string"},
                       "name": {"type": ["string", "null"]}}}},
               "next_cursor": {"type": ["string", "null"]}}}
KEY = [{"apiKey": []}]


def _op(summary, responses, params=(), body=None, security=None, tag="registry"):
    op = {"summary": summary, "tags": [tag], "responses": responses}
    if params:
        op["parameters"] = list(params)
    if body:
        op["requestBody"] = {"required": True, "content": body}
    if security is not None:
        op["security"] = security
    return op


def document():
    std = {"400": _resp("bad request", ERR), "401": _resp("no or unknown key", ERR),
           "403": _resp("another agency's data", ERR), "404": _resp("not found", ERR)}
    return {
        "openapi": "3.1.0",
        "info": {"title": "xinka verifier", "version": "1.0.0",
                 "description": "Offline verification of signed worker badges, check-in "
                                "ingest and the monthly attendance ledger."},
        "components": {
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"},
                                "terminal": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "required": ["reason"],
                          "properties": {"reason": {"type": "string"},
                                         "message": {"type": "string"}}},
                "Verdict": {"type": "object", "required": ["valid", "reason"], "properties": {
                    "valid": {"type": "boolean"},
                    "reason": {"type": ["string", "null"], "enum": REASONS + [None]},
                    "purpose": {"type": ["string", "null"]},
                    "badge": {"type": ["object", "null"]},
                    "agency": {"type": ["string", "null"]},
                    "worker_ref": {"type": ["string", "null"]},
                    "status": {"type": ["string", "null"],
                               "enum": ["valid", "suspended", "revoked", "unknown", None]},
                    "list_age_s": {"type": ["integer", "null"]},
                    "counter": {"type": ["integer", "string", "null"]},
                    "stale": {"type": "boolean"}}},
                "CheckinItem": {"type": "object", "required": ["token", "credential", "receipt"],
                                "properties": {
                                    "token": {"type": "string"},
                                    "credential": {"type": "string"},
                                    "receipt": {"type": "object",
                                                "required": ["terminal_id", "seen_at", "nonce"],
                                                "properties": {
                                                    "terminal_id": {"type": "string"},
                                                    "seen_at": {"type": "integer"},
                                                    "nonce": {"type": "string"}}}}},
            },
        },
        "paths": {
            "/api/v1/verify": {"post": _op(
                "Verify a tap (token + credential)",
                {"200": _resp("valid", VERDICT), "400": _resp("malformed", VERDICT),
                 "413": _resp("oversized", VERDICT), "422": _resp("refused", VERDICT),
                 "429": _resp("rate limited", ERR)},
                body={"application/cbor": {"schema": {"type": "string",
                                                      "contentMediaType": "application/cbor"}},
                      "application/json": {"schema": {"type": "object", "properties": {
                          "token": {"type": "string"}, "credential": {"type": "string"},
                          "tap": {"type": "string"}}}}},
                security=[], tag="verify")},
            "/api/v1/checkins": {"post": _op(
                "Ingest a batch of check-ins",
                {"200": _resp("per-item results", OBJ), "400": _resp("malformed", ERR),
                 "401": _resp("unknown terminal", ERR), "413": _resp("oversized", ERR)},
                body=_json({"type": "object", "required": ["items"], "properties": {
                    "items": {"type": "array",
                              "items": {"$ref": "#/components/schemas/CheckinItem"}}}}),
                security=[{"terminal": []}], tag="ingest")},
            "/api/v1/agencies": {"post": _op("Create an agency (operator)",
                                             {"201": _resp("created", OBJ), **std},
                                             body=_json(OBJ), security=KEY)},
            "/api/v1/agencies/{agency_id}/api-keys": {"post": _op(
                "Create an API key", {"201": _resp("created", OBJ), **std}, [AGENCY],
                _json(OBJ), KEY)},
            "/api/v1/agencies/{agency_id}/terminals": {"post": _op(
                "Register a terminal", {"201": _resp("created", OBJ), **std}, [AGENCY],
                _json(OBJ), KEY)},
            "/api/v1/agencies/{agency_id}/workers": {
                "get": _op("List workers", {"200": _resp("workers", OBJ), **std}, [AGENCY],
                           security=KEY),
                "post": _op("Register a worker", {"201": _resp("created", OBJ), **std},
                            [AGENCY], _json(OBJ), KEY)},
            "/api/v1/agencies/{agency_id}/workers/{worker_id}": {"get": _op(
                "One worker", {"200": _resp("worker", OBJ), **std}, [AGENCY, WORKER],
                security=KEY)},
            "/api/v1/agencies/{agency_id}/workers/{worker_id}/cancel": {"post": _op(
                "Cancel (注销) a worker: erase personal data",
                {"200": _resp("cancelled", OBJ), **std}, [AGENCY, WORKER], _json(OBJ), KEY)},
            "/api/v1/agencies/{agency_id}/workers/{worker_id}/issue-scope": {"put": _op(
                "Set the consent scope (0..63 or null: the profile default) of the worker's "
                "next badge", {"200": _resp("scope set", OBJ), **std}, [AGENCY, WORKER],
                _json(OBJ), KEY, tag="provisioning")},
            "/api/v1/agencies/{agency_id}/issue-scope": {"get": _op(
                "The consent scope set for the next badge of ?worker_ref=",
                {"200": _resp("scope", OBJ), **std},
                [AGENCY, {"name": "worker_ref", "in": "query", "required": True,
                          "schema": {"type": "string"}}], security=KEY, tag="provisioning")},
            "/api/v1/agencies/{agency_id}/workers/{worker_id}/attendance": {"get": _op(
                "A worker's attendance history", {"200": _resp("history", OBJ), **std},
                [AGENCY, WORKER], security=KEY)},
            "/api/v1/agencies/{agency_id}/status-indices": {
                "get": _op("Status index reservations (?state=reserved|registered|free|"
                           "retired)", {"200": _resp("reservations", OBJ), **std},
                           [AGENCY, {"name": "state", "in": "query", "required": False,
                                     "schema": {"type": "string", "enum": RES_STATES}}],
                           security=KEY, tag="provisioning"),
                "post": _op("Reserve a status index for a badge key being provisioned "
                            "(the same kid and serial again: the same reservation, 200)",
                            {"201": _resp("reserved", RESERVATION),
                             "200": _resp("already reserved for this key", RESERVATION),
                             "409": _resp("kid_registered / index_reserved", ERR), **std},
                            [AGENCY], _json({"type": "object", "required": ["kid", "serial"],
                                             "properties": {
                                                 "kid": {"type": "string",
                                                         "pattern": "^[0-9a-fA-F]{16}$"},
                                                 "serial": {"type": "string"}}}),
                            KEY, tag="provisioning")},
            "/api/v1/agencies/{agency_id}/status-indices/{status_idx}": {"delete": _op(
                "Give back a reservation never registered: free, or retired (a credential "
                "carrying it may exist: never handed out again, revoked in the status list)",
                {"200": _resp("released", {"type": "object", "properties": {
                    "status_idx": {"type": "integer"},
                    "state": {"type": "string", "enum": ["free", "retired"]},
                    "status_list": {"type": "string"}}}),
                 "409": _resp("not_reserved, or index_registered (with badge_id and kid)",
                              ERR), **std},
                [AGENCY, {"name": "status_idx", "in": "path", "required": True,
                          "schema": {"type": "integer", "minimum": 0}}],
                _json({"type": "object", "properties": {
                    "retire": {"type": "boolean", "default": True},
                    "reason": {"type": "string"}}}), KEY, tag="provisioning")},
            "/api/v1/agencies/{agency_id}/badges": {"get": _op(
                "The badges of one physical badge (its serial), in registration order",
                {"200": _resp("badges", OBJ), **std},
                [AGENCY, {"name": "serial", "in": "query", "required": True,
                          "schema": {"type": "string"}},
                 {"name": "live", "in": "query", "schema": {"type": "boolean"},
                  "description": "only badges not revoked"}], security=KEY), "post": _op(
                "Register a badge: from its credential (verified against the trust list; "
                "must carry this agency's status uri; consumes the reservation of its "
                "index) or from kid and serial; for worker_id or worker_ref (found or "
                "created)",
                {"201": _resp("created", OBJ), "409": _resp(
                    "kid_registered / index_reserved / index_retired / not_reserved / "
                    "worker_cancelled / conflict", ERR),
                 "422": _resp("credential refused: a wire reason, wrong_agency, "
                              "wrong_status_uri, kid_mismatch, serial_mismatch, "
                              "status_idx_mismatch, worker_mismatch", ERR), **std}, [AGENCY],
                _json({"type": "object", "properties": {
                    "credential": {"type": "string", "description": "base64url"},
                    "kid": {"type": "string"}, "serial": {"type": "string"},
                    "status_idx": {"type": "integer", "minimum": 0},
                    "worker_id": {"type": "integer"}, "worker_ref": {"type": "string"}}}),
                KEY)},
            "/api/v1/agencies/{agency_id}/badges/{badge_id}/{action}": {"post": _op(
                "activate / suspend / lose / reinstate / revoke / reissue (a new badge from "
                "its credential, as in registration, for the old badge's worker unless "
                "worker_ref names another; the old badge is revoked in the same transaction)",
                {"200": _resp("done", OBJ), "409": _resp("invalid transition", ERR), **std},
                [AGENCY, BADGE, {"name": "action", "in": "path", "required": True,
                                 "schema": {"type": "string", "enum": [
                                     "activate", "suspend", "lose", "reinstate", "revoke",
                                     "reissue"]}}], _json(OBJ), KEY)},
            "/api/v1/agencies/{agency_id}/attendance": {"get": _op(
                "Who is present / missing in a period", {"200": _resp("report", OBJ), **std},
                [AGENCY, PERIOD], security=KEY, tag="attendance")},
            "/api/v1/agencies/{agency_id}/attendance/missing": {"get": _op(
                "Missing workers only (active, registered before the period ended, no "
                "check-in in it), ordered by worker id, a page at a time",
                {"200": _resp("one page; next_cursor null on the last", MISSING), **std},
                [AGENCY, PERIOD,
                 {"name": "limit", "in": "query", "required": False,
                  "schema": {"type": "integer", "minimum": 1, "maximum": 5000,
                             "default": 500}},
                 {"name": "cursor", "in": "query", "required": False,
                  "description": "next_cursor of the previous page (opaque, bound to the "
                                 "period; 400 bad_cursor otherwise)",
                  "schema": {"type": "string"}}], security=KEY, tag="attendance")},
            "/api/v1/agencies/{agency_id}/attendance/daily": {"get": _op(
                "Check-ins per day of a period (the console's heat map)",
                {"200": _resp("days", OBJ), **std}, [AGENCY, PERIOD], security=KEY,
                tag="attendance")},
            "/api/v1/agencies/{agency_id}/export": {"get": _op(
                "Attendance of a period as CSV",
                {"200": {"description": "CSV", "content": {"text/csv": {"schema": {
                    "type": "string"}}}}, **std}, [AGENCY, PERIOD], security=KEY,
                tag="attendance")},
            "/api/v1/agencies/{agency_id}/clone-evidence": {"get": _op(
                "Clone evidence for the agency's badges", {"200": _resp("evidence", OBJ),
                                                           **std}, [AGENCY], security=KEY)},
            "/api/v1/audit": {"get": _op("Audit log entries", {"200": _resp("entries", OBJ),
                                                               **std}, security=KEY)},
            "/api/v1/trust-list": {"get": _op(
                "The newest trust list (signed by the authority)",
                {"200": {"description": "trust list", "content": {
                    "application/cose": {"schema": {"type": "string"}}}},
                 "404": _resp("none", ERR)}, security=[], tag="ops"), "post": _op(
                "Import a signed trust list (operator)",
                {"201": _resp("imported", OBJ), "409": _resp("not newer", ERR),
                 "422": _resp("refused", ERR), **std},
                body={"application/cose": {"schema": {"type": "string"}}}, security=KEY)},
            "/api/v1/receipt-key": {"get": _op(
                "The verifier's visit-receipt public key (COSE_Key; docs/protocol.md)",
                {"200": {"description": "COSE_Key", "content": {
                    "application/cose-key": {"schema": {"type": "string"}}}},
                 "404": _resp("no receipt key configured", ERR)}, security=[], tag="ops")},
            "/api/v1/status-lists": {"post": _op(
                "Import a signed status list (operator)",
                {"201": _resp("imported", OBJ), "409": _resp("not newer", ERR),
                 "422": _resp("refused", ERR), **std},
                body={"application/statuslist+cwt": {"schema": {"type": "string"}}},
                security=KEY)},
            "/sl/{agency_id}": {"get": _op(
                "The agency's current signed status list",
                {"200": {"description": "status list token", "content": {
                    "application/statuslist+cwt": {"schema": {"type": "string"}}}},
                 "404": _resp("none", ERR)}, [AGENCY], security=[], tag="ops")},
            "/sl/{agency_id}/compact/manifest": {"get": _op(
                "Signed manifest of the agency's compact status list (chunk starts, sizes, "
                "SHA-256)",
                {"200": {"description": "manifest", "content": {
                    "application/xk-compact+cwt": {"schema": {"type": "string"}}}},
                 "404": _resp("none", ERR), "409": _resp("no status key", ERR)},
                [AGENCY], security=[], tag="ops")},
            "/sl/{agency_id}/compact/chunk/{n}": {"get": _op(
                "One chunk of the compact status list (optional ?seq=)",
                {"200": {"description": "chunk", "content": {
                    "application/octet-stream": {"schema": {"type": "string"}}}},
                 "404": _resp("none", ERR), "409": _resp("no status key", ERR)},
                [AGENCY, {"name": "n", "in": "path", "required": True,
                          "schema": {"type": "integer"}},
                 {"name": "seq", "in": "query", "required": False,
                  "schema": {"type": "integer"}}], security=[], tag="ops")},
            "/sl/{agency_id}/compact/delta/{from_seq}": {"get": _op(
                "Signed changes from from_seq to the newest list",
                {"200": {"description": "delta", "content": {
                    "application/xk-compact-delta+cwt": {"schema": {"type": "string"}}}},
                 "204": {"description": "from_seq is the newest"},
                 "404": _resp("unknown seq", ERR), "409": _resp("no status key", ERR)},
                [AGENCY, {"name": "from_seq", "in": "path", "required": True,
                          "schema": {"type": "integer"}}], security=[], tag="ops")},
            "/healthz": {"get": _op("Liveness", {"200": _resp("ok", OBJ)}, security=[],
                                    tag="ops")},
            "/readyz": {"get": _op("Readiness (fails on a stale status list)",
                                   {"200": _resp("ready", OBJ), "503": _resp("not ready", OBJ)},
                                   security=[], tag="ops")},
            "/metrics": {"get": _op("Prometheus metrics", {"200": {
                "description": "text format",
                "content": {"text/plain": {"schema": {"type": "string"}}}}}, security=[],
                tag="ops")},
            "/api/v1/openapi.json": {"get": _op("This document", {"200": _resp("OpenAPI", OBJ)},
                                                security=[], tag="ops")},
            **_admission_paths(std),
            **_registry_paths(std),
        },
    }


APPLICATION = {"name": "app_id", "in": "path", "required": True, "schema": {"type": "integer"}}


def _admission_paths(std):
    """Agency admission (docs/verifier.md "Admission"): the applicant's routes take the
    application token, the review routes an operator key."""
    base = "/api/v1/admission/applications"
    token = [{"apiKey": []}]
    note = _json({"type": "object", "required": ["note"],
                  "properties": {"note": {"type": "string"}}})
    done = {"200": _resp("the application", OBJ), **std,
            "409": _resp("invalid_transition, agency_exists, username_taken", ERR)}
    return {
        base: {"post": _op("Apply for admission (no account: returns the application token)",
                           {"201": _resp("submitted", OBJ), "400": _resp(
                               "uscc_length, uscc_digits, uscc_charset, uscc_checksum, "
                               "pledge_required, private_key_refused, ...", ERR),
                            "409": _resp("duplicate_application, username_taken", ERR),
                            "429": _resp("rate limited", ERR)},
                           body=_json(OBJ), security=[], tag="admission"),
               "get": _op("Applications (bureau; ?state=)", {"200": _resp("list", OBJ), **std},
                          [{"name": "state", "in": "query", "required": False,
                            "schema": {"type": "string"}}], security=KEY, tag="admission")},
        base + "/{app_id}": {"put": _op("Amend after changes were asked for (applicant token)",
                                        done, [APPLICATION], _json(OBJ), token, "admission")},
        base + "/{app_id}/mine": {"get": _op("The applicant's view (applicant token)",
                                             {"200": _resp("the application", OBJ), **std},
                                             [APPLICATION], security=token, tag="admission")},
        base + "/{app_id}/request-changes": {"post": _op(
            "Ask for changes (bureau)", done, [APPLICATION], note, KEY, "admission")},
        base + "/{app_id}/refuse": {"post": _op(
            "Refuse (bureau)", done, [APPLICATION], note, KEY, "admission")},
        base + "/{app_id}/approve": {"post": _op(
            "Approve: creates the agency and its first console login (bureau)", done,
            [APPLICATION], _json({"type": "object", "required": ["agency_id"],
                                  "properties": {"agency_id": {"type": "string"}}}), KEY,
            "admission")},
        base + "/{app_id}/keys.pem": {"get": _op(
            "The approved agency's public keys, for xinka-authority agency add (bureau)",
            {"200": {"description": "PEM", "content": {
                "application/x-pem-file": {"schema": {"type": "string"}}}}, **std},
            [APPLICATION], security=KEY, tag="admission")},
    }


BAN = {"name": "ban_id", "in": "path", "required": True, "schema": {"type": "integer"}}
COMPLAINT = {"name": "complaint_id", "in": "path", "required": True,
             "schema": {"type": "integer"}}
PROPOSAL = {"name": "proposal_id", "in": "path", "required": True, "schema": {"type": "integer"}}
APPEAL = {"name": "appeal_id", "in": "path", "required": True, "schema": {"type": "integer"}}
HASH = {"name": "person_hash", "in": "path", "required": True,
        "schema": {"type": "string", "pattern": "^[0-9a-f]{64}$"}}


def _registry_paths(std):
    """The person registry and the ban list (docs/protocol.md "The person registry and the
    ban list"): enrolment takes an agency key, the bureau's routes a bureau key only."""
    banned = {"403": _resp("person_banned (with ends_at, ends_on) or another agency's data",
                           ERR)}
    bureau = dict(std, **{"403": _resp("bureau_only: not a bureau key", ERR)})
    return {
        "/api/v1/agencies/{agency_id}/workers/enrol": {"post": _op(
            "Enrol a worker with the resident ID number (checked, sealed, the person's file "
            "found or made; elsewhere: the person's live badges at other agencies)",
            {"200": _resp("enrolled", OBJ), **std, **banned,
             "503": _resp("identity_unconfigured", ERR)}, [AGENCY], body=_json(OBJ),
            security=KEY)},
        "/api/v1/bureau/bans": {
            "post": _op("Ban a person (by person hash): revokes the person's live badges at "
                        "every agency and republishes their status lists",
                        {"201": _resp("ban", OBJ), **bureau}, body=_json(OBJ), security=KEY,
                        tag="bureau"),
            "get": _op("The ban list (?format=csv: the export, hashes only)",
                       {"200": _resp("bans", OBJ), **bureau}, security=KEY, tag="bureau")},
        "/api/v1/bureau/bans/{ban_id}": {"get": _op(
            "One ban", {"200": _resp("ban", OBJ), **bureau}, [BAN], security=KEY,
            tag="bureau")},
        "/api/v1/bureau/bans/{ban_id}/lift": {"post": _op(
            "End a ban early on a successful appeal (badges stay revoked)",
            {"200": _resp("ban", OBJ), "409": _resp("ban_ended", ERR), **bureau}, [BAN],
            body=_json(OBJ), security=KEY, tag="bureau")},
        "/api/v1/bureau/sweep": {"post": _op(
            "Record the bans that started or ended (as flask ban-sweep)",
            {"200": _resp("what changed", OBJ), **bureau}, security=KEY, tag="bureau")},
        "/api/v1/bureau/persons": {"get": _op(
            "The person holding a badge (?agency=&serial=) or every person with live badges "
            "at two or more agencies (?multi_agency=1)",
            {"200": _resp("persons", OBJ), **bureau}, security=KEY, tag="bureau")},
        "/api/v1/bureau/persons/{person_hash}": {"get": _op(
            "A person's file: workers and badges at every agency, bans",
            {"200": _resp("person", OBJ), **bureau}, [HASH], security=KEY, tag="bureau")},
        "/api/v1/bureau/agencies/{agency_id}/credit": {"get": _op(
            "An agency's credit figures on the credit plan's four dimensions (compliance, "
            "service quality, performance, social responsibility)",
            {"200": _resp("figures", OBJ), "404": _resp("no such agency", ERR), **bureau},
            [AGENCY], security=KEY, tag="bureau")},
        "/api/v1/bureau/complaints": {"get": _op(
            "The complaints waiting for the bureau: serious ones with the agency's proposal, "
            "and any past its deadline of 7 working days",
            {"200": _resp("complaints", OBJ), **bureau}, security=KEY, tag="bureau")},
        "/api/v1/bureau/complaints/{complaint_id}/decision": {"post": _op(
            "The bureau's final decision of an escalated complaint: {outcome: upheld | "
            "partly_upheld | dismissed, note}",
            {"200": _resp("the complaint", OBJ), "404": _resp("no such complaint", ERR),
             "409": _resp("not_escalated or complaint_closed", ERR), **bureau},
            [COMPLAINT], body=_json(OBJ), security=KEY, tag="bureau")},
        "/api/v1/bureau/attendance": {"get": _op(
            "Every agency's check-ins of a month (?period=YYYY-MM, default the current one): "
            "active workers, registered before the month ended, of them checked in, missing, "
            "the rate, every worker with a check-in and the check-ins, from the counters the "
            "database keeps; ?format=csv for one row per agency",
            {"200": _resp("the table", OBJ), "400": _resp("not a period", ERR), **bureau},
            security=KEY, tag="bureau")},
        "/api/v1/bureau/export": {"get": _op(
            "The national export (docs/national-export.md, JSON Schema "
            "docs/national-export.schema.json): agencies with their credit figures, badge "
            "counts and grades, the city's totals, bans in force by person hash only; "
            "?format=csv for one row per agency",
            {"200": _resp("the export", OBJ), **bureau}, security=KEY, tag="bureau")},
        "/api/v1/bureau/appeals": {"get": _op(
            "The workers' appeals waiting for the bureau (of a grade, a record, a complaint's "
            "outcome or a review), oldest first",
            {"200": _resp("appeals", OBJ), **bureau}, security=KEY, tag="bureau")},
        "/api/v1/bureau/appeals/{appeal_id}/decision": {"post": _op(
            "The bureau's final decision of an appeal: {outcome: upheld | rejected, note, "
            "set_aside: the grade's reasons set aside (refs such as review:9), for an appeal "
            "of the grade}; an upheld appeal takes its inputs out of the credit rules",
            {"200": _resp("the appeal", OBJ), "400": _resp("bad_appeal", ERR),
             "404": _resp("no such appeal", ERR), "409": _resp("appeal_closed", ERR),
             **bureau},
            [APPEAL], body=_json(OBJ), security=KEY, tag="bureau")},
        "/api/v1/bureau/ban-proposals": {"get": _op(
            "The agencies' ban proposals waiting for the bureau, oldest first: the person by "
            "hash, category, legal basis, evidence",
            {"200": _resp("ban proposals", OBJ), **bureau}, security=KEY, tag="bureau")},
        "/api/v1/bureau/ban-proposals/{proposal_id}/decision": {"post": _op(
            "The bureau's decision of a ban proposal: {accept: true, decided_by, "
            "appeal_route, starts_at?, ends_at?, note?} makes the ban as POST /bans does "
            "(and republishes the lists it touches); {accept: false, note} rejects it",
            {"200": _resp("the proposal (and the ban)", OBJ),
             "400": _resp("bad_ban_proposal, bad field of the ban", ERR),
             "404": _resp("unknown_proposal", ERR), "409": _resp("proposal_closed", ERR),
             **bureau},
            [PROPOSAL], body=_json(OBJ), security=KEY, tag="bureau")},
    }
