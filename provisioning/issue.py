"""Issuing one badge: [enrol: the worker's ID number, checked here and then by the verifier,
which finds or makes the person's file in the bureau's registry and refuses a banned person;
before the badge is touched] -> identify (and look up the badge's live registrations) ->
keygen on the badge -> status index from the verifier -> credential signed by the agency key
-> install -> self-test verified here -> register -> lock -> activate.

A badge that was wiped and is issued again still has a live registration (registered, active,
suspended or lost) of its serial: the new badge is registered through the verifier's re-issue,
which revokes that old registration in the same transaction (docs/protocol.md: re-provisioning
makes a new key and a new status index and revokes the old one at the same moment). Older live
registrations of the same serial, if any, are revoked right after.

All checks that need no badge (passphrase, trust list, the agency key's validity) run first, in
`Issuer.prepare`. Once a status index is reserved, any failure rolls back: a registration is
revoked, the index is released (retired if a credential carrying it was sent to the badge),
the badge is wiped if it still answers, and the log records the abort. A registration whose
answer was lost is found by the release (the verifier answers "index_registered" with the
badge) and revoked. The badge is locked after the verifier has the registration and read
back; only then is the registration activated, so a badge is active in the verifier only
once it is locked.
"""
import hashlib
import json
import logging
import os
import time
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import serialization

from host import idnumber, wire
from host.localtime import local_date
from host.wire import keys
from host.wire.errors import WireError

from . import agency_key, issuance_log
from .errors import (AgencyKeyExpired, AgencyKeyUntrusted, BadgeLocked, ConfigError,
                     IdNumberRejected, LinkLost, ProvisionError, SelfTestFailed, VerifierError)
from .registry import Registry

log = logging.getLogger(__name__)

YEAR = 365 * 86400
SELFTEST_TERMINAL = "PROVISION"
# the log's names of the steps `say` announces
STEP_NAMES = {"allocate": "reservation", "sign": "credential"}


@dataclass
class Profile:
    """An agency desk's settings (a JSON file; relative paths are relative to it)."""

    agency_id: str
    key_file: str
    trust_list: str
    authority_key: str          # PEM public key of the authority (the configured anchor)
    verifier: str               # base URL of the verifier API
    ndef_host: str              # host in the badge's NDEF URL
    log_file: str
    api_key: str = ""
    validity_days: int = 730
    consent_scope: str = "all"  # what a consent tap shows: all, none or names (docs/technician.md)
    extra: dict = field(default_factory=dict)

    @classmethod
    def load(cls, path):
        try:
            with open(path, encoding="utf-8") as f:
                d = json.load(f)
        except (OSError, ValueError) as err:
            raise ConfigError(f"{path}: {err}", zh="读不了配置文件", en="cannot read the profile") \
                from err
        base = os.path.dirname(os.path.abspath(path))
        for k in ("key_file", "trust_list", "authority_key", "log_file"):
            if k in d and not os.path.isabs(d[k]):
                d[k] = os.path.join(base, d[k])
        d.setdefault("api_key", os.environ.get("PROVISION_API_KEY", ""))
        try:
            return cls(**d)
        except TypeError as err:
            raise ConfigError(str(err), zh="配置文件缺少字段", en="the profile lacks a field") \
                from err


@dataclass
class Result:
    serial: str
    kid: bytes
    status_idx: int
    worker_ref: str
    credential: bytes
    token: bytes
    registration: dict
    seconds: float
    link_bytes: int = 0
    elsewhere: list = field(default_factory=list)   # the person's live badges elsewhere
    scope: int = 0x3F                                # the consent scope written to the badge
    scope_from: str = "profile"                      # option | console | profile


class Issuer:
    """Everything needed to issue badges, checked before any badge is touched."""

    def __init__(self, profile, key, trust, registry, now=None):
        self.profile = profile
        self.key = key
        self.trust = trust
        self.registry = registry
        self.now = now or (lambda: int(time.time()))
        self.kid = keys.kid(key)
        with open(profile.authority_key, "rb") as f:
            self.anchor = keys.point(serialization.load_pem_public_key(f.read()))
        self.default_scope = self.parse_scope(profile.consent_scope, "consent_scope: ")

    @staticmethod
    def parse_scope(text, where=""):
        """The consent scope bits from 'all', 'none' or names; ConfigError naming the bad
        name (before any badge is touched)."""
        try:
            return wire.parse_scope(text)
        except ValueError as err:
            raise ConfigError(f"{where}{err}", zh="授权范围无效（可用 all、none 或 certificates、"
                              "health、insurance、agency、credit、attendance）",
                              en="invalid consent scope") from None

    @classmethod
    def prepare(cls, profile, passphrase, now=None, registry=None):
        """Unlock the agency key and check it against the trust list.

        BadPassphrase, AgencyKeyUntrusted, AgencyKeyExpired, ConfigError.
        """
        now_fn = now or (lambda: int(time.time()))
        key = agency_key.load(profile.key_file, passphrase)
        t = now_fn()
        try:
            with open(profile.authority_key, "rb") as f:
                authority = serialization.load_pem_public_key(f.read())
            with open(profile.trust_list, "rb") as f:
                trust = wire.TrustList.load(f.read(), authority, t)
        except (OSError, ValueError) as err:
            raise ConfigError(str(err), zh="读不了信任列表或根公钥",
                              en="cannot read the trust list or the authority key") from err
        except WireError as err:
            raise AgencyKeyUntrusted(f"trust list refused: {err}",
                                     zh="信任列表无效或已过期：请获取最新的信任列表",
                                     en="the trust list is invalid or expired: get the current "
                                        "one") from err
        entry = trust.agency_key(keys.kid(key))
        if entry is None or entry[0].id != profile.agency_id:
            raise AgencyKeyUntrusted(f"kid {keys.kid(key).hex()}, agency {profile.agency_id}")
        try:
            entry[0].check_time(t)
        except WireError as err:
            raise AgencyKeyExpired(f"{profile.agency_id}: valid "
                                   f"{_day(entry[0].nbf)} .. {_day(entry[0].exp)}") from err
        registry = registry or Registry(profile.verifier, profile.agency_id, profile.api_key)
        log.info("issuer ready: agency %s, key kid %s, trust list seq %d, verifier %s",
                 profile.agency_id, keys.kid(key).hex(), trust.seq, profile.verifier)
        return cls(profile, key, trust, registry, now_fn)

    def log(self, record):
        issuance_log.append(self.profile.log_file, self.key, record)

    def check_id_number(self, id_number, where=""):
        """The ID number in its normal form; IdNumberRejected naming the rule it breaks (and
        `where` it came from, e.g. a line of a batch's list)."""
        try:
            return idnumber.check(id_number, local_date(self.now()))
        except idnumber.IdNumberInvalid as err:
            raise IdNumberRejected(err.part, f"{where}{err.part}") from None

    def choose_scope(self, worker_ref, scope=None):
        """(bits, where from) of the consent scope the badge gets: the option when given, else
        what the agency console set for the worker's next badge, else the profile's
        consent_scope. Asked before the badge is touched."""
        if scope is not None:
            return scope, "option"
        console = self.registry.issue_scope(worker_ref)
        if console is not None:
            return console, "console"
        return self.default_scope, "profile"

    def issue(self, device, worker_ref, say=lambda step: None, id_number=None, scope=None):
        """Issue one badge on `device`; returns Result. ProvisionError on any failure.
        id_number: the worker's resident ID number; checked (IdNumberRejected) and enrolled
        (PersonBanned) before the badge is touched. scope: the consent scope bits for this
        badge (None: the agency console's choice for the worker, else the profile's
        consent_scope: choose_scope)."""
        t0 = time.monotonic()
        where = {"step": None, "badge": "?"}

        def step(name, detail=""):
            where["step"] = STEP_NAMES.get(name, name)
            log.info("issuance step %s: badge %s%s", where["step"], where["badge"], detail)
            say(name)

        try:
            elsewhere = []
            if id_number is not None:
                number = self.check_id_number(id_number)
                step("enrol")
                elsewhere = self.registry.enrol(worker_ref, number)["elsewhere"]
            step("identify")
            info = device.identify()
            where["badge"] = info.serial
            if info.state == "locked":
                raise BadgeLocked(f"badge {info.serial}")
            scope, scope_from = self.choose_scope(worker_ref, scope)
            previous = [b["id"] for b in self.registry.live_badges(info.serial)]
            step("keygen", f", firmware {info.firmware}, {len(previous)} live registrations")
            pub_point = device.keygen(os.urandom(32))
            pub = keys.public_key_from_point(pub_point)
            kid = keys.kid(pub)
            step("allocate", f", key kid {kid.hex()}")
            idx, uri = self.registry.allocate(kid, info.serial)
            stage = {"sent": False, "badge_id": None, "previous": previous, "scope": scope}
            try:
                res = self._finish(device, info, pub, kid, idx, uri, worker_ref, stage, step,
                                   t0)
                res.elsewhere, res.scope, res.scope_from = elsewhere, scope, scope_from
                return res
            except Exception as err:  # any failure, ours or a bug: roll back, then re-raise
                self._rollback(device, info, kid, idx, worker_ref, stage, err)
                raise
        except ProvisionError as err:
            log.error("issuance failed at step %s: badge %s: %s (%s)", where["step"],
                      where["badge"], err.reason, err.detail or err.en)
            raise
        except Exception:
            log.exception("issuance failed at step %s: badge %s: internal error", where["step"],
                          where["badge"])
            raise

    def _finish(self, device, info, pub, kid, idx, uri, worker_ref, stage, say, t0):
        now = self.now()
        agency = self.trust.agency(self.profile.agency_id)
        exp = min(now + self.profile.validity_days * 86400, agency.exp)
        say("sign", f", status index {idx}, valid until {_day(exp)}")
        cred = wire.issue(self.key, self.profile.agency_id, worker_ref, pub,
                          wire.ueid_from_mac(info.chip), idx, uri, now, now, exp)
        say("install")
        stage["sent"] = True
        device.install(cred, self.anchor)
        device.configure(self.profile.ndef_host, stage["scope"])
        say("selftest")
        nonce = os.urandom(16)
        token = device.selftest(wire.encode_challenge(SELFTEST_TERMINAL, now, nonce))
        try:
            tap = wire.verify_tap(token, cred, self.trust, now, purposes="checkin")
        except WireError as err:
            raise SelfTestFailed(str(err)) from err
        if tap.nonce != nonce or tap.badge_kid != kid or tap.terminal_id != SELFTEST_TERMINAL:
            raise SelfTestFailed("token not bound to this challenge")
        say("register", f", replacing registration {stage['previous'][-1]}"
            if stage["previous"] else "")
        replaces, older = (stage["previous"][-1], stage["previous"][:-1]) \
            if stage["previous"] else (None, [])
        reg = self.registry.register(cred, kid, info.serial, idx, worker_ref, replaces,
                                     "badge wiped and issued again / 徽章擦除后重新发卡")
        stage["badge_id"] = reg.get("id")
        for old in older:
            self.registry.revoke(old, f"superseded by badge {stage['badge_id']} / 已被新徽章取代")
        say("lock", f", registered as badge {stage['badge_id']}")
        device.lock()
        after = device.identify()
        if after.state != "locked" or after.kid != kid:
            raise SelfTestFailed(f"read-back: state {after.state}, kid {after.kid.hex()}",
                                 zh="锁定后回读不一致", en="read-back after lock does not match")
        say("activate")
        act = self.registry.activate(stage["badge_id"], "issued and locked / 发卡完成")
        reg = dict(reg, state=act.get("state", "active"))
        log.info("issued: badge %s, kid %s, status index %d, registration %s (%s) in %.2f s",
                 info.serial, kid.hex(), idx, stage["badge_id"], reg["state"],
                 time.monotonic() - t0)
        self.log({"event": "issued", "at": now, "serial": info.serial, "kid": kid.hex(),
                  "status_idx": idx, "worker_ref": worker_ref, "badge_id": stage["badge_id"],
                  "replaced": stage["previous"],
                  "credential_sha256": hashlib.sha256(cred).hexdigest()})
        return Result(info.serial, kid, idx, worker_ref, cred, token, reg,
                      time.monotonic() - t0)

    def _rollback(self, device, info, kid, idx, worker_ref, stage, err):
        reason = getattr(err, "reason", "internal_error")
        notes = []
        if stage["badge_id"] is not None:
            # registered: revoking keeps the index (revoked) and makes the credential useless
            try:
                self.registry.revoke(stage["badge_id"], f"issuance aborted: {reason}")
                notes.append("registration revoked")
                if stage["previous"]:
                    notes.append("previous registration stays revoked")
            except ProvisionError as e2:
                notes.append(f"revoke failed: {e2.reason}")
        else:
            try:
                self.registry.release(idx, stage["sent"], f"issuance aborted: {reason}")
                notes.append("index retired" if stage["sent"] else "index released")
            except VerifierError as e2:
                notes.append(self._revoke_lost_registration(e2, kid, reason))
        if not isinstance(err, LinkLost):
            try:
                device.wipe()
                notes.append("badge wiped")
            except ProvisionError as e2:
                notes.append(f"wipe failed: {e2.reason}")
        for note in notes:
            log.warning("rollback: badge %s, status index %d: %s", info.serial, idx, note)
        self.log({"event": "aborted", "at": self.now(), "serial": info.serial, "kid": kid.hex(),
                  "status_idx": idx, "worker_ref": worker_ref, "reason": reason,
                  "rollback": notes})
        err.rollback = notes


    def _revoke_lost_registration(self, err, kid, reason):
        """The release was refused: if because our badge was registered after all (the
        answer to the registration was lost), revoke that registration."""
        info = getattr(err, "info", {})
        if getattr(err, "server_reason", None) != "index_registered" or \
                info.get("kid") != kid.hex() or info.get("badge_id") is None:
            return f"release failed: {err.reason}"
        try:
            self.registry.revoke(info["badge_id"], f"issuance aborted: {reason}")
        except ProvisionError as e2:
            return f"revoke failed: {e2.reason}"
        return "registration revoked"


def _day(t):
    return time.strftime("%Y-%m-%d", time.gmtime(t))
