"""Cached revocation status for the terminal's offline verdicts.

Interface the app uses: source.status(cred) -> (code, reason) with code 0 valid, 1 revoked,
2 suspended, None unknown (no list for the credential's status uri, or the cached list is
damaged: reason says which). CompactStatus reads the compact lists of firmware/lib/revocation.py
(docs/protocol.md "Compact status list") from flash, one directory per agency:
  <root>/<agency>/manifest   signed manifest (COSE_Sign1, ES256 by that agency's key or the
                             authority's, checked against the trust list)
  <root>/<agency>/chunks     the chunks one after another (manifest offsets)
  <root>/<agency>/delta      optional signed delta from the manifest's seq
A lookup reads one chunk into a buffer allocated once and checks its SHA-256 against the
manifest before using it; a chunk that fails is "status_corrupt" for that lookup only.
"""
import os

from xinka import revocation
from xinka import verify


def _exists(p):
    try:
        os.stat(p)
        return True
    except OSError:
        return False


def _read(p):
    with open(p, "rb") as f:
        return f.read()


class NoStatus:
    """No cached list at all: every status is unknown."""

    def status(self, cred):
        return None, "no_status_list"


class CompactStatus:
    def __init__(self, root, trust, authority=None):
        self.root = root
        self.trust = trust
        self.authority = authority          # (kid, (x, y)) or None
        self.lists = {}                     # agency id -> CompactList, or the refusal reason
        self.lookups = 0

    def _verifier(self, agency_id):
        keys = {}
        if self.authority is not None:
            keys[self.authority[0]] = self.authority[1]
        for a in self.trust.agencies:
            if a.id == agency_id:
                keys.update(a.keys)

        def check(kid, digest, sig):
            pub = keys.get(bytes(kid))
            return pub is not None and verify.verify(pub, digest, sig)
        return check

    def _load(self, agency_id):
        d = self.root + "/" + agency_id
        if not _exists(d + "/manifest"):
            return None
        try:
            check = self._verifier(agency_id)
            m = revocation.Manifest(_read(d + "/manifest"), check)
            if not m.uri.endswith("/sl/" + agency_id):
                raise revocation.CompactError("wrong_list", m.uri)
            delta = None
            if _exists(d + "/delta"):
                delta = revocation.Delta(_read(d + "/delta"), check)
            return revocation.CompactList(m, revocation.FileChunks(d + "/chunks"), delta)
        except revocation.CompactError as err:
            return err.reason
        except Exception:           # any other fault in a cached list: not usable
            return "error"

    def reload(self):
        """Load and verify every agency's list now (at boot: the signature check's big-integer
        temporaries then land on a fresh heap, not at tap time)."""
        self.lists = {}
        for a in self.trust.agencies:
            self.lists[a.id] = self._load(a.id)
        return self

    def status(self, cred):
        agency = cred.uri.rsplit("/", 1)[-1]
        if agency != cred.iss:
            return None, "foreign_status_list"
        lst = self.lists.get(agency, 0)
        if lst == 0:
            lst = self.lists[agency] = self._load(agency)
        if lst is None:
            return None, "no_status_list"
        if isinstance(lst, str):
            return None, "status_list_" + lst
        self.lookups += 1
        try:
            return lst.lookup(cred.idx), lst.manifest.seq
        except revocation.CompactError as err:
            if err.reason == "out_of_range":
                return None, "status_out_of_range"
            return None, "status_corrupt"
        except Exception:           # a damaged chunk must never stop a check-in
            return None, "status_corrupt"
