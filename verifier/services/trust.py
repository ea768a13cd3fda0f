"""The in-memory trust state: the current trust list and one status list per uri.

Readers take `store.snapshot` (one attribute read) and use it for a whole verification;
writers build a new `Snapshot` and assign it, so a newer list replaces an older one
atomically and lookups stay O(1) (dicts and the 2-bit array). The database holds every
imported or published list (with its seq); `refresh` brings a process up to date with what
other processes wrote.

Refreshed by change, not per request: every import bumps the one row of `list_version` in its
own transaction (the row lock orders concurrent imports on PostgreSQL, so versions increase in
commit order). `refresh` reads that row at most every `check_ms` milliseconds (monotonic
clock) and reloads lists only when the version differs from the one its snapshot was built
at; a list stored by any process is therefore in force in every process within `check_ms` plus
one reload (docs/verifier.md, "Status lists in several processes").
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from host import wire
from host.wire.keys import PublicKey
from host.wire.status import StatusListToken

from ..models import AgencyKey, ListVersion, StatusListBlob, TrustListBlob
from . import audit
from .errors import StaleList

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Snapshot:
    trust: wire.TrustList | None = None
    lists: dict[str, StatusListToken] = field(default_factory=dict)   # uri -> list


class TrustStore:
    def __init__(self, authority_key: PublicKey | None = None, check_ms: float = 500) -> None:
        self.authority_key = authority_key
        self.check_ms = check_ms
        self.snapshot = Snapshot()
        self.version: int | None = None        # list_version the snapshot was built at
        self._next_check = 0.0                 # time.monotonic() of the next version read
        self._lock = threading.Lock()
        self.cache = wire.CredentialCache(100_000)

    # -- reading ----------------------------------------------------------------------
    def status_for(self, cred: wire.Credential) -> StatusListToken | None:
        """The StatusListToken for a credential's status uri, or None when we hold none
        (or the list is not signed by the credential's own agency or the authority)."""
        lst = self.snapshot.lists.get(cred.status_uri)
        if lst is None or (lst.signer is not None and lst.signer.id != cred.iss):
            return None
        return lst

    def list_for_agency(self, agency_id: str) -> StatusListToken | None:
        for lst in self.snapshot.lists.values():
            if lst.signer is not None and lst.signer.id == agency_id:
                return lst
        return None

    # -- importing --------------------------------------------------------------------
    def import_trust_list(self, session: Session, data: bytes, now: int,
                          actor: str) -> wire.TrustList:
        if self.authority_key is None:
            raise wire.UnknownKey("no authority key configured (AUTHORITY_KEY)")
        trust = wire.TrustList.load(data, self.authority_key, now)
        current = session.scalar(select(func.max(TrustListBlob.seq))) or 0
        if trust.seq <= current:
            raise StaleList(f"trust list seq {trust.seq} is not newer than {current}")
        session.add(TrustListBlob(seq=trust.seq, iss=trust.iss, iat=trust.iat, exp=trust.exp,
                                  token=bytes(data), imported_at=now))
        for agency in trust.agencies:
            for key in agency.keys:
                k = wire.kid(key).hex()
                row = session.get(AgencyKey, k)
                if row is None:
                    session.add(AgencyKey(kid=k, agency_id=agency.id, trust_seq=trust.seq,
                                          cose_key=wire.encode(wire.cose_key(key))))
                else:
                    row.trust_seq = trust.seq
        bump_version(session)
        audit.append(session, actor, "trust_list.import", f"seq {trust.seq}", now,
                     iss=trust.iss, agencies=len(trust))
        session.flush()
        log.info("trust list imported: %s seq %d, %d agencies (by %s)", trust.iss, trust.seq,
                 len(trust), actor)
        return trust

    def import_status_list(self, session: Session, data: bytes, now: int, actor: str,
                           own: bool = False,
                           agency_id: str | None = None) -> StatusListToken:
        trust = self.snapshot.trust
        if trust is None:
            raise wire.UnknownKey("no trust list loaded: import one first")
        lst = StatusListToken.load(data, trust, now)
        if lst.signer is not None and not lst.uri.endswith("/sl/" + lst.signer.id):
            # an agency signs only its own list (uri .../sl/<agency id>); the authority any
            raise wire.UntrustedIssuer(f"{lst.signer.id} may not sign the list {lst.uri}")
        current = session.scalar(select(func.max(StatusListBlob.seq))
                                 .where(StatusListBlob.uri == lst.uri)) or 0
        if lst.seq <= current:
            raise StaleList(f"status list {lst.uri} seq {lst.seq} is not newer than {current}")
        signer = lst.signer.id if lst.signer is not None else None
        session.add(StatusListBlob(uri=lst.uri, agency_id=agency_id or signer, seq=lst.seq,
                                   iat=lst.iat, exp=lst.exp, ttl=lst.ttl, own=own,
                                   token=bytes(data), created_at=now))
        bump_version(session)
        if not own:
            audit.append(session, actor, "status_list.import", lst.uri, now,
                         agency_id=signer, seq=lst.seq)
            log.info("status list imported: %s seq %d, signed by %s (by %s)", lst.uri, lst.seq,
                     signer or "the authority", actor)
        session.flush()
        return lst

    # -- keeping up with the database -------------------------------------------------
    def due(self) -> bool:
        """True when `refresh` would read the list version now."""
        return time.monotonic() >= self._next_check

    def refresh(self, session: Session, now: int, force: bool = False) -> Snapshot:
        """The snapshot, brought up to date with the database when the list version changed
        (read at most every check_ms; `force`: read it now)."""
        t = time.monotonic()
        if not force and t < self._next_check:
            return self.snapshot
        with self._lock:
            if not force and t < self._next_check:       # another thread just checked
                return self.snapshot
            version = session.scalar(select(ListVersion.version).where(ListVersion.id == 1))
            self._next_check = t + self.check_ms / 1000
            if version is not None and version == self.version:
                return self.snapshot
            self._reload(session)
            self.version = version
        return self.snapshot

    def _reload(self, session: Session) -> None:
        """Load every list newer than the snapshot's (caller holds the lock)."""
        snap = self.snapshot
        trust = snap.trust
        row = session.scalars(select(TrustListBlob).order_by(TrustListBlob.seq.desc())
                              .limit(1)).first()
        if row is not None and self.authority_key is not None and \
                (trust is None or row.seq > trust.seq):
            # stored lists were verified at import; re-verify the signature, not the time
            trust = wire.TrustList.load(row.token, self.authority_key, row.iat)
        lists = dict(snap.lists)
        if trust is not None:
            latest = (select(StatusListBlob.uri, func.max(StatusListBlob.seq))
                      .group_by(StatusListBlob.uri))
            for uri, seq in session.execute(latest):
                held = lists.get(uri)
                if held is None or held.seq < seq or trust is not snap.trust:
                    tok = session.scalar(select(StatusListBlob.token).where(
                        StatusListBlob.uri == uri, StatusListBlob.seq == seq))
                    if tok is None:
                        continue
                    try:
                        lists[uri] = StatusListToken.load(tok, trust, None)
                        log.debug("status list %s seq %d loaded", uri, seq)
                    except wire.WireError as err:
                        if lists.pop(uri, None) is not None:     # its signer left the
                            log.warning("status list %s dropped: seq %d refused (%s)",
                                        uri, seq, err)          # trust list
        if trust is not snap.trust and trust is not None:
            log.info("trust list %s seq %d in force: %d trusted agencies", trust.iss,
                     trust.seq, len(trust))
        if trust is not snap.trust or lists != snap.lists:
            self.snapshot = Snapshot(trust, lists)


def bump_version(session: Session) -> None:
    """Tell every process its snapshot is out of date once this transaction commits."""
    session.execute(update(ListVersion).where(ListVersion.id == 1)
                    .values(version=ListVersion.version + 1))
