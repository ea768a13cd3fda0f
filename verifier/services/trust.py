"""The in-memory trust state: the current trust list and one status list per uri.

Readers take `store.snapshot` (one attribute read) and use it for a whole verification;
writers build a new `Snapshot` and assign it, so a newer list replaces an older one
atomically and lookups stay O(1) (dicts and the 2-bit array). The database holds every
imported or published list (with its seq); `refresh` brings a process up to date with what
other processes wrote.
"""
import threading
from dataclasses import dataclass, field

from sqlalchemy import func, select

from host import wire
from host.wire.status import StatusListToken

from ..models import AgencyKey, StatusListBlob, TrustListBlob
from . import audit
from .errors import StaleList


@dataclass(frozen=True)
class Snapshot:
    trust: object = None                     # wire.TrustList or None
    lists: dict = field(default_factory=dict)   # uri -> StatusListToken


class TrustStore:
    def __init__(self, authority_key=None, refresh_s=5):
        self.authority_key = authority_key
        self.refresh_s = refresh_s
        self.snapshot = Snapshot()
        self._last_refresh = None
        self._lock = threading.Lock()
        self.cache = wire.CredentialCache(100_000)

    # -- reading ----------------------------------------------------------------------
    def status_for(self, cred):
        """The StatusListToken for a credential's status uri, or None when we hold none
        (or the list is not signed by the credential's own agency or the authority)."""
        lst = self.snapshot.lists.get(cred.status_uri)
        if lst is None or (lst.signer is not None and lst.signer.id != cred.iss):
            return None
        return lst

    def list_for_agency(self, agency_id):
        for lst in self.snapshot.lists.values():
            if lst.signer is not None and lst.signer.id == agency_id:
                return lst
        return None

    # -- importing --------------------------------------------------------------------
    def import_trust_list(self, session, data, now, actor):
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
        audit.append(session, actor, "trust_list.import", f"seq {trust.seq}", now,
                     iss=trust.iss, agencies=len(trust))
        session.flush()
        return trust

    def import_status_list(self, session, data, now, actor, own=False, agency_id=None):
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
        if not own:
            audit.append(session, actor, "status_list.import", lst.uri, now,
                         agency_id=signer, seq=lst.seq)
        session.flush()
        return lst

    # -- keeping up with the database -------------------------------------------------
    def refresh(self, session, now, force=False):
        """Load newer trust/status lists from the database (at most every refresh_s)."""
        if not force and self._last_refresh is not None and \
                now - self._last_refresh < self.refresh_s:
            return self.snapshot
        with self._lock:
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
                        try:
                            lists[uri] = StatusListToken.load(tok, trust, None)
                        except wire.WireError:
                            lists.pop(uri, None)     # its signer left the trust list
            if trust is not snap.trust or lists != snap.lists:
                self.snapshot = Snapshot(trust, lists)
            self._last_refresh = now
        return self.snapshot
