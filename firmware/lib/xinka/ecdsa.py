"""ECDSA over P-256 with SHA-256 digests (FIPS 186-5 §6.4.1, SEC 1 v2 §4.1.3), raw r || s.

The badge signs in two halves. Offline, while it idles or charges, NoncePool.add computes for a
fresh nonce k: r = x(k*G) mod n, k^-1 mod n and c = k^-1 * r * d mod n. Online, at tap time,
s = k^-1 * (e + r*d) = k^-1 * e + c mod n: one product and one reduction. An entry is consumed
(overwritten) before its signature is computed, so no API can hand a nonce out twice.

Entries serialise to 96 bytes (k^-1 || r || c, 32 bytes each, big-endian) for the flash copy.
"""
from xinka.compat import const

import hashlib

from xinka import p256

N = const(0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551)
ENTRY_BYTES = const(96)

# NoncePool.state()
EMPTY = const(0)
READY = const(1)
USED = const(2)


class Error(Exception):
    """Base of this module's errors; `reason` is a stable code."""
    reason = "ecdsa"


class PoolEmpty(Error):
    reason = "pool_empty"


class PoolFull(Error):
    reason = "pool_full"


class NonceReused(Error):
    reason = "nonce_reused"


class BadEntry(Error):
    reason = "bad_entry"


class Key:
    """A P-256 private key d in [1, N-1] and its public point (x, y)."""

    def __init__(self, d):
        if not 0 < d < N:
            raise ValueError("private scalar out of range")
        self.d = d
        self.x, self.y = p256.mul_base(d)

    def public_bytes(self):
        """Uncompressed SEC 1 point, 04 || x || y (65 bytes)."""
        return b"\x04" + self.x.to_bytes(32, "big") + self.y.to_bytes(32, "big")

    def kid(self):
        """First 8 bytes of SHA-256 over public_bytes() (docs/protocol.md)."""
        return hashlib.sha256(self.public_bytes()).digest()[:8]


def sign(key, digest, k, table=True):
    """Signature (r || s, 64 bytes) of a 32-byte digest with nonce k, all in one go.

    table=False computes k*G without the comb table (for comparison). ValueError on a bad
    digest or k, or when r or s comes out 0 (pick another k).
    """
    if len(digest) != 32:
        raise ValueError("digest must be 32 bytes")
    if not 0 < k < N:
        raise ValueError("nonce out of range")
    if table:
        x = p256.base_x(k)
    else:
        x = p256.mul_point(k, p256.GX, p256.GY)[0]
    r = x % N
    if not r:
        raise ValueError("r = 0")
    s = p256.inv(k, N) * (int.from_bytes(digest, "big") + r * key.d) % N
    if not s:
        raise ValueError("s = 0")
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


class NoncePool:
    """Precomputed one-time nonces for `key`, `size` slots.

    A slot is EMPTY (None), READY (tuple k^-1, r as 32 bytes, c) or USED (0). Signing turns
    READY into USED before anything else; a USED slot only becomes READY again with a new nonce
    (add, fill, load_entry). With a flash copy, record the consumption durably first:
    i = pool.peek(); <persist "slot i used">; sig = pool.sign_with(i, digest).
    """

    def __init__(self, key, size):
        if size < 1:
            raise ValueError("size must be >= 1")
        self.key = key
        self.size = size
        self._ent = [None] * size  # type: list
        self._head = 0  # next slot to sign with
        self._tail = 0  # next slot to fill

    def add(self, k):
        """Offline half for nonce k: returns the slot it went to. PoolFull when none is free."""
        if not 0 < k < N:
            raise ValueError("nonce out of range")
        ent = self._ent
        i = self._tail
        for _ in range(self.size):
            if not ent[i]:
                break
            i = (i + 1) % self.size
        else:
            raise PoolFull("no free slot")
        r = p256.base_x(k) % N
        if not r:
            raise ValueError("r = 0")
        kinv = p256.inv(k, N)
        # re-decoded from bytes: tight big-int allocations, ~300 bytes of heap per entry
        ent[i] = (int.from_bytes(kinv.to_bytes(32, "big"), "big"), r.to_bytes(32, "big"),
                  int.from_bytes((kinv * r % N * self.key.d % N).to_bytes(32, "big"), "big"))
        self._tail = (i + 1) % self.size
        return i

    def fill(self, rng, count):
        """Add up to `count` fresh nonces (fewer if the pool fills); returns how many.

        rng(nbytes) -> bytes, e.g. drbg.HmacDrbg.generate; k is uniform in [1, N-1].
        """
        n = min(count, self.size - self.available())
        for _ in range(n):
            self.add(p256.random_scalar(rng))
        return n

    def available(self):
        """Number of READY slots."""
        n = 0
        for e in self._ent:
            if e:
                n += 1
        return n

    def state(self, i):
        e = self._ent[i]
        if e is None:
            return EMPTY
        return READY if e else USED

    def peek(self):
        """Index of the slot sign() will use next (nothing consumed). PoolEmpty if none."""
        ent = self._ent
        i = self._head
        for _ in range(self.size):
            if ent[i]:
                self._head = i
                return i
            i = (i + 1) % self.size
        raise PoolEmpty("no precomputed nonce left")

    def sign(self, digest):
        """ONLINE half: signature of a 32-byte digest with the next READY slot."""
        if len(digest) != 32:
            raise ValueError("digest must be 32 bytes")
        ent = self._ent
        i = self._head
        e = ent[i]
        if not e:
            i = self.peek()
            e = ent[i]
        ent[i] = 0  # consumed before anything is computed
        self._head = (i + 1) % self.size
        s = (e[0] * int.from_bytes(digest, "big") + e[2]) % N
        if not s:
            raise ValueError("s = 0")
        return e[1] + s.to_bytes(32, "big")

    def sign_with(self, i, digest):
        """Sign with slot i. NonceReused if it was consumed, PoolEmpty if it was never filled."""
        if len(digest) != 32:
            raise ValueError("digest must be 32 bytes")
        e = self._ent[i]
        if not e:
            if e is None:
                raise PoolEmpty("slot %d holds no nonce" % i)
            raise NonceReused("slot %d already used" % i)
        self._ent[i] = 0
        s = (e[0] * int.from_bytes(digest, "big") + e[2]) % N
        if not s:
            raise ValueError("s = 0")
        return e[1] + s.to_bytes(32, "big")

    def discard(self, i):
        """Mark slot i USED without signing (e.g. replaying a consumption log at boot)."""
        if self._ent[i] is not None:
            self._ent[i] = 0

    def entry_bytes(self, i):
        """96-byte k^-1 || r || c of a READY slot, for the flash copy."""
        e = self._ent[i]
        if not e:
            if e is None:
                raise PoolEmpty("slot %d holds no nonce" % i)
            raise NonceReused("slot %d already used" % i)
        return e[0].to_bytes(32, "big") + e[1] + e[2].to_bytes(32, "big")

    def load_entry(self, i, b):
        """Make slot i READY from entry_bytes() output. BadEntry if malformed.

        The caller must never load an entry whose consumption it has recorded.
        """
        if len(b) != ENTRY_BYTES:
            raise BadEntry("entry must be 96 bytes")
        kinv = int.from_bytes(b[:32], "big")
        r = int.from_bytes(b[32:64], "big")
        c = int.from_bytes(b[64:], "big")
        if not (0 < kinv < N and 0 < r < N and c == kinv * r % N * self.key.d % N):
            raise BadEntry("entry out of range or not for this key")
        self._ent[i] = (kinv, bytes(b[32:64]), c)
