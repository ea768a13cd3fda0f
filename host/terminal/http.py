"""The little HTTP the terminal needs (stdlib urllib): GET bytes and POST JSON with a bearer
token and a timeout; every failure is an `Offline` carrying what went wrong."""
import json
import logging
import urllib.error
import urllib.request

from .errors import TerminalError

log = logging.getLogger(__name__)


class Offline(TerminalError):
    """The verifier could not be reached or answered with a server error."""
    reason = "offline"

    def __init__(self, message, status=None):
        self.status = status
        super().__init__(message)


class Client:
    def __init__(self, base_url, token=None, timeout=10.0):
        self.base = base_url.rstrip("/")
        self.token, self.timeout = token, timeout

    def _open(self, req):
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")     # never logged
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as r:
                log.debug("%s %s -> %d", req.get_method(), req.full_url, r.status)
                return r.status, r.read(), dict(r.headers)
        except urllib.error.HTTPError as err:
            body = err.read()
            log.debug("%s %s -> %d", req.get_method(), req.full_url, err.code)
            return err.code, body, dict(err.headers or {})
        except (urllib.error.URLError, OSError, ValueError) as err:
            raise Offline(f"verifier unreachable: {err} / 无法连接核验服务") from err

    def get(self, path):
        """(status, body bytes, headers)"""
        return self._open(urllib.request.Request(self.base + path))

    def post_json(self, path, obj):
        """(status, parsed JSON or None)"""
        req = urllib.request.Request(self.base + path, data=json.dumps(obj).encode(),
                                     headers={"Content-Type": "application/json"},
                                     method="POST")
        status, body, _ = self._open(req)
        try:
            return status, json.loads(body)
        except ValueError:
            return status, None
