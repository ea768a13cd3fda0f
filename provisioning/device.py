"""A badge connected in provisioning mode: one method per command of firmware/badge/provision.py.

Bodies are deterministic CBOR maps (host.wire.cbor); the badge answers {"ok": true, ...} or
{"ok": false, "err": code, "msg": text}, which becomes BadgeLocked for "locked" and
BadgeRefused otherwise.
"""
import logging
from dataclasses import dataclass

from host.wire import cbor
from host.wire.errors import WireError

from .errors import BadgeLocked, BadgeRefused, LinkCorrupt
from .link import Link, open_port

log = logging.getLogger(__name__)

KEYGEN_TIMEOUT = 30.0   # a pool refill on an ESP32-C3 takes ~50 ms per nonce


@dataclass
class BadgeInfo:
    chip: bytes
    firmware: str
    state: str
    kid: bytes
    counter: int
    pool: int
    host: str
    scope: int = 0x3F           # the consent scope bits (firmware before them: all)

    @property
    def serial(self):
        return self.chip.hex().upper()


class Device:
    """Commands to one badge over a Link. `port_name` is for messages only."""

    def __init__(self, link, port_name=""):
        self.link = link
        self.port_name = port_name

    @classmethod
    def open(cls, port, baud=115200, tap=None, timeout=2.0):
        return cls(Link(open_port(port, baud), timeout=timeout, tap=tap), port)

    def call(self, op, timeout=None, **args):
        # the arguments (entropy, the credential) and the answer (keys) are never logged
        log.debug("badge %s: %s", self.port_name or "-", op)
        answer = self.link.request(cbor.encode({"op": op, **args}), timeout)
        try:
            res = cbor.decode(answer, 4096)
        except WireError as err:
            raise LinkCorrupt(f"answer to {op} is not CBOR") from err
        if type(res) is not dict or "ok" not in res:
            raise LinkCorrupt(f"answer to {op} is not a result map")
        if res["ok"] is not True:
            code, msg = res.get("err", "?"), res.get("msg", "")
            log.info("badge %s refused %s: %s", self.port_name or "-", op, code)
            if code == "locked":
                raise BadgeLocked(msg)
            raise BadgeRefused(code, msg)
        return res

    def identify(self):
        r = self.call("identify")
        return BadgeInfo(r["chip"], r["fw"], r["state"], r["kid"], r["counter"], r["pool"],
                         r["host"], r.get("scope", 0x3F))

    def keygen(self, entropy, pool=16):
        """Make a key on the badge; returns the 65-byte public point."""
        return self.call("keygen", timeout=KEYGEN_TIMEOUT, entropy=entropy, pool=pool)["pub"]

    def install(self, credential, anchor):
        return self.call("install", cred=credential, anchor=anchor)

    def configure(self, host, scope=None):
        """The NDEF URL's host and, when given, the consent scope bits."""
        return self.call("config", host=host, **({} if scope is None else {"scope": scope}))

    def selftest(self, challenge):
        return self.call("selftest", timeout=KEYGEN_TIMEOUT, challenge=challenge)["token"]

    def lock(self):
        return self.call("lock")["state"]

    def wipe(self):
        return self.call("wipe")["state"]

    def close(self):
        self.link.close()
