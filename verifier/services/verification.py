"""Offline verification of a tap: the token and credential (host.wire), then the status list
held in memory, then the stale-list policy. No network and no database here; the replay
bookkeeping is in `ledger`."""
from dataclasses import dataclass

from host import wire

STATUS_NAMES = {wire.VALID: "valid", wire.SUSPENDED: "suspended", wire.REVOKED: "revoked"}


@dataclass
class Verdict:
    valid: bool
    reason: str | None = None
    purpose: str | None = None
    badge: dict | None = None
    agency: str | None = None
    worker_ref: str | None = None
    status: str | None = None
    list_age_s: int | None = None
    counter: int | None = None
    stale: bool = False

    def to_json(self):
        d = dict(self.__dict__)                   # asdict() without its deep copy (the hot path)
        if d["badge"] is not None:
            d["badge"] = dict(d["badge"])
        if d["counter"] is not None and d["counter"] >= 2 ** 53:
            d["counter"] = str(d["counter"])      # JSON numbers lose precision past 2^53
        return d


@dataclass
class Policy:
    stale: str = "warn"         # warn | refuse
    max_age_s: int = 0          # 0: the list's own ttl


def refuse(reason, **kw):
    return Verdict(valid=False, reason=reason, **kw)


def check(snapshot, token, credential, now, policy, purposes=None, cache=None):
    """(Verdict, Tap or None). WireErrors become verdicts with their reason."""
    if snapshot.trust is None:
        return refuse("untrusted_issuer"), None
    try:
        tap = wire.verify_tap(token, credential, snapshot.trust, now, purposes, cache)
    except wire.WireError as err:
        return refuse(err.reason), None
    cred = tap.credential
    v = Verdict(valid=True, purpose=tap.purpose,
                badge={"serial": cred.serial, "kid": tap.badge_kid.hex(),
                       "status_idx": cred.status_idx},
                agency=cred.iss, worker_ref=cred.sub, counter=tap.counter)
    lst = snapshot.lists.get(cred.status_uri)
    if lst is not None and lst.signer is not None and lst.signer.id != cred.iss:
        lst = None
    status = None
    if lst is not None:
        try:
            status = lst.statuses.get(cred.status_idx)
        except wire.Malformed:
            status = None
        v.list_age_s = now - lst.iat
        max_age = policy.max_age_s or lst.ttl
        v.stale = v.list_age_s > max_age or now > lst.exp
    if status is None:
        v.status, v.stale = "unknown", True
    else:
        v.status = STATUS_NAMES[status]
    if status == wire.REVOKED:
        v.valid, v.reason = False, "revoked"
    elif status == wire.SUSPENDED:
        v.valid, v.reason = False, "suspended"
    elif v.stale and policy.stale == "refuse":
        v.valid, v.reason = False, "stale_status"
    return v, tap
