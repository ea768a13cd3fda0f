"""The terminal's local checks of a check-in response (docs/protocol.md "Check-in challenge",
"Agency trust list", "Badge credential", "Tap token"), offline, under MicroPython.

  TrustList.load(blob, authority_pub, now)   signed trust list: ES256 by the configured
                                             authority key, then agency id -> issuer keys
  Checker(trust).check(challenge, payload, now) -> Checked (token, credential, claims)
                                             or raises Refused(reason)

Order of the checks: shape of the CBOR sequence, credential (kid -> agency key, signature,
issuer, agency and credential validity with 300 s leeway), token (kid = the credential's cnf
key, signature, purpose checkin, aud = this terminal, nonce and time = the challenge just
sent). A verified credential is cached by its SHA-256 (a badge shows the same one every month),
so a repeat tap costs one signature verification. Status (revoked/suspended) and the cool-down
are the caller's (app.py): they need state this module does not hold.
"""
from xinka.compat import const

import hashlib

from xinka import cbor
from xinka import cose
from xinka import verify

LEEWAY = const(300)
TOKEN_LIMIT = const(256)
CREDENTIAL_LIMIT = const(512)
_CACHE = const(32)
_PUR_CHECKIN = const(3)


class Refused(Exception):
    """A response the terminal does not accept; `reason` is a stable code (protocol.md)."""

    def __init__(self, reason, msg=""):
        super().__init__("%s: %s" % (reason, msg) if msg else reason)
        self.reason = reason


def _uint(x):
    return isinstance(x, int) and x is not True and x is not False and x >= 0


def _cose_key(k):
    # PublicKey = {1: 2, 2: kid, -1: 1, -2: x, -3: y}
    if not isinstance(k, dict) or len(k) != 5 or k.get(1) != 2 or k.get(-1) != 1:
        raise Refused("malformed", "bad COSE_Key")
    kid, x, y = k.get(2), k.get(-2), k.get(-3)
    if not (isinstance(kid, bytes) and len(kid) == 8 and isinstance(x, bytes)
            and isinstance(y, bytes)):
        raise Refused("malformed", "bad COSE_Key")
    try:
        pub = verify.point_xy(x, y)
    except ValueError:
        raise Refused("malformed", "key not on P-256")
    if hashlib.sha256(b"\x04" + x + y).digest()[:8] != kid:
        raise Refused("malformed", "kid is not the key's")
    return kid, pub


def _signed(blob, limit):
    # (protected, kid, payload, sig, claims dict) with the shape checked
    if len(blob) > limit:
        raise Refused("oversized", "%d bytes" % len(blob))
    try:
        prot, kid, payload, sig = cose.parse_sign1(blob)
        claims = cbor.loads(payload)
    except cbor.CBORError as err:
        msg = err.args[0] if err.args else ""
        raise Refused("wrong_alg" if "alg" in msg else "malformed", msg)
    if not isinstance(claims, dict):
        raise Refused("malformed", "claims are not a map")
    return prot, kid, payload, sig, claims


def _sig_ok(pub, prot, payload, sig):
    return verify.verify(pub, hashlib.sha256(cose.sig_structure(prot, payload)).digest(), sig)


def split(payload):
    """(token, credential) from the CBOR sequence token || credential."""
    if len(payload) > TOKEN_LIMIT + CREDENTIAL_LIMIT:
        raise Refused("oversized", "response of %d bytes" % len(payload))
    try:
        r = cbor._Reader(payload)
        r.item(0)
        n = r.pos
    except cbor.CBORError as err:
        raise Refused("malformed", err.args[0] if err.args else "bad CBOR")
    if n >= len(payload):
        raise Refused("malformed", "one item, expected token and credential")
    return payload[:n], payload[n:]


class Agency:
    def __init__(self, aid, keys, nbf, exp):
        self.id = aid
        self.keys = keys          # kid -> (x, y)
        self.nbf = nbf
        self.exp = exp


class TrustList:
    """The agencies of a verified trust list: by_kid[kid] = (Agency, (x, y))."""

    def __init__(self, seq, iat, exp, agencies):
        self.seq = seq
        self.iat = iat
        self.exp = exp
        self.agencies = agencies
        self.by_kid = {}
        for a in agencies:
            for kid, pub in a.keys.items():
                self.by_kid[kid] = (a, pub)

    @classmethod
    def load(cls, blob, authority_pub):
        """Verify `blob` with the authority key (x, y) and parse it. Refused on any fault."""
        prot, kid, payload, sig, c = _signed(blob, 65536)
        if not _sig_ok(authority_pub, prot, payload, sig):
            raise Refused("bad_signature", "trust list")
        seq, iat, exp, ags = c.get(-65546), c.get(6), c.get(4), c.get(-65545)
        if not (_uint(seq) and _uint(iat) and _uint(exp) and isinstance(ags, list)):
            raise Refused("malformed", "trust list claims")
        out = []
        for a in ags:
            if not isinstance(a, dict):
                raise Refused("malformed", "agency entry")
            aid, keys, nbf, aexp = a.get(1), a.get(3), a.get(4), a.get(5)
            if not (isinstance(aid, str) and isinstance(keys, list) and _uint(nbf)
                    and _uint(aexp)):
                raise Refused("malformed", "agency entry")
            kd = {}
            for k in keys:
                kid_, pub = _cose_key(k)
                kd[kid_] = pub
            out.append(Agency(aid, kd, nbf, aexp))
        return cls(seq, iat, exp, out)


class Credential:
    def __init__(self, iss, sub, nbf, exp, idx, uri, kid, pub, serial):
        self.iss = iss
        self.sub = sub
        self.nbf = nbf
        self.exp = exp
        self.idx = idx
        self.uri = uri
        self.kid = kid            # the badge's kid (cnf)
        self.pub = pub
        self.serial = serial


class Checked:
    """An accepted response: the raw token and credential, their parsed contents."""

    def __init__(self, token, cred_bytes, cred, ctr, terminal_time, nonce):
        self.token = token
        self.cred_bytes = cred_bytes
        self.cred = cred
        self.ctr = ctr
        self.terminal_time = terminal_time
        self.nonce = nonce


class Checker:
    def __init__(self, trust):
        self.trust = trust
        self._cache = {}
        self.verifications = 0

    def _window(self, nbf, exp, now, what):
        if now + LEEWAY < nbf:
            raise Refused("not_yet_valid", what)
        if now - LEEWAY > exp:
            raise Refused("expired", what)

    def credential(self, blob, now):
        h = hashlib.sha256(blob).digest()
        c = self._cache.get(h)
        if c is None:
            c = self._credential(blob)
            if len(self._cache) >= _CACHE:
                self._cache.pop(next(iter(self._cache)))
            self._cache[h] = c
        ag = self.trust.by_kid.get(c[0])
        if ag is None:
            raise Refused("unknown_key", "agency key %s" % c[0].hex())
        if ag[0].id != c[1].iss:
            raise Refused("untrusted_issuer", c[1].iss)
        self._window(ag[0].nbf, ag[0].exp, now, "agency " + ag[0].id)
        self._window(c[1].nbf, c[1].exp, now, "credential")
        return c[1]

    def _credential(self, blob):
        # (agency kid, Credential) once its signature is verified
        prot, kid, payload, sig, c = _signed(blob, CREDENTIAL_LIMIT)
        if prot != cose.PROTECTED_ES256:
            raise Refused("malformed", "credential protected header")
        ag = self.trust.by_kid.get(kid)
        if ag is None:
            raise Refused("unknown_key", "agency key %s" % kid.hex())
        self.verifications += 1
        if not _sig_ok(ag[1], prot, payload, sig):
            raise Refused("bad_signature", "credential")
        iss, sub, nbf, exp, cnf, ueid, st = (c.get(1), c.get(2), c.get(5), c.get(4), c.get(8),
                                             c.get(256), c.get(65535))
        if not (isinstance(iss, str) and isinstance(sub, str) and _uint(nbf) and _uint(exp)
                and isinstance(cnf, dict) and isinstance(ueid, bytes) and isinstance(st, dict)):
            raise Refused("malformed", "credential claims")
        sl = st.get("status_list")
        if not isinstance(sl, dict) or not _uint(sl.get("idx")) or \
                not isinstance(sl.get("uri"), str):
            raise Refused("malformed", "credential status claim")
        bkid, bpub = _cose_key(cnf.get(1))
        return kid, Credential(iss, sub, nbf, exp, sl["idx"], sl["uri"], bkid, bpub, ueid)

    def check(self, payload, terminal_id, terminal_time, nonce, now):
        """Checked for a response to the challenge (terminal_id, terminal_time, nonce)."""
        token, cred_bytes = split(payload)
        cred = self.credential(cred_bytes, now)
        prot, kid, tp, sig, c = _signed(token, TOKEN_LIMIT)
        if prot != cose.PROTECTED_ES256:
            raise Refused("malformed", "token protected header")
        if kid != cred.kid:
            raise Refused("unknown_key", "token kid is not the credential's badge key")
        self.verifications += 1
        if not _sig_ok(cred.pub, prot, tp, sig):
            raise Refused("bad_signature", "token")
        if c.get(-65538) != _PUR_CHECKIN:
            raise Refused("wrong_purpose", "purpose %r" % (c.get(-65538),))
        ctr = c.get(-65537)
        if len(c) != 5 or not _uint(ctr) or not ctr:
            raise Refused("malformed", "checkin claims")
        if c.get(3) != terminal_id:
            raise Refused("wrong_terminal", "for terminal %r" % (c.get(3),))
        if c.get(10) != nonce or c.get(6) != terminal_time:
            raise Refused("replayed", "not the answer to this challenge")
        return Checked(token, cred_bytes, cred, ctr, terminal_time, nonce)
