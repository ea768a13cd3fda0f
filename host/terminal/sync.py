"""Background upload of the journal to the verifier (POST /api/v1/checkins) and refresh of
the cached lists.

A batch is the oldest `batch` pending rows; the verifier answers per item. `accepted` and
`duplicate` mark the row synced (a batch resent after a crash or a lost answer comes back
`duplicate`: the same token bytes), a refusal marks it rejected with the reason. Network
errors, 5xx, 401/429 and unreadable answers leave the rows pending and back off:
1, 2, 4, ... up to `max_backoff_s` seconds, with jitter.
"""
import base64
import logging
import random
import threading
import time

from .http import Offline

log = logging.getLogger(__name__)


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sync_once(journal, client, now, batch=100):
    """Upload one batch; the number of rows marked. Offline when it could not be delivered."""
    rows = journal.pending(batch)
    if not rows:
        return 0
    items = [{"token": b64(tok), "credential": b64(cred),
              "receipt": {"terminal_id": tid, "seen_at": seen, "nonce": nonce}}
             for _, tok, cred, tid, seen, nonce in rows]
    status, body = client.post_json("/api/v1/checkins", {"items": items})
    if status != 200 or not isinstance(body, dict) or \
            len(body.get("results") or ()) != len(rows):
        reason = body.get("reason") if isinstance(body, dict) else None
        raise Offline(f"upload: HTTP {status} {reason or ''} / 上传失败", status)
    marks = []
    counts = {}
    for (rid, *_), r in zip(rows, body["results"], strict=True):
        marks.append((rid, r.get("result"), r.get("reason")))
        counts[r.get("result")] = counts.get(r.get("result"), 0) + 1
        if r.get("result") not in ("accepted", "duplicate"):
            log.warning("check-in %s rejected by the verifier: %s", rid, r.get("reason"))
        if r.get("clone_signal"):
            log.warning("check-in %s: the verifier recorded clone evidence", rid)
    journal.mark(marks, now)
    log.info("uploaded %d check-ins: %d accepted, %d duplicate, %d rejected", len(marks),
             counts.get("accepted", 0), counts.get("duplicate", 0),
             len(marks) - counts.get("accepted", 0) - counts.get("duplicate", 0))
    return len(marks)


class Syncer:
    """A daemon thread: upload while rows are pending, refresh lists every `lists_every_s`."""

    def __init__(self, journal, client, lists, agencies, clock, batch=100, idle_s=2.0,
                 lists_every_s=300.0, max_backoff_s=60.0):
        self.journal, self.client, self.lists, self.agencies = journal, client, lists, agencies
        self.clock, self.batch, self.idle_s = clock, batch, idle_s
        self.lists_every_s, self.max_backoff_s = lists_every_s, max_backoff_s
        self.last_sync = None           # terminal time of the last successful contact
        self.last_error = None
        self.uploaded = 0
        self._lists_at = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = None
        self._failures = 0

    def start(self):
        self._thread = threading.Thread(target=self.run, name="xinka-sync", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout=5.0):
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def kick(self):
        """Wake up now (a new check-in was journaled)."""
        self._wake.set()

    def step(self):
        """One round: lists when due, then batches until nothing is pending. Offline on
        failure."""
        mono = time.monotonic()
        if self.lists is not None and (self._lists_at is None or
                                       mono - self._lists_at >= self.lists_every_s):
            for note in self.lists.refresh(self.client, self.agencies):
                log.info("lists: %s", note)
            self._lists_at = mono
        while True:
            n = sync_once(self.journal, self.client, self.clock(), self.batch)
            self.uploaded += n
            self.last_sync = self.clock()
            self.last_error = None
            if n < self.batch:
                return

    def run(self):
        backoff = 1.0
        while not self._stop.is_set():
            try:
                self.step()
                if self._failures:
                    log.info("sync works again after %d failed attempts", self._failures)
                self._failures = 0
                backoff = 1.0
                wait = self.idle_s
            except Offline as err:
                # expected (network, verifier down): the reason, no traceback; once per
                # change of reason, then quietly while it lasts
                wait = backoff * (0.5 + random.random())
                (log.warning if str(err) != self.last_error else log.debug)(
                    "sync failed: %s; retrying in %.1f s", err, wait)
                self.last_error = str(err)
                self._failures += 1
                backoff = min(self.max_backoff_s, backoff * 2)
            except Exception as err:            # noqa: BLE001 - keep syncing, show why
                wait = backoff
                log.exception("sync failed unexpectedly; retrying in %.1f s", wait)
                self.last_error = f"{type(err).__name__}: {err}"
                self._failures += 1
                backoff = min(self.max_backoff_s, backoff * 2)
            self._wake.wait(wait)
            self._wake.clear()
