"""The authority's book: its key, the agencies it lists, and the trust lists it signs.

One folder holds everything (`--dir`): `authority.key.pem` (the signing key, encrypted PKCS#8
only: a key in clear is refused), `authority.pem` (its public key: the trust anchor every
verifier, terminal and desk is configured with), `authority.json` (the book: the authority id,
the last sequence number signed, each agency with its public keys and state) and
`trust-<seq>.cwt` (every list signed). Every write goes to a temporary file, is synced and
renamed: a failed command leaves the book as it was.

An agency key being rotated out carries `retire_at`: it stays in every list signed before that
time (badges it signed stay green through the overlap) and is left out of the first list signed
after it. A suspended agency is left out of every list until it is reinstated.
"""
from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from host import wire
from host.wire import keys
from host.wire.keys import PrivateKey, PublicKey

from .errors import (AgencyExists, AlreadyInitialised, BadPassphrase, ConfigError, KeyConflict,
                     KeyInClear, NotAPublicKey, NotInitialised, UnknownAgency)

__all__ = ["Book", "Signed", "MIN_PASSPHRASE", "read_public_key", "public_pem"]

log = logging.getLogger(__name__)

MIN_PASSPHRASE = 12
KEY_FILE, ANCHOR_FILE, BOOK_FILE = "authority.key.pem", "authority.pem", "authority.json"
FORMAT = 1
ACTIVE, SUSPENDED = "active", "suspended"


def _write(path: Path, data: bytes, mode: int = 0o644) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def public_pem(key: PublicKey | PrivateKey) -> str:
    return keys.public_key_of(key).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def read_public_key(path: str | Path) -> PublicKey:
    """A P-256 public key from a PEM file; a private key is refused (it must not reach the
    authority)."""
    try:
        pem = Path(path).read_bytes()
    except OSError as err:
        raise ConfigError(f"{path}: {err.strerror}", zh="读不到公钥文件",
                          en="cannot read the public key file") from err
    if b"PRIVATE KEY" in pem:
        raise NotAPublicKey(f"{path} holds a private key")
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError as err:
        raise NotAPublicKey(str(path)) from err
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise NotAPublicKey(f"{path} is not a P-256 key")
    return key


@dataclass(frozen=True)
class Signed:
    """A trust list just signed: its bytes, the file it was saved to, what it lists."""

    seq: int
    data: bytes
    path: Path
    trust: wire.TrustList
    dropped_keys: tuple[str, ...]     # kids retired since the previous list
    retiring: tuple[tuple[str, str, int], ...]   # (agency, kid, retire_at) still listed


class Book:
    """The authority's folder. `Book.open(dir)` reads it; mutating methods save at once."""

    def __init__(self, folder: Path, data: dict[str, Any]) -> None:
        self.folder = folder
        self.data = data

    # -- the folder ----------------------------------------------------------------------
    @classmethod
    def init(cls, folder: str | Path, authority_id: str, passphrase: str,
             now: int) -> tuple[Book, PrivateKey]:
        folder = Path(folder)
        if not authority_id.strip():
            raise ConfigError("empty authority id", zh="主管部门编号不能为空",
                              en="the authority id must not be empty")
        if not passphrase or len(passphrase) < MIN_PASSPHRASE:
            raise ConfigError(f"passphrase shorter than {MIN_PASSPHRASE}",
                              zh=f"口令太短：至少 {MIN_PASSPHRASE} 个字符",
                              en=f"passphrase too short: {MIN_PASSPHRASE} characters or more")
        folder.mkdir(parents=True, exist_ok=True)
        for name in (KEY_FILE, BOOK_FILE):
            if (folder / name).exists():
                raise AlreadyInitialised(str(folder / name))
        key = keys.generate()
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.BestAvailableEncryption(passphrase.encode()))
        book = cls(folder, {"format": FORMAT, "authority": authority_id, "seq": 0,
                            "kid": keys.kid(key).hex(), "created_at": now, "agencies": {}})
        _write(folder / KEY_FILE, pem, 0o600)
        _write(folder / ANCHOR_FILE, public_pem(key).encode())
        book.save()
        log.info("authority %s initialised in %s (kid %s)", authority_id, folder,
                 book.data["kid"])
        return book, key

    @classmethod
    def open(cls, folder: str | Path) -> Book:
        folder = Path(folder)
        try:
            data = json.loads((folder / BOOK_FILE).read_text(encoding="utf-8"))
        except FileNotFoundError as err:
            raise NotInitialised(str(folder / BOOK_FILE)) from err
        except (OSError, ValueError) as err:
            raise ConfigError(f"{folder / BOOK_FILE}: {err}", zh="主管部门状态文件无法读取",
                              en="the authority's book cannot be read") from err
        if data.get("format") != FORMAT:
            raise ConfigError(f"format {data.get('format')!r}", zh="主管部门状态文件格式不对",
                              en="the authority's book has an unknown format")
        return cls(folder, data)

    def save(self) -> None:
        _write(self.folder / BOOK_FILE,
               json.dumps(self.data, ensure_ascii=False, indent=1, sort_keys=True).encode())

    @property
    def anchor_path(self) -> Path:
        return self.folder / ANCHOR_FILE

    def anchor(self) -> PublicKey:
        return read_public_key(self.anchor_path)

    def signing_key(self, passphrase: str) -> PrivateKey:
        path = self.folder / KEY_FILE
        try:
            pem = path.read_bytes()
        except OSError as err:
            raise NotInitialised(f"{path}: {err.strerror}") from err
        if b"ENCRYPTED PRIVATE KEY" not in pem:
            raise KeyInClear(str(path))
        try:
            key = serialization.load_pem_private_key(pem, (passphrase or "").encode())
        except (ValueError, TypeError) as err:
            log.warning("authority key %s: wrong passphrase", path)
            raise BadPassphrase(str(path)) from err
        if not isinstance(key, ec.EllipticCurvePrivateKey) or \
                keys.kid(key).hex() != self.data["kid"]:
            raise KeyInClear(f"{path} is not the key this book was made with",
                             zh="密钥文件与主管部门状态不符",
                             en="the key file does not match the book")
        return key

    # -- agencies ------------------------------------------------------------------------
    @property
    def agencies(self) -> dict[str, dict[str, Any]]:
        return self.data["agencies"]

    def agency(self, agency_id: str) -> dict[str, Any]:
        a = self.agencies.get(agency_id)
        if a is None:
            raise UnknownAgency(agency_id)
        return a

    def _listed_kids(self) -> set[str]:
        return {k["kid"] for a in self.agencies.values() for k in a["keys"]}

    def _key_entry(self, key: PublicKey, now: int) -> dict[str, Any]:
        kid = keys.kid(key).hex()
        if kid in self._listed_kids():
            raise KeyConflict(f"kid {kid} is already listed")
        return {"kid": kid, "pem": public_pem(key), "added_at": now, "retire_at": None}

    def add_agency(self, agency_id: str, name: str, public_keys: list[PublicKey], now: int,
                   valid_s: int) -> dict[str, Any]:
        if not agency_id.strip() or not name.strip():
            raise ConfigError("empty id or name", zh="机构编号和名称不能为空",
                              en="the agency id and name must not be empty")
        if agency_id in self.agencies:
            raise AgencyExists(agency_id)
        if not public_keys:
            raise ConfigError("no --key", zh="至少需要一个公钥（--key）",
                              en="at least one public key is needed (--key)")
        entries: list[dict[str, Any]] = []
        for k in public_keys:
            e = self._key_entry(k, now)
            if any(x["kid"] == e["kid"] for x in entries):
                raise KeyConflict(f"kid {e['kid']} given twice")
            entries.append(e)
        self.agencies[agency_id] = {"name": name, "state": ACTIVE, "nbf": now - 60,
                                    "exp": now + valid_s, "keys": entries, "added_at": now}
        self.save()
        log.info("agency %s added with %d key(s)", agency_id, len(entries))
        return self.agencies[agency_id]

    def rotate_key(self, agency_id: str, new: PublicKey, old_kid: str | None, now: int,
                   overlap_s: int) -> tuple[str, str, int]:
        """List `new` beside the agency's key `old_kid` (or its only live key); the old key
        retires after `overlap_s`. Returns (new kid, old kid, retire_at)."""
        a = self.agency(agency_id)
        live = [k for k in a["keys"] if k["retire_at"] is None]
        if old_kid is None:
            if len(live) != 1:
                raise ConfigError(f"{agency_id} has {len(live)} live keys",
                                  zh="该机构有多个有效密钥：用 --old 指明要更换哪一个（kid）",
                                  en="the agency has several live keys: name the one to "
                                     "replace with --old (its kid)")
            old = live[0]
        else:
            matches = [k for k in live if k["kid"].startswith(old_kid.lower())]
            if len(matches) != 1:
                raise KeyConflict(f"{old_kid} matches {len(matches)} live keys of {agency_id}")
            old = matches[0]
        if overlap_s < 0:
            raise ConfigError("negative overlap", zh="重叠期不能为负",
                              en="the overlap must not be negative")
        entry = self._key_entry(new, now)
        old["retire_at"] = now + overlap_s
        a["keys"].append(entry)
        self.save()
        log.info("agency %s: key %s replaces %s, which retires at %d", agency_id,
                 entry["kid"], old["kid"], old["retire_at"])
        return entry["kid"], old["kid"], old["retire_at"]

    def set_state(self, agency_id: str, state: str, now: int, reason: str = "") -> None:
        a = self.agency(agency_id)
        a["state"] = state
        a["state_at"] = now
        a["state_reason"] = reason
        self.save()
        log.info("agency %s is %s (%s)", agency_id, state, reason or "no reason given")

    def remove_agency(self, agency_id: str) -> None:
        self.agency(agency_id)
        del self.agencies[agency_id]
        self.save()
        log.info("agency %s removed", agency_id)

    # -- signing -------------------------------------------------------------------------
    def publish(self, key: PrivateKey, now: int, valid_s: int,
                seq: int | None = None) -> Signed:
        """Sign the next trust list: every active agency with its keys not yet retired."""
        last = int(self.data["seq"])
        seq = last + 1 if seq is None else seq
        if seq <= last:
            raise ConfigError(f"seq {seq} is not above {last}",
                              zh=f"序号必须大于上一次的 {last}",
                              en=f"the sequence number must be above the last one, {last}")
        if valid_s <= 0:
            raise ConfigError("validity must be positive", zh="有效期必须为正",
                              en="the validity must be positive")
        listed, dropped, retiring = [], [], []
        for agency_id, a in sorted(self.agencies.items()):
            if a["state"] != ACTIVE:
                continue
            live = []
            for k in a["keys"]:
                if k["retire_at"] is not None and k["retire_at"] <= now:
                    if not k.get("dropped_at"):
                        dropped.append(k["kid"])
                    continue
                if k["retire_at"] is not None:
                    retiring.append((agency_id, k["kid"], k["retire_at"]))
                live.append(serialization.load_pem_public_key(k["pem"].encode()))
            if live:
                listed.append(wire.Agency(agency_id, a["name"], tuple(live), a["nbf"],
                                          a["exp"]))
        data = wire.build_trust_list(key, self.data["authority"], listed, seq=seq,
                                     iat=now - 60, exp=now + valid_s)
        trust = wire.TrustList.load(data, key.public_key(), now)   # what verifiers will do
        path = self.folder / f"trust-{seq}.cwt"
        _write(path, data)
        for a in self.agencies.values():
            for k in a["keys"]:
                if k["kid"] in dropped:
                    k["dropped_at"] = now
        self.data["seq"] = seq
        self.data["published_at"] = now
        self.save()
        log.info("trust list seq %d signed: %d agencies, %s", seq, len(trust), path)
        return Signed(seq, data, path, trust, tuple(dropped), tuple(retiring))


def now_s() -> int:
    return int(time.time())
