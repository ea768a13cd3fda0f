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
            "/api/v1/agencies/{agency_id}/workers/{worker_id}/attendance": {"get": _op(
                "A worker's attendance history", {"200": _resp("history", OBJ), **std},
                [AGENCY, WORKER], security=KEY)},
            "/api/v1/agencies/{agency_id}/badges": {"post": _op(
                "Register a badge", {"201": _resp("created", OBJ), **std}, [AGENCY],
                _json(OBJ), KEY)},
            "/api/v1/agencies/{agency_id}/badges/{badge_id}/{action}": {"post": _op(
                "activate / suspend / lose / reinstate / revoke / reissue",
                {"200": _resp("done", OBJ), "409": _resp("invalid transition", ERR), **std},
                [AGENCY, BADGE, {"name": "action", "in": "path", "required": True,
                                 "schema": {"type": "string", "enum": [
                                     "activate", "suspend", "lose", "reinstate", "revoke",
                                     "reissue"]}}], _json(OBJ), KEY)},
            "/api/v1/agencies/{agency_id}/attendance": {"get": _op(
                "Who is present / missing in a period", {"200": _resp("report", OBJ), **std},
                [AGENCY, PERIOD], security=KEY, tag="attendance")},
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
            "/api/v1/trust-list": {"post": _op(
                "Import a signed trust list (operator)",
                {"201": _resp("imported", OBJ), "409": _resp("not newer", ERR),
                 "422": _resp("refused", ERR), **std},
                body={"application/cose": {"schema": {"type": "string"}}}, security=KEY)},
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
        },
    }
