"""What the HTML pages keep in a browser, on maintained libraries:

- Flask's signed session cookie (`session`, HttpOnly, SameSite=Lax, Secure with
  `COOKIE_SECURE` or on HTTPS), signed with `SECRET_KEY`. Every worker process must hold the
  same key: set it in the configuration, or leave it unset and the first process writes a
  random one to `<instance folder>/secret_key` (0600) that the others read.
- CSRF on Flask-WTF's `CSRFProtect`: every POST of the app carries the session's token in the
  form field `csrf`, except the JSON APIs (bearer keys, no cookies: `exempt_apis`). The token
  lives as long as the browser session (`WTF_CSRF_TIME_LIMIT = None`: a console session ends
  by its own expiry). The referrer check on HTTPS is off (`WTF_CSRF_SSL_STRICT = False`):
  every page sends `Referrer-Policy: no-referrer` (tap URLs carry the credential), so a
  browser's form POST has no Referer to compare; SameSite=Lax and the token do the work.
- Console staff on Flask-Login: the session cookie holds the id of a server-side session row
  (services/staff.py: 256 random bits, the table their SHA-256 and the expiry), so any process
  checks it, logout and expiry end it at once, and the lockout stays where it was.
"""
import logging
import os
import secrets

from flask import g
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager, UserMixin
from flask_wtf.csrf import CSRFProtect

from ..services import staff
from .common import cookie_secure, ext

log = logging.getLogger(__name__)

csrf = CSRFProtect()
login_manager = LoginManager()
SECRET_FILE = "secret_key"


class ConsoleUser(UserMixin):
    """A logged-in console user: the StaffUser row and the secret of the session row."""

    def __init__(self, user, secret):
        self.user, self.secret = user, secret

    def get_id(self):
        return self.secret


@login_manager.user_loader
def _load(secret):
    x = ext()
    with x.db.session() as s:
        user, _ = staff.current(s, secret, x.now())
        if user is None:
            return None
        s.expunge(user)
    g.staff, g.agency_id, g.actor = user, user.agency_id, f"staff:{user.username}"
    return ConsoleUser(user, secret)


def secret_key(app):
    """SECRET_KEY from the configuration, else the instance folder's: made once, 0600, by
    whichever process comes first (written aside, then linked in place, so no process reads
    a half-written file); the others read the same file."""
    key = app.config.get("SECRET_KEY")
    if key:
        return key
    os.makedirs(app.instance_path, exist_ok=True)
    path = os.path.join(app.instance_path, SECRET_FILE)
    if not os.path.exists(path):
        tmp = f"{path}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
        try:
            os.link(tmp, path)
            log.info("SECRET_KEY not configured: wrote a new one to %s", path)
        except FileExistsError:
            pass                                    # another process was first: use its key
        finally:
            os.unlink(tmp)
    with open(path, encoding="ascii") as f:
        key = f.read().strip()
    if len(key) < 32:
        raise ValueError(f"{path} does not hold a secret key (at least 32 characters) "
                         "/ 会话密钥文件无效")
    return key


class _Sessions(SecureCookieSessionInterface):
    """Flask's signed cookie, Secure as the pages' other cookies are (views/common.py)."""

    def get_cookie_secure(self, app):
        return cookie_secure()


def init_app(app):
    cfg = app.config
    app.secret_key = secret_key(app)
    app.session_interface = _Sessions()
    cfg.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
               WTF_CSRF_FIELD_NAME="csrf", WTF_CSRF_TIME_LIMIT=None,
               WTF_CSRF_SSL_STRICT=False)
    csrf.init_app(app)
    # no `current_user` in every template: it would load the user, and so touch the session
    # cookie, on every page (an employer's too); console templates use g.staff
    login_manager.init_app(app, add_context_processor=False)


def exempt_apis(blueprints):
    """The JSON APIs: authenticated by a bearer key, never by a cookie, so no CSRF."""
    for bp in blueprints:
        csrf.exempt(bp)
