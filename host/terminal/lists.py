"""The terminal's cached lists, on disk and offline-first: the trust list (verified against the
configured authority key) and one compact status list per agency (manifest + chunk file + the
newest delta), refreshed from the verifier when it is reachable.

Files under <dir>/lists: trust.cose; <agency>/manifest.cose, <agency>/chunks.<seq>.bin,
<agency>/delta.cose. A new list is written beside the old one and takes over with an atomic
rename of the manifest, so a power cut leaves either list, never a mix.

Policy when the status cannot be read (no list, bad manifest signature, chunk hash mismatch,
list past exp): the status is "unknown"; what the check-in does with that is the caller's
policy (host/terminal/checks.py).
"""
import logging
import os
import pathlib

from host import wire
from host.wire import compact

from .http import Offline

MAX_DELTA_CHANGES = 20000       # beyond this, fetch the whole list again
log = logging.getLogger(__name__)


def _atomic_write(path, data):
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class Lists:
    def __init__(self, directory, authority_key, clock):
        self.dir = pathlib.Path(directory) / "lists"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.authority_key = authority_key
        self.clock = clock
        self.trust = None
        self._compact = {}          # agency id -> CompactList
        self.problems = {}          # agency id or "trust" -> message (shown on the console)
        self._corrupt = set()       # agencies whose files failed a check: fetch them whole
        self.load_trust()

    # -- trust list ----------------------------------------------------------------------
    def load_trust(self, data=None):
        """Verify and keep a trust list (given, or the cached file)."""
        path = self.dir / "trust.cose"
        if data is None:
            if not path.exists():
                self.problems["trust"] = "no trust list cached / 未缓存信任列表"
                return None
            data = path.read_bytes()
        try:
            trust = wire.TrustList.load(data, self.authority_key, self.clock())
        except wire.WireError as err:
            self.problems["trust"] = f"trust list refused ({err}) / 信任列表无效"
            log.warning("trust list refused: %s", err)
            return None
        if self.trust is None or trust.seq >= self.trust.seq:
            if self.trust is None or trust.seq > self.trust.seq or not path.exists():
                _atomic_write(path, bytes(data))
                log.info("trust list seq %d in force: %d agencies", trust.seq, len(trust))
            self.trust = trust
            self._compact.clear()
        self.problems.pop("trust", None)
        return trust

    # -- compact status lists ------------------------------------------------------------
    def _agency_dir(self, agency_id):
        d = self.dir / agency_id
        d.mkdir(exist_ok=True)
        return d

    def _verifier(self, agency_id):
        return compact.trust_verifier(self.trust, f"/sl/{agency_id}")

    def compact_list(self, agency_id):
        """The agency's verified CompactList from disk (manifest signature checked once per
        load), or None with the reason in self.problems."""
        if agency_id in self._compact:
            return self._compact[agency_id]
        if self.trust is None:
            return None
        d = self._agency_dir(agency_id)
        mpath = d / "manifest.cose"
        if not mpath.exists():
            self.problems[agency_id] = "no compact status list cached / 未缓存状态列表"
            return None
        try:
            m = compact.codec.Manifest(mpath.read_bytes(), self._verifier(agency_id))
            if not m.uri.endswith("/sl/" + agency_id):
                raise compact.CompactError("wrong_list", f"manifest is for {m.uri}")
            lst = compact.codec.CompactList(m, compact.codec.FileChunks(
                str(d / f"chunks.{m.seq}.bin")))
            self.problems.pop(agency_id, None)
            dpath = d / "delta.cose"
            if dpath.exists():
                try:
                    lst.apply(compact.codec.Delta(dpath.read_bytes(),
                                                  self._verifier(agency_id)))
                except compact.CompactError as err:
                    self.problems[agency_id] = f"delta ignored ({err})"
                    log.warning("compact list %s: delta ignored (%s)", agency_id, err)
            for k in range(len(m)):                 # a desk PC checks every chunk at load
                m.check(k, lst.buf, lst.source.read_into(m, k, lst.buf))
        except (compact.CompactError, OSError) as err:
            self._corrupt.add(agency_id)
            self.problems[agency_id] = (f"compact status list refused ({err}) / "
                                        "状态列表无效，状态未知")
            log.warning("compact list %s refused: %s; statuses unknown until it is fetched "
                        "again", agency_id, err)
            return None
        self._compact[agency_id] = lst
        return lst

    def status(self, cred, now):
        """(status name or None, list seq or None, age s or None, note)."""
        agency_id = cred.status_uri.rsplit("/sl/", 1)[-1]
        lst = self.compact_list(agency_id)
        if lst is None:
            return None, None, None, self.problems.get(agency_id, "no list")
        m = lst.manifest
        if m.uri != cred.status_uri:
            return None, None, None, f"credential names {cred.status_uri}, list is {m.uri}"
        age = now - (lst.delta.iat if lst.delta is not None else m.iat)
        if now > m.exp + wire.LEEWAY:
            return None, lst.seq, age, "status list past exp / 状态列表已过期"
        try:
            s = lst.lookup(cred.status_idx)
        except (compact.CompactError, OSError) as err:
            self._compact.pop(agency_id, None)
            self._corrupt.add(agency_id)
            self.problems[agency_id] = (f"compact status list corrupt ({err}); will refetch / "
                                        "状态列表损坏，将重新下载")
            log.warning("compact list %s corrupt: %s; will fetch it again", agency_id, err)
            return None, lst.seq, age, self.problems[agency_id]
        return compact.codec.NAMES[s], lst.seq, age, ""

    def refresh(self, client, agencies):
        """Fetch the trust list and each agency's compact list (a delta when possible);
        Offline when the verifier cannot be reached. Returns notes (one per list)."""
        notes = []
        status, body, _ = client.get("/api/v1/trust-list")
        if status == 200:
            self.load_trust(body)
        elif status >= 500:
            raise Offline(f"trust list: HTTP {status}", status)
        for a in agencies:
            try:
                notes.append(self._refresh_compact(client, a))
            except compact.CompactError as err:
                self.problems[a] = f"download refused ({err}) / 下载的状态列表无效"
                log.warning("compact list %s: download refused (%s)", a, err)
                notes.append(self.problems[a])
        return notes

    def _refresh_compact(self, client, agency_id):
        if self.trust is None:
            return "no trust list"
        d = self._agency_dir(agency_id)
        held = self.compact_list(agency_id)
        if held is not None and agency_id not in self._corrupt:
            status, body, _ = client.get(f"/sl/{agency_id}/compact/delta/{held.manifest.seq}")
            if status == 204:
                return f"{agency_id}: up to date (seq {held.seq})"
            if status == 200:
                delta = compact.codec.Delta(body, self._verifier(agency_id))
                if len(delta.keys) <= MAX_DELTA_CHANGES:
                    held.apply(delta)
                    _atomic_write(d / "delta.cose", body)
                    return f"{agency_id}: delta {delta.from_seq}->{delta.seq}"
            elif status >= 500:
                raise Offline(f"delta: HTTP {status}", status)
        status, body, _ = client.get(f"/sl/{agency_id}/compact/manifest")
        if status != 200:
            if status >= 500:
                raise Offline(f"manifest: HTTP {status}", status)
            return f"{agency_id}: no compact list on the verifier (HTTP {status})"
        m = compact.codec.Manifest(body, self._verifier(agency_id))
        if not m.uri.endswith("/sl/" + agency_id):
            raise compact.CompactError("wrong_list", f"manifest is for {m.uri}")
        buf = bytearray()
        for k in range(len(m)):
            st, chunk, _ = client.get(f"/sl/{agency_id}/compact/chunk/{k}?seq={m.seq}")
            if st != 200:
                raise Offline(f"chunk {k}: HTTP {st}", st)
            m.check(k, chunk, len(chunk))
            buf.extend(chunk)
        _atomic_write(d / f"chunks.{m.seq}.bin", bytes(buf))
        dpath = d / "delta.cose"
        if dpath.exists():
            dpath.unlink()
        _atomic_write(d / "manifest.cose", body)
        for old in d.glob("chunks.*.bin"):
            if old.name != f"chunks.{m.seq}.bin":
                old.unlink()
        self._compact.pop(agency_id, None)
        self._corrupt.discard(agency_id)
        self.problems.pop(agency_id, None)
        return f"{agency_id}: compact list seq {m.seq}, {len(m)} chunks, {m.total} bytes"
