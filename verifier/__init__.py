"""The verifier service: `create_app(test_config=None)` (Flask application factory).

Nothing happens at import time; the database is touched only by requests and commands, and
the schema only by `flask --app verifier db-upgrade` (Alembic).

Logging: module loggers (`verifier.views.api`, `verifier.services.trust`, ...) under Flask's
`app.logger` ("verifier"), whose level is `LOG_LEVEL` (`XINKA_LOG_LEVEL`, default INFO).
Under gunicorn the root logger takes that level and gunicorn's error-log handlers, so these
lines go where gunicorn's own go. No line carries a secret, a key, a tap URL's token or a
worker's personal data.
"""
import logging
import os

from flask import Flask, request

from . import config

log = logging.getLogger(__name__)


class VerifierFlask(Flask):
    def log_exception(self, exc_info):
        """An unhandled exception, with its traceback; the path without a tap token."""
        from .views.common import log_path
        self.logger.error("unhandled exception on %s %s", request.method,
                          log_path(request.path), exc_info=exc_info)


def create_app(test_config=None):
    app = VerifierFlask(__name__, instance_relative_config=True)
    config.load(app.config, test_config)
    if not app.config["DATABASE_URL"]:
        os.makedirs(app.instance_path, exist_ok=True)
        app.config["DATABASE_URL"] = "sqlite:///" + os.path.join(app.instance_path,
                                                                 "xinka.sqlite")
    app.config["MAX_CONTENT_LENGTH"] = max(app.config["CHECKIN_MAX_BYTES"],
                                           app.config["VERIFY_MAX_BYTES"], 16 * 1024 * 1024)
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    _setup_logging(app)

    from . import cli, limits
    from .extension import Xinka
    from .services.signals import Thresholds
    from .views import init_app as init_views
    Thresholds.of(app.config)                   # a wrong FRAUD_THRESHOLDS stops the start
    x = Xinka().init_app(app)
    init_views(app)
    limits.init_app(app)
    cli.init_app(app)
    if app.config["PROXY_FIX_X_FOR"]:
        from werkzeug.middleware.proxy_fix import ProxyFix
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=int(app.config["PROXY_FIX_X_FOR"]))
    app.logger.info("%s", startup_summary(app.config, x))
    return app


def _level(name):
    level = logging.getLevelName(str(name or "INFO").strip().upper())
    if not isinstance(level, int):
        raise ValueError(f"LOG_LEVEL {name!r} is not a logging level / 日志级别无效")
    return level


class RedactTapTokens(logging.Filter):
    """Access log lines (werkzeug's development server, gunicorn's access log when enabled)
    with the token of a tap URL cut out: /t/<b64> becomes /t/…"""

    def filter(self, record):
        try:
            text = record.getMessage()
        except Exception:      # noqa: BLE001 - a broken record is logging's own business
            return True
        if "/t/" in text:
            from .views.common import redact_taps
            record.msg, record.args = redact_taps(text), ()
        return True


def _setup_logging(app):
    """Levels and handlers; called by create_app (never at import)."""
    level = _level(app.config.get("LOG_LEVEL"))
    if "gunicorn" in os.environ.get("SERVER_SOFTWARE", ""):
        root = logging.getLogger()
        root.setLevel(level)
        if not root.handlers:
            for handler in logging.getLogger("gunicorn.error").handlers:
                root.addHandler(handler)
    app.logger.setLevel(level)          # Flask adds its stderr handler unless one is set up
    for name in ("werkzeug", "gunicorn.access"):
        target = logging.getLogger(name)
        if not any(isinstance(f, RedactTapTokens) for f in target.filters):
            target.addFilter(RedactTapTokens())


def _database(url):
    """The database kind and where it is, without user name or password."""
    from sqlalchemy.engine import make_url
    try:
        u = make_url(url)
    except Exception:          # noqa: BLE001 - never echo an unparsable URL: it may hold a password
        return "(unparsable DATABASE_URL)"
    kind = u.get_backend_name()
    if kind == "sqlite":
        return f"sqlite {u.database or ':memory:'}"
    where = u.host or "localhost"
    if u.port:
        where += f":{u.port}"
    return f"{kind} {where}/{u.database or ''}"


def startup_summary(cfg, x):
    """The one line an operator sees at start: what this process runs with (no secrets)."""
    from host import wire
    authority = (f"authority key kid {wire.kid(x.store.authority_key).hex()}"
                 if x.store.authority_key is not None else "NO authority key (AUTHORITY_KEY)")
    max_age = cfg["STATUS_MAX_AGE_S"] or "the list's ttl"
    from .limits import storage_summary
    rate = (f"{cfg['RATE_LIMIT_PER_MIN']}/min per client ({storage_summary(cfg)})"
            if cfg["RATE_LIMIT_PER_MIN"] else "off")
    signing = sorted((cfg.get("STATUS_SIGNING_KEYS") or {}).keys())
    keys = f"status signing keys for {', '.join(signing)}" if signing else \
        "no configured status signing keys"
    if cfg.get("STATUS_KEY_DIR"):
        keys += f", key dir {cfg['STATUS_KEY_DIR']}"
    snap = x.store.snapshot
    trust = (f"{len(snap.trust)} trusted agencies (trust list seq {snap.trust.seq})"
             if snap.trust is not None else "trust list not loaded yet (logged when it is)")
    return (f"verifier starting: database {_database(cfg['DATABASE_URL'])}; status base URL "
            f"{cfg['STATUS_BASE_URL']}; stale policy {cfg['STALE_POLICY']} (max age "
            f"{max_age}); rate limit {rate}; {authority}; {keys}; {trust}; time zone "
            f"{cfg['TIMEZONE']}; log level {logging.getLevelName(_level(cfg.get('LOG_LEVEL')))}"
            + ("; FIXED_NOW set (tests/replays only)" if cfg.get("FIXED_NOW") else ""))
