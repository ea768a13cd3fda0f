"""The issuance log: append-only, hash-chained, every line signed by the agency key.

One JSON object per line:
  {"seq": n, "prev": hex SHA-256 of the previous line's bytes ("00"*32 for the first),
   "record": {...}, "kid": hex kid of the signing key,
   "sig": hex r||s ES256 over the canonical JSON of {"seq", "prev", "record"}}
Removing, reordering or editing any line breaks the chain or a signature; verify() says where.
Appends hold an exclusive lock on the file so two tools on one desk cannot interleave.
"""
import fcntl
import hashlib
import json
import logging
import os

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (decode_dss_signature,
                                                             encode_dss_signature)

from host.wire import keys

from .errors import ProvisionError

log = logging.getLogger(__name__)

GENESIS = "00" * 32


class LogBroken(ProvisionError):
    reason, exit_code = "log_broken", 17
    zh = "发卡记录被改动或损坏：停止发卡并联系机构管理员"
    en = "the issuance log was altered or is damaged: stop issuing and call the agency " \
         "administrator"


def _canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _last_line(f):
    f.seek(0)
    last, n = None, 0
    for line in f:
        if line.strip():
            last, n = line.rstrip(b"\n"), n + 1
    return last, n


def append(path, key, record):
    """Append `record` (a JSON-able dict) signed by `key`; returns the line written."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a+b") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        last, n = _last_line(f)
        body = {"seq": n, "prev": hashlib.sha256(last).hexdigest() if last else GENESIS,
                "record": record}
        der = key.sign(_canonical(body), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        line = dict(body, kid=keys.kid(key).hex(),
                    sig=(r.to_bytes(32, "big") + s.to_bytes(32, "big")).hex())
        data = _canonical(line)
        f.write(data + b"\n")
        f.flush()
        os.fsync(f.fileno())
        log.debug("issuance log %s: line %d (%s) appended", path, n + 1,
                  record.get("event", "?") if isinstance(record, dict) else "?")
        return data


def verify(path, public_keys):
    """The records of a log whose chain and signatures hold; LogBroken otherwise.

    public_keys: the agency's keys (rotations); a line signed by another key is broken.
    """
    by_kid = {keys.kid(k).hex(): keys.public_key_of(k) for k in public_keys}
    prev, out = GENESIS, []
    with open(path, "rb") as f:
        for n, raw in enumerate(x.rstrip(b"\n") for x in f if x.strip()):
            try:
                line = json.loads(raw)
                body = {"seq": line["seq"], "prev": line["prev"], "record": line["record"]}
                sig = bytes.fromhex(line["sig"])
                key = by_kid[line["kid"]]
            except (ValueError, KeyError, TypeError) as err:
                raise LogBroken(f"line {n + 1} unreadable") from err
            if line["seq"] != n or line["prev"] != prev:
                raise LogBroken(f"chain broken at line {n + 1}")
            try:
                key.verify(encode_dss_signature(int.from_bytes(sig[:32], "big"),
                                                int.from_bytes(sig[32:], "big")),
                           _canonical(body), ec.ECDSA(hashes.SHA256()))
            except InvalidSignature as err:
                raise LogBroken(f"bad signature on line {n + 1}") from err
            prev = hashlib.sha256(raw).hexdigest()
            out.append(line["record"])
    return out
