"""Rate limits per client on the public endpoints, on Flask-Limiter.

Views mark themselves with `views.common.rate_limited` (or `rate_limited_post`); `init_app`
wraps every marked view of the app in ONE shared limit, `RATE_LIMIT_PER_MIN` requests per
minute per client address (moving window: exact, no burst at a window's edge), scope
"public". The storage is `RATE_LIMIT_STORAGE_URI`: `memory://` (the default) holds in one
process; with several gunicorn workers use Redis (`redis://host:6379/0`), which every worker
shares, so a client meets the limit at the same count whichever worker answers.

The client is `request.remote_addr`: behind a proxy set `PROXY_FIX_X_FOR` to the number of
proxies in front (1 behind the documented nginx, which overwrites X-Forwarded-For), and
werkzeug's ProxyFix takes the address from there; a client's own X-Forwarded-For is never
trusted beyond that count.

A refusal is 429 with `Retry-After` (seconds) and the `X-RateLimit-*` headers; the JSON body
says `{"reason": "rate_limited"}` (the error handler in views/__init__.py), the employer page
a red page (its own `rate_limit_breach` response). If the storage cannot be reached the request
is let through and the error logged (`swallow_errors`): a broken Redis must not take the
verifier down.
"""
import logging

from flask import request
from flask_limiter import Limiter

log = logging.getLogger(__name__)

SCOPE = "public"


def client_key():
    return request.remote_addr or "?"


def init_app(app):
    cfg = app.config
    per_min = int(cfg["RATE_LIMIT_PER_MIN"] or 0)
    limiter = Limiter(client_key, storage_uri=cfg["RATE_LIMIT_STORAGE_URI"] or "memory://",
                      strategy="moving-window", headers_enabled=True, swallow_errors=True,
                      key_prefix="xinka", enabled=per_min > 0)
    limiter.init_app(app)
    app.extensions["xinka_limiter"] = limiter
    if per_min <= 0:
        return limiter
    for endpoint, view in list(app.view_functions.items()):
        mark = getattr(view, "xinka_rate_limit", None)
        if mark is None:
            continue
        breach = getattr(view, "xinka_rate_limit_breach", None)
        app.view_functions[endpoint] = limiter.shared_limit(
            f"{per_min} per minute", scope=SCOPE, methods=mark.get("methods"),
            on_breach=(lambda _limit, b=breach: b()) if breach else None)(view)
    return limiter


def storage_summary(cfg):
    """Where the limits are counted, for the startup line (no password)."""
    uri = cfg.get("RATE_LIMIT_STORAGE_URI") or "memory://"
    scheme, _, rest = uri.partition("://")
    host = rest.rpartition("@")[2]
    return f"{scheme}://{host}" if rest else uri
