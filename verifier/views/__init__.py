"""Blueprints (thin: parse, authorize, call a service, render JSON) and error handlers."""
from flask import jsonify
from werkzeug.exceptions import HTTPException

from host import wire

from ..services.errors import ServiceError

WIRE_STATUS = {"malformed": 400, "oversized": 413}
# HTML pages (employer page, console): not part of the OpenAPI document
HTML_BLUEPRINTS = ("employer", "console", "reports")


def wire_status(reason):
    return WIRE_STATUS.get(reason, 422)


def init_app(app):
    from . import api, compact, ops, registry
    app.register_blueprint(api.bp)
    app.register_blueprint(compact.bp)
    app.register_blueprint(registry.bp)
    app.register_blueprint(ops.bp)
    from . import console, employer, html, reports
    html.init_app(app)
    for bp in (employer.bp, console.bp, reports.bp, reports.api):
        app.register_blueprint(bp)

    @app.errorhandler(ServiceError)
    def _service_error(err):
        return jsonify(reason=err.reason, message=err.message), err.http_status

    @app.errorhandler(wire.WireError)
    def _wire_error(err):
        return jsonify(valid=False, reason=err.reason, message=err.message), \
            wire_status(err.reason)

    @app.errorhandler(HTTPException)
    def _http_error(err):
        reason = {413: "oversized", 429: "rate_limited"}.get(
            err.code, (err.name or "error").lower().replace(" ", "_"))
        return jsonify(reason=reason, message=err.description), err.code
