"""HMAC_DRBG with SHA-256 (NIST SP 800-90A Rev. 1 §10.1.2), no prediction resistance.

HMAC (FIPS 198-1 / RFC 2104) is built here on hashlib.sha256, which is all MicroPython has.
The badge seeds it with its own RNG, entropy sent by the provisioning host and persistent
state, never with os.urandom alone (docs/threat-model.md; os.urandom on an ESP32 is a seeded
generator while the radio is off).
"""
from xinka.compat import const

import hashlib

from xinka import p256

_BLOCK = const(64)
_MIN_ENTROPY = const(32)  # security_strength = 256 bits
_MAX_REQUEST = const(8192)  # bytes per generate (SP 800-90A allows up to 2**19 bits)
_RESEED_INTERVAL = const(1 << 24)  # SP 800-90A allows 2**48; small-int safe on a 32-bit MCU


class Error(Exception):
    """Base of this module's errors; `reason` is a stable code."""
    reason = "drbg"


class EntropyTooShort(Error):
    reason = "entropy_too_short"


class ReseedRequired(Error):
    reason = "reseed_required"


def hmac_sha256(key, msg):
    """HMAC-SHA-256(key, msg), 32 bytes."""
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = bytes(key) + bytes(_BLOCK - len(key))
    inner = hashlib.sha256(bytes([b ^ 0x36 for b in key]))
    inner.update(msg)
    outer = hashlib.sha256(bytes([b ^ 0x5c for b in key]))
    outer.update(inner.digest())
    return outer.digest()


class HmacDrbg:
    """SP 800-90A HMAC_DRBG (SHA-256). entropy: at least 32 bytes."""

    def __init__(self, entropy, nonce=b"", personalization=b""):
        if len(entropy) < _MIN_ENTROPY:
            raise EntropyTooShort("entropy must be >= 32 bytes")
        self._k = bytes(32)
        self._v = b"\x01" * 32
        self._update(bytes(entropy) + bytes(nonce) + bytes(personalization))
        self._count = 1

    def _update(self, data):
        # HMAC_DRBG_Update (§10.1.2.2)
        k = hmac_sha256(self._k, self._v + b"\x00" + data)
        v = hmac_sha256(k, self._v)
        if data:
            k = hmac_sha256(k, v + b"\x01" + data)
            v = hmac_sha256(k, v)
        self._k = k
        self._v = v

    def reseed(self, entropy, additional=b""):
        """HMAC_DRBG_Reseed (§10.1.2.4)."""
        if len(entropy) < _MIN_ENTROPY:
            raise EntropyTooShort("entropy must be >= 32 bytes")
        self._update(bytes(entropy) + bytes(additional))
        self._count = 1

    def generate(self, n, additional=b""):
        """n pseudorandom bytes (HMAC_DRBG_Generate, §10.1.2.5)."""
        if not 0 <= n <= _MAX_REQUEST:
            raise ValueError("request out of range")
        if self._count > _RESEED_INTERVAL:
            raise ReseedRequired("reseed the DRBG")
        additional = bytes(additional)
        if additional:
            self._update(additional)
        out = bytearray()
        k = self._k
        v = self._v
        while len(out) < n:
            v = hmac_sha256(k, v)
            out += v
        self._v = v
        self._update(additional)
        self._count += 1
        return bytes(out[:n])


def generate_key(drbg):
    """A private scalar uniform in [1, N-1] from drbg (rejection sampling, FIPS 186-5 A.2.2)."""
    return p256.random_scalar(drbg.generate)
