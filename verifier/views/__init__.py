"""Blueprints (thin: parse, authorize, call a service, render JSON) and error handlers."""
from flask import jsonify
from werkzeug.exceptions import HTTPException

from host import wire

from ..services.errors import ServiceError

WIRE_STATUS = {"malformed": 400, "oversized": 413}


def wire_status(reason):
    return WIRE_STATUS.get(reason, 422)


def init_app(app):
    from . import api, ops, registry
    app.register_blueprint(api.bp)
    app.register_blueprint(registry.bp)
    app.register_blueprint(ops.bp)

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
