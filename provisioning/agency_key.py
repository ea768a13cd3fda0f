"""The agency's credential-signing key, stored only encrypted with a passphrase.

PKCS#8 PEM with cryptography's BestAvailableEncryption (PBES2: a PBKDF2 key derivation and
AES-256-CBC), file mode 0600, written to a temporary file and renamed. A key file that is not
encrypted is refused, so a key can never be used from clear text by accident.
"""
import logging
import os

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from .errors import BadPassphrase, ConfigError

log = logging.getLogger(__name__)

MIN_PASSPHRASE = 8


def save(path, key, passphrase):
    """Write `key` to `path`, encrypted with `passphrase` (at least 8 characters)."""
    if not passphrase or len(passphrase) < MIN_PASSPHRASE:
        raise ConfigError(f"passphrase shorter than {MIN_PASSPHRASE}",
                          zh="口令太短：至少 8 个字符",
                          en="passphrase too short: 8 characters or more")
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.BestAvailableEncryption(passphrase.encode()))
    tmp = f"{path}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    log.info("agency key saved encrypted to %s", path)


def create(path, passphrase):
    """A new P-256 agency key, saved encrypted; returns the key."""
    key = ec.generate_private_key(ec.SECP256R1())
    save(path, key, passphrase)
    return key


def load(path, passphrase):
    """The agency key from `path`. BadPassphrase if the passphrase is wrong."""
    try:
        with open(path, "rb") as f:
            pem = f.read()
    except OSError as err:
        raise ConfigError(f"{path}: {err.strerror}", zh="找不到机构密钥文件",
                          en="agency key file not found") from err
    if b"ENCRYPTED PRIVATE KEY" not in pem:
        raise ConfigError(f"{path} is not an encrypted PKCS#8 key",
                          zh="机构密钥未加密保存，拒绝使用：请用 provision agency-key 重新加密保存",
                          en="the agency key is not stored encrypted; refusing to use it: "
                             "re-save it encrypted")
    try:
        key = serialization.load_pem_private_key(pem, (passphrase or "").encode())
    except (ValueError, TypeError) as err:
        log.warning("agency key %s: wrong passphrase (bad_passphrase)", path)
        raise BadPassphrase(str(path)) from err
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ConfigError("agency key is not P-256", zh="机构密钥不是 P-256 密钥",
                          en="the agency key is not a P-256 key")
    return key
