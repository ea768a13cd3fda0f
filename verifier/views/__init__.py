"""Blueprints (thin: parse, authorize, call a service, render JSON), error handlers, and the
request log: one INFO line per refused request (every 4xx, and a red employer page or a
console redirect to the login), with method, path (tap tokens cut out), status and reason."""
import logging

from flask import g, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from host import wire

from ..services.errors import ServiceError
from .common import ext, log_path

log = logging.getLogger(__name__)

WIRE_STATUS = {"malformed": 400, "oversized": 413}
# HTML pages (employer page, console): not part of the OpenAPI document
HTML_BLUEPRINTS = ("employer", "console", "reports", "visits", "casework", "complaints",
                   "bureau_console", "apply", "me")


def wire_status(reason):
    return WIRE_STATUS.get(reason, 422)


def init_app(app):
    from . import admission, api, apply, browser, bureau, compact, me, ops, registry
    from . import (bureau_console, casework, complaints, console, employer, html, observe,
                   reports, visits)
    apis = (admission.bp, bureau.bp, api.bp, compact.bp, registry.bp, ops.bp, visits.api,
            reports.api)
    observe.init_app(app)        # first: the request id and timer of every request
    html.init_app(app)           # the request's locale, for a refusal page too
    browser.init_app(app)        # then the CSRF check (a before_request of Flask-WTF)
    browser.exempt_apis(apis)
    for bp in apis + (employer.bp, visits.bp, console.bp, reports.bp, casework.bp,
                      complaints.bp, bureau_console.bp, apply.bp, me.bp):
        app.register_blueprint(bp)
    app.jinja_env.globals.update(is_bureau=bureau_console.is_bureau)

    @app.errorhandler(ServiceError)
    def _service_error(err):
        return jsonify(reason=err.reason, message=err.message, **err.extra), err.http_status

    @app.errorhandler(wire.WireError)
    def _wire_error(err):
        return jsonify(valid=False, reason=err.reason, message=err.message), \
            wire_status(err.reason)

    @app.errorhandler(HTTPException)
    def _http_error(err):
        if err.response is not None:        # a page of its own (the employer's red page)
            return err.response
        if err.code == 429:
            return jsonify(reason="rate_limited", message="too many requests / 请求过于频繁"), 429
        reason = {413: "oversized", 429: "rate_limited"}.get(
            err.code, (err.name or "error").lower().replace(" ", "_"))
        return jsonify(reason=reason, message=err.description), err.code

    @app.after_request
    def _log_refusal(resp):
        reason = g.pop("log_reason", None)
        status = resp.status_code
        if status >= 500 or (reason is None and status < 400):
            return resp
        if reason is None:
            reason = _reason_of(resp)
        detail = g.pop("log_detail", None)
        ext().metrics.refusals.labels(endpoint=request.endpoint or "unmatched",
                                      reason=reason).inc()
        log.info("refused %s %s -> %d %s%s", request.method, log_path(request.path), status,
                 reason, f" ({detail})" if detail else "")
        return resp


def _reason_of(resp):
    """The reason code of a JSON refusal, else the HTTP status as a code (not_found, ...)."""
    if resp.is_json and not resp.is_streamed:
        body = resp.get_json(silent=True)
        if isinstance(body, dict) and isinstance(body.get("reason"), str):
            return body["reason"]
    return HTTP_STATUS_CODES.get(resp.status_code, "error").lower().replace(" ", "_")
