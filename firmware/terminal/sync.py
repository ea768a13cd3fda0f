"""Upload journaled check-ins to the verifier's ingest API (docs/verifier.md
`POST /api/v1/checkins`), in batches, with retries and back-off, idempotently.

A batch is the oldest `batch` records not yet answered. The verifier answers per item
(accepted / duplicate / refused + reason) in one transaction; a 200 answer with one result per
item is the acknowledgement: the journal's watermark moves past the batch (journal.py) only
then. Anything else (no network, a broken connection, a 5xx, an answer that does not parse)
leaves the watermark where it was and the same batch is sent again later: the verifier keeps
one row per token, so a re-send after a lost answer comes back "duplicate", never twice.
Back-off: base * 2^failures seconds, capped, with up to 25 % jitter from the DRBG. Each answer
also sets the clock (Date header, or "now" in the body).
"""
import binascii
import json

import httpc


def b64url(b):
    s = bytearray(binascii.b2a_base64(b).rstrip(b"\n="))
    for i in range(len(s)):
        c = s[i]
        if c == 43:          # + -> -
            s[i] = 45
        elif c == 47:        # / -> _
            s[i] = 95
    return s


class Sync:
    def __init__(self, board, journal, clock, cfg, rng=None, log=None):
        v = cfg["verifier"]
        self.board = board
        self.journal = journal
        self.clock = clock
        self.host = v["host"]
        self.port = v.get("port", 80)
        self.token = v["token"]
        self.batch = cfg.get("batch", 20)
        self.base_s = cfg.get("backoff_s", 2)
        self.max_s = cfg.get("backoff_max_s", 300)
        self.rng = rng
        self.log = log or (lambda *a: None)
        self.failures = 0
        self._buf = board.buffer("sync", cfg.get("body_bytes", 16384))
        self._rbuf = board.buffer("sync_rx", 16384)
        self.next_ms = board.ticks_ms()
        self.last_ok = None           # terminal time of the last acknowledged batch
        self.last_error = None
        self.stats = {"batches": 0, "accepted": 0, "duplicate": 0, "refused": 0, "errors": 0,
                      "sent_items": 0}

    def due(self):
        return self.board.ticks_ms() - self.next_ms >= 0

    def _backoff(self, reason):
        self.failures += 1
        self.stats["errors"] += 1
        self.last_error = reason
        s = min(self.max_s, self.base_s << min(self.failures - 1, 16))
        ms = s * 1000
        if self.rng is not None:
            ms += int.from_bytes(self.rng(2), "big") * ms // 262144   # + 0..25 %
        self.next_ms = self.board.ticks_ms() + ms
        self.log("SYNC", "fail", reason, "retry_ms=%d" % ms)

    def _time(self, hdrs, body):
        t = body.get("now") if isinstance(body, dict) else None
        if not isinstance(t, int):
            t = httpc.parse_date(hdrs.get("date", ""))
        if t:
            step = self.clock.correct(t)
            if step:
                self.log("CLOCK", "step=%d" % step)

    def _body(self, recs):
        # {"items": [{token, credential, receipt: {terminal_id, seen_at, nonce}}]} written
        # into the buffer allocated at boot (a 12 KB allocation at sync time can fail on a
        # fragmented heap); returns (bytes used, records that fit)
        buf = self._buf
        n = 0
        fit = 0

        def put(b):
            nonlocal n
            m = n + len(b)
            if m > len(buf):
                raise IndexError
            buf[n:m] = b
            n = m
        try:
            put(b'{"items": [')
            for i, r in enumerate(recs):
                mark = n
                try:
                    if i:
                        put(b", ")
                    put(b'{"token": "')
                    put(b64url(r.token))
                    put(b'", "credential": "')
                    put(b64url(r.cred))
                    put(b'", "receipt": {"terminal_id": ')
                    put(json.dumps(r.terminal_id).encode())
                    put(b', "seen_at": %d, "nonce": "' % r.seen_at)
                    put(binascii.hexlify(r.nonce))
                    put(b'"}}')
                except IndexError:
                    n = mark
                    break
                fit += 1
            put(b"]}")
        except IndexError:
            raise ValueError("sync buffer too small for one item")
        return n, fit

    def run_once(self):
        """One batch (or, with nothing to send, a time check). Returns items acknowledged,
        or -1 on a failure (back-off set)."""
        recs = self.journal.batch(self.batch)
        if not recs:
            return self._ping()
        n, fit = self._body(recs)
        recs = recs[:fit]
        body = memoryview(self._buf)[:n]
        self.stats["sent_items"] += len(recs)
        try:
            status, hdrs, data = httpc.request(
                self.board.connect, "POST", self.host, self.port, "/api/v1/checkins", body,
                {"Authorization": "Bearer " + self.token, "Content-Type": "application/json"},
                rbuf=self._rbuf)
        except httpc.HttpError as err:
            self._backoff(err.reason)
            return -1
        try:
            # MicroPython's json.loads reads any buffer (extmod/modjson.c); the stub says str
            ans = json.loads(data)  # pyright: ignore[reportArgumentType]
        except ValueError:
            ans = None
        self._time(hdrs, ans)
        if status == 413 and self.batch > 1:
            self.batch = max(1, self.batch // 2)
            self._backoff("oversized")
            return -1
        if status != 200 or not isinstance(ans, dict):
            self._backoff("http_%d" % status)
            return -1
        results = ans.get("results")
        if not isinstance(results, list) or len(results) != len(recs):
            self._backoff("bad_answer")
            return -1
        for res in results:
            k = res.get("result") if isinstance(res, dict) else None
            if k not in ("accepted", "duplicate", "refused"):
                self._backoff("bad_answer")
                return -1
        self.journal.mark_uploaded(recs[-1].seq + 1)     # the acknowledgement, on flash
        for res in results:
            self.stats[res["result"]] += 1
        self.stats["batches"] += 1
        self.failures = 0
        self.last_error = None
        self.last_ok = self.clock.now()
        self.next_ms = self.board.ticks_ms() + (0 if self.journal.pending() else 30000)
        self.log("SYNC", "ok", "items=%d" % len(recs), "pending=%d" % self.journal.pending())
        return len(recs)

    def _ping(self):
        try:
            status, hdrs, _ = httpc.request(self.board.connect, "GET", self.host, self.port,
                                            "/healthz", rbuf=self._rbuf)
        except httpc.HttpError as err:
            self._backoff(err.reason)
            return -1
        self._time(hdrs, None)
        self.failures = 0
        self.next_ms = self.board.ticks_ms() + 60000
        return 0
