"""Fetch newer compact status lists from the verifier (docs/protocol.md "Compact status list",
GET /sl/<agency>/compact/manifest and /chunk/<k>?seq=), so a badge revoked since the last
update — by its agency, or by a bureau ban through the agency's list — is red offline.

For each agency of the trust list: the manifest is verified (signature by the agency's or the
authority's key from the trust list, the list's own uri) and must be newer than the cached one
(a replayed older or same manifest is refused: "not_newer"); every chunk must match the
manifest's size and SHA-256. Only then the files are replaced: chunks first, then the
manifest, each written to a temporary file and renamed, and the old delta removed. A refusal
or a broken connection changes nothing: the terminal keeps its last good list. A power cut
between the two renames leaves new chunks under the old manifest, which fail its hashes: that
list reads "status_corrupt" (never a wrong verdict) until the next update.
"""
import os

import httpc

from xinka import revocation


class ListUpdate:
    def __init__(self, board, status, cfg, log=None):
        v = cfg["verifier"]
        self.board = board
        self.status = status
        self.host = v["host"]
        self.port = v.get("port", 80)
        self.every_ms = cfg.get("lists_s", 600) * 1000
        self.log = log or (lambda *a: None)
        self._rbuf = board.buffer("sync_rx", 16384)
        self.next_ms = board.ticks_ms()

    def due(self):
        return self.board.ticks_ms() - self.next_ms >= 0

    def _get(self, path):
        status, _, data = httpc.request(self.board.connect, "GET", self.host, self.port, path,
                                        rbuf=self._rbuf)
        if status != 200:
            raise revocation.CompactError("http_%d" % status, path)
        return bytes(data)

    def _held_seq(self, agency_id):
        lst = self.status.lists.get(agency_id)
        if isinstance(lst, revocation.CompactList):
            return lst.manifest.seq
        return -1

    def update(self, agency_id):
        """'updated <seq>' or 'same' or the refusal reason; the old list stays unless
        'updated'."""
        base = "/sl/" + agency_id + "/compact/"
        try:
            raw = self._get(base + "manifest")
            m = revocation.Manifest(raw, self.status._verifier(agency_id))
            if not m.uri.endswith("/sl/" + agency_id):
                return "wrong_list"
            held = self._held_seq(agency_id)
            if m.seq == held:
                return "same"
            if m.seq < held:
                return "not_newer"
            chunks = []
            for k in range(len(m)):
                data = self._get(base + "chunk/%d?seq=%d" % (k, m.seq))
                m.check(k, data, len(data))
                chunks.append(data)
        except revocation.CompactError as err:
            return err.reason
        except httpc.HttpError as err:
            return err.reason
        except Exception:            # anything unexpected from the network: keep the old list
            return "error"
        d = self.status.root + "/" + agency_id
        try:
            os.mkdir(d)
        except OSError:
            pass
        with open(d + "/chunks.new", "wb") as f:
            for c in chunks:
                f.write(c)
        with open(d + "/manifest.new", "wb") as f:
            f.write(raw)
        try:
            os.remove(d + "/delta")
        except OSError:
            pass
        os.rename(d + "/chunks.new", d + "/chunks")
        os.rename(d + "/manifest.new", d + "/manifest")
        self.status.lists[agency_id] = self.status._load(agency_id)
        return "updated %d" % m.seq

    def run_once(self):
        """Update every agency's list; {agency: result}. Logs one LISTS line."""
        out = {}
        for a in self.status.trust.agencies:
            out[a.id] = self.update(a.id)
        self.next_ms = self.board.ticks_ms() + self.every_ms
        self.log("LISTS", " ".join("%s=%s" % (k, out[k].replace(" ", ":")) for k in out))
        return out
