"""Loading configured keys: the authority public key (COSE_Key hex or PEM, text or a path)
and the private keys that sign this verifier's status lists."""
from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import (load_pem_private_key,
                                                          load_pem_public_key)

from host import wire
from host.wire.keys import AnyKey, PrivateKey, PublicKey

log = logging.getLogger(__name__)


def _text(value: str) -> str:
    if isinstance(value, str) and "\n" not in value and os.path.isfile(value):
        with open(value, encoding="ascii") as f:
            return f.read().strip()
    return value


def authority_key(value: str | AnyKey | None) -> PublicKey | None:
    """The authority public key from config (a key object, or COSE_Key hex or PEM as text or
    in a file), or None when unset."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        return wire.keys.public_key_of(value)
    value = _text(value)
    if "BEGIN" in value:
        key = load_pem_public_key(value.encode())
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise ValueError("AUTHORITY_KEY is not an EC (P-256) public key")
        return key
    key, _ = wire.decode_cose_key(wire.decode(bytes.fromhex(value.strip()), 1024))
    return key


def status_signing_key(config: Mapping[str, Any], agency_id: str) -> PrivateKey | None:
    """The private key that signs agency_id's status list, or None."""
    key = (config.get("STATUS_SIGNING_KEYS") or {}).get(agency_id)
    if key is not None:
        return key
    folder = config.get("STATUS_KEY_DIR")
    if folder:
        path = os.path.join(folder, f"{agency_id}.pem")
        if os.path.isfile(path):
            with open(path, "rb") as f:
                key = load_pem_private_key(f.read(), None)
            if not isinstance(key, ec.EllipticCurvePrivateKey):
                raise ValueError(f"{path} is not an EC (P-256) private key")
            log.debug("status signing key of %s read from %s", agency_id, path)
            return key
    return None


def receipt_signing_key(config: Mapping[str, Any]) -> PrivateKey | None:
    """The private key that signs visit receipts (RECEIPT_SIGNING_KEY: a key object, PEM
    text or a path to a PEM file), or None."""
    value = config.get("RECEIPT_SIGNING_KEY")
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        return value
    key = load_pem_private_key(_text(value).encode(), None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError("RECEIPT_SIGNING_KEY is not an EC (P-256) private key")
    return key
