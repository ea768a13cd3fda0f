"""Loading configured keys: the authority public key (COSE_Key hex or PEM, text or a path)
and the private keys that sign this verifier's status lists."""
import os

from cryptography.hazmat.primitives.serialization import (load_pem_private_key,
                                                          load_pem_public_key)

from host import wire


def _text(value):
    if isinstance(value, str) and "\n" not in value and os.path.isfile(value):
        with open(value, encoding="ascii") as f:
            return f.read().strip()
    return value


def authority_key(value):
    """The authority public key from config, or None when unset."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        return wire.keys.public_key_of(value)
    value = _text(value)
    if "BEGIN" in value:
        return wire.keys.public_key_of(load_pem_public_key(value.encode()))
    key, _ = wire.decode_cose_key(wire.decode(bytes.fromhex(value.strip()), 1024))
    return key


def status_signing_key(config, agency_id):
    """The private key that signs agency_id's status list, or None."""
    key = (config.get("STATUS_SIGNING_KEYS") or {}).get(agency_id)
    if key is not None:
        return key
    folder = config.get("STATUS_KEY_DIR")
    if folder:
        path = os.path.join(folder, f"{agency_id}.pem")
        if os.path.isfile(path):
            with open(path, "rb") as f:
                return load_pem_private_key(f.read(), None)
    return None
