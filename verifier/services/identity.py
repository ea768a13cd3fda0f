"""The worker's ID number at rest, and the person hash (docs/protocol.md "The person registry
and the ban list").

- `Sealer`: the agency's copy of the number, AES-256-GCM under a key from the operator's
  configuration (`ID_SEAL_KEYS`, never the database), bound to the agency and the worker's
  reference as associated data, so a sealed number copied to another row does not open.
  Sealed form: key id length (1 byte), key id (ASCII), 12-byte nonce, ciphertext and tag.
- `Hasher`: the person's identifier in the bureau's registry, HMAC-SHA-256 of the compact
  number under the bureau secret (`PERSON_HASH_KEYS`); versioned, so the bureau can rotate
  the secret: a lookup tries every configured version, a file found under an old one is
  re-keyed to the current one when the person is next enrolled.

Neither object keeps a number; neither logs one.
"""
from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .errors import Unavailable

__all__ = ["Sealer", "Hasher", "SealBroken"]


class SealBroken(ValueError):
    """A sealed number that does not open (another row's, another key's, or damaged)."""


def _keys(config: Mapping[str, Any], name: str, size: int | None) -> dict[str, bytes]:
    out = {}
    for key_id, value in (config.get(name) or {}).items():
        if not isinstance(key_id, str) or not 1 <= len(key_id) <= 16 or not key_id.isascii():
            raise ValueError(f"{name}: key ids are 1..16 ASCII characters")
        raw = bytes.fromhex(value) if isinstance(value, str) else bytes(value)
        if size is not None and len(raw) != size:
            raise ValueError(f"{name}[{key_id}]: a key is {size} bytes ({size * 2} hex digits)")
        if size is None and len(raw) < 32:
            raise ValueError(f"{name}[{key_id}]: a secret is at least 32 bytes")
        out[key_id] = raw
    return out


def _current(config: Mapping[str, Any], name: str, keys: dict[str, bytes]) -> str | None:
    key_id = config.get(name)
    if keys and key_id not in keys:
        raise ValueError(f"{name} must name one of the configured keys")
    return key_id if keys else None


class Sealer:
    def __init__(self, config: Mapping[str, Any]) -> None:
        self.keys = _keys(config, "ID_SEAL_KEYS", 32)
        self.current = _current(config, "ID_SEAL_KEY_ID", self.keys)

    def _need(self) -> str:
        if self.current is None:
            raise Unavailable("ID numbers cannot be kept: the operator has not configured "
                              "ID_SEAL_KEYS / 未配置身份证号加密密钥",
                              reason="identity_unconfigured")
        return self.current

    @staticmethod
    def _aad(agency_id: str, worker_ref: str) -> bytes:
        return f"xinka-id-number|{agency_id}|{worker_ref}".encode()

    def seal(self, number: str, agency_id: str, worker_ref: str) -> bytes:
        key_id = self._need()
        nonce = os.urandom(12)
        ct = AESGCM(self.keys[key_id]).encrypt(nonce, number.encode(),
                                               self._aad(agency_id, worker_ref))
        return bytes([len(key_id)]) + key_id.encode() + nonce + ct

    def open(self, sealed: bytes, agency_id: str, worker_ref: str) -> str:
        n = sealed[0] if sealed else 0
        key = self.keys.get(sealed[1:1 + n].decode("ascii", "replace"))
        if key is None:
            raise SealBroken("sealed under a key that is not configured")
        body = sealed[1 + n:]
        try:
            return AESGCM(key).decrypt(body[:12], body[12:],
                                       self._aad(agency_id, worker_ref)).decode()
        except (InvalidTag, ValueError) as err:
            raise SealBroken("the sealed number does not open for this worker") from err


class Hasher:
    def __init__(self, config: Mapping[str, Any]) -> None:
        self.keys = _keys(config, "PERSON_HASH_KEYS", None)
        self.current = _current(config, "PERSON_HASH_KEY_ID", self.keys)

    @property
    def configured(self) -> bool:
        return self.current is not None

    def _need(self) -> str:
        if self.current is None:
            raise Unavailable("the person registry is not available: the operator has not "
                              "configured PERSON_HASH_KEYS / 未配置人员登记密钥",
                              reason="identity_unconfigured")
        return self.current

    def digest(self, number: str, key_id: str | None = None) -> str:
        key_id = key_id or self._need()
        return hmac.new(self.keys[key_id], number.encode(), hashlib.sha256).hexdigest()

    def all_digests(self, number: str) -> list[tuple[str, str]]:
        """(key id, hash) under every configured secret, the current one first."""
        current = self._need()
        return [(current, self.digest(number, current))] + \
            [(k, self.digest(number, k)) for k in self.keys if k != current]
