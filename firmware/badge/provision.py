"""Provisioning mode: the badge's side of the technician's tool, over serial_link frames.

Each request body is a CBOR map {"op": name, ...arguments}; each answer is
{"ok": true, ...results} or {"ok": false, "err": reason code, "msg": text}.

  op         arguments                           results
  identify   -                                   chip (6 bytes), fw, state, kid, counter, pool
  keygen     entropy (32..64 bytes), pool (n)    pub (65-byte point), kid
  install    cred, anchor (65-byte point)        kid, serial
  config     host (verifier host for the NDEF)   -
  selftest   challenge (check-in challenge CBOR) token (a checkin tap token)
  lock       -                                   state
  wipe       -                                   state

keygen runs an HMAC-DRBG seeded with the badge RNG, the host's entropy and a persistent seed
ratchet (state.BadgeState.seed), never the RNG alone; only the public key is returned. A locked
badge refuses keygen, install, config and lock ("locked") until it is wiped. Every write is a
write-temp + rename, so a cable pulled mid-command leaves the old state or the new one.
Reason codes: bad_request, unknown_op, locked, no_key, wrong_key, wrong_badge, not_ready,
entropy_too_short, no_memory, and store.StateError's (flash_full, flash_error, corrupt, pool_empty).
"""
import gc
import os

from xinka import cbor
from xinka import cose
from xinka import drbg
from xinka import ecdsa
from xinka import tokens
from identity import BLANK, SCOPE_ALL, Identity
from store import StateError

FIRMWARE_VERSION = "xinka-badge 0.1.0"
POOL_DEFAULT = 16
POOL_MAX = 32
_COSE_X = -2
_COSE_Y = -3


class Refused(Exception):
    def __init__(self, reason, msg=""):
        super().__init__(msg or reason)
        self.reason = reason
        self.msg = msg or reason


def _bytes(req, name, lo, hi):
    v = req.get(name)
    if not isinstance(v, bytes) or not lo <= len(v) <= hi:
        raise Refused("bad_request", "%s must be %d..%d bytes" % (name, lo, hi))
    return v


class Provisioner:
    """Handles request bodies for one badge. chip: 6-byte MAC; rng(n): the badge RNG."""

    def __init__(self, state, chip, rng=os.urandom):
        self.state = state
        self.ident = Identity(state)
        self.chip = bytes(chip)
        self.rng = rng

    def _drbg(self, host_entropy, label):
        # badge RNG + host entropy + a persistent ratchet that never repeats on this badge
        seed = self.state.seed(self.chip + host_entropy)
        return drbg.HmacDrbg(self.rng(32) + host_entropy, nonce=seed,
                             personalization=b"xinka/" + label + self.chip)

    def _unlocked(self):
        if self.ident.locked():
            raise Refused("locked", "badge is locked; wipe it first")

    def _key(self):
        key = self.ident.key()
        if key is None:
            raise Refused("no_key", "no key on the badge; run keygen")
        return key

    def handle(self, body):
        """Answer body (bytes) for a request body (bytes); never raises (but on power loss)."""
        gc.collect()  # a command allocates a few KiB (flash sectors, big ints): start compact
        try:
            req = cbor.loads(body)
            if not isinstance(req, dict) or not isinstance(req.get("op"), str):
                raise Refused("bad_request", "request must be a map with op")
            fn = getattr(self, "op_" + req["op"], None)
            if fn is None:
                raise Refused("unknown_op", "unknown op %s" % req["op"])
            res = fn(req)
            res["ok"] = True
        except Refused as e:
            res = {"ok": False, "err": e.reason, "msg": e.msg}
        except StateError as e:
            res = {"ok": False, "err": e.reason, "msg": str(e)}
        except cbor.CBORError as e:
            res = {"ok": False, "err": "bad_request", "msg": "CBOR: %s" % e}
        except (ValueError, TypeError, KeyError) as e:
            res = {"ok": False, "err": "bad_request", "msg": repr(e)}
        except MemoryError:
            gc.collect()  # every write is atomic: the command left the old state or the new
            res = {"ok": False, "err": "no_memory", "msg": "out of memory, retry"}
        return cbor.dumps(res)

    def op_identify(self, req):
        key = self.ident.key()
        return {"chip": self.chip, "fw": FIRMWARE_VERSION, "state": self.ident.status(),
                "kid": key.kid() if key else b"", "counter": self.state.counter,
                "pool": self.state.pool_available(), "host": self.ident.host(),
                "scope": self.ident.scope()}

    def op_keygen(self, req):
        self._unlocked()
        entropy = _bytes(req, "entropy", 32, 64)
        n = req.get("pool", POOL_DEFAULT)
        if not isinstance(n, int) or not 0 <= n <= POOL_MAX:
            raise Refused("bad_request", "pool must be 0..%d" % POOL_MAX)
        rng = self._drbg(entropy, b"keygen")
        key = ecdsa.Key(drbg.generate_key(rng))
        self.ident.set_key(key)
        if n:
            self.state.refill(key, rng.generate, n)
        return {"pub": key.public_bytes(), "kid": key.kid()}

    def op_install(self, req):
        self._unlocked()
        key = self._key()
        cred = _bytes(req, "cred", 16, 512)
        anchor = _bytes(req, "anchor", 65, 65)
        try:
            _, _, payload, _ = cose.parse_sign1(cred)
            claims = cbor.loads(payload)
            ck = claims[8][1]
            pub = b"\x04" + ck[_COSE_X] + ck[_COSE_Y]
            ueid = claims[256]
        except (cbor.CBORError, KeyError, TypeError, IndexError):
            raise Refused("bad_request", "credential is not well formed")
        if pub != key.public_bytes():
            raise Refused("wrong_key", "credential is for another key")
        if ueid != b"\x02" + self.chip:
            raise Refused("wrong_badge", "credential is for another badge")
        self.ident.set_credential(cred, anchor)
        return {"kid": key.kid()}

    def op_config(self, req):
        """{host, scope?}: the verifier host of the NDEF URL and the consent scope bits
        (0..0x3F, docs/protocol.md; absent: unchanged, all bits on a new badge)."""
        self._unlocked()
        host = req.get("host")
        if not isinstance(host, str) or not 1 <= len(host) <= 64 or "/" in host:
            raise Refused("bad_request", "host must be 1..64 characters, no /")
        scope = req.get("scope")
        if scope is not None and (not isinstance(scope, int) or isinstance(scope, bool) or
                                  not 0 <= scope <= SCOPE_ALL):
            raise Refused("bad_request", "scope must be 0..63")
        self.ident.set_host(host)
        if scope is not None:
            self.ident.set_scope(scope)
        return {"scope": self.ident.scope()}

    def op_selftest(self, req):
        key = self._key()
        ch = _bytes(req, "challenge", 1, 200)
        try:
            tid, t, nonce = tokens.parse_challenge(ch)
        except tokens.BadChallenge as e:
            raise Refused("bad_request", "challenge: %s" % e)
        ctr = self.state.next_counter()
        claims = tokens.checkin_claims(ctr, tid, t, nonce)
        try:
            token = tokens.tap_token(claims, key.kid(), lambda d: self.state.sign(key, d))
        except StateError as e:
            if e.reason != "pool_empty":
                raise
            self.state.refill(key, self._drbg(self.rng(32), b"refill").generate, 1)
            token = tokens.tap_token(claims, key.kid(), lambda d: self.state.sign(key, d))
        return {"token": token}

    def op_lock(self, req):
        self._unlocked()
        self._key()
        if self.ident.credential() is None or not self.ident.host():
            raise Refused("not_ready", "install a credential and set the host first")
        self.ident.lock()
        return {"state": self.ident.status()}

    def op_wipe(self, req):
        self.ident.wipe()
        return {"state": BLANK}


def serve(link, prov, idle_ms=1000, stop=None):
    """Answer requests until the link closes (serial_link.LinkClosed) or stop() is true."""
    while stop is None or not stop():
        try:
            link.serve_one(prov.handle, idle_ms)
        except MemoryError:
            gc.collect()  # a frame lost to it is retried by the host
