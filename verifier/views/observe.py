"""What each request leaves for the operator: a request id (the proxy's `X-Request-Id` when it
sends a sane one, else a new one) in the `X-Request-Id` response header and at the head of every
log line written while the request runs; its latency and status in the metrics."""
import logging
import re
import time
import uuid

from flask import g, request

from .common import ext

HEADER = "X-Request-Id"
_SANE = re.compile(r"[A-Za-z0-9._-]{8,64}")


def request_id():
    """This request's id, or None outside a request."""
    from flask import has_request_context
    if not has_request_context():
        return None
    return g.get("request_id")


class RequestIdFilter(logging.Filter):
    """Note the request id on a record logged inside a request (on handlers, so it sees the
    lines of every module logger and of gunicorn's error log alike)."""

    def filter(self, record):
        rid = request_id()
        if rid:
            record.request_id = rid
        return True


class RequestIdFormatter(logging.Formatter):
    """The handler's own format, with `request <id>:` before the message of a request's line
    (the record itself is left as it is for the other handlers)."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def format(self, record):
        rid = getattr(record, "request_id", None)
        if not rid:
            return self.inner.format(record)
        msg = record.msg
        record.msg = f"request {rid}: {msg}"
        try:
            return self.inner.format(record)
        finally:
            record.msg = msg


def install(handlers):
    """The filter and the formatter on each handler (once)."""
    for handler in handlers:
        if not any(isinstance(f, RequestIdFilter) for f in handler.filters):
            handler.addFilter(RequestIdFilter())
        if not isinstance(handler.formatter, RequestIdFormatter):
            handler.setFormatter(RequestIdFormatter(handler.formatter or logging.Formatter()))


def init_app(app):
    from flask.logging import default_handler
    install([default_handler, *app.logger.handlers, *logging.getLogger().handlers])

    @app.before_request
    def _start():
        incoming = request.headers.get(HEADER, "")
        g.request_id = incoming if _SANE.fullmatch(incoming) else uuid.uuid4().hex
        g.request_t0 = time.perf_counter()

    @app.after_request
    def _finish(resp):
        resp.headers[HEADER] = g.get("request_id") or ""
        t0 = g.get("request_t0")
        endpoint = request.endpoint or "unmatched"
        m = ext().metrics
        m.requests.labels(endpoint=endpoint, method=request.method,
                          status=str(resp.status_code)).inc()
        if t0 is not None:
            m.latency.labels(endpoint=endpoint).observe(time.perf_counter() - t0)
        return resp
