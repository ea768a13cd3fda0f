"""The desk terminal's journal: every check-in it decided, in SQLite (WAL, synchronous=FULL),
committed before the verdict is shown as accepted, so a power cut after the green light never
loses a check-in. Rows to upload are `pending` until the verifier answered `accepted` or
`duplicate` (-> `synced`) or refused them (-> `rejected`, with the reason); a crash between
the upload and the mark only makes the next batch send them again, which the verifier answers
`duplicate` (same token bytes): idempotent.
"""
import logging
import sqlite3
import threading

SCHEMA = """
CREATE TABLE IF NOT EXISTS checkins (
    id INTEGER PRIMARY KEY,
    token BLOB NOT NULL,
    credential BLOB NOT NULL,
    terminal_id TEXT NOT NULL,
    seen_at INTEGER NOT NULL,
    nonce TEXT NOT NULL UNIQUE,
    badge_kid TEXT NOT NULL,
    worker_ref TEXT,
    counter TEXT,
    verdict TEXT NOT NULL,          -- accepted / status_unknown / duplicate / revoked ...
    state TEXT NOT NULL,            -- pending / synced / rejected / local
    result TEXT,                    -- the verifier's: accepted / duplicate / refused
    reason TEXT,
    synced_at INTEGER
);
CREATE INDEX IF NOT EXISTS checkins_state ON checkins(state, id);
CREATE INDEX IF NOT EXISTS checkins_badge ON checkins(badge_kid, seen_at);
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT);
"""
UPLOAD = ("accepted", "status_unknown")
log = logging.getLogger(__name__)


class Journal:
    """Thread-safe (one connection, one lock); `path` ':memory:' for tests."""

    def __init__(self, path):
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.lock = threading.Lock()
        with self.lock:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.execute("PRAGMA busy_timeout=5000")
            self.db.executescript(SCHEMA)
        log.debug("journal %s open", path)

    def close(self):
        with self.lock:
            self.db.close()

    def record(self, tap, verdict, terminal_id, seen_at):
        """Journal one check-in (durable when this returns); the row id."""
        state = "pending" if verdict in UPLOAD else "local"
        with self.lock:
            cur = self.db.execute(
                "INSERT INTO checkins (token, credential, terminal_id, seen_at, nonce, badge_kid,"
                " worker_ref, counter, verdict, state) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (tap.token, tap.credential.raw, terminal_id, seen_at, tap.nonce.hex(),
                 tap.badge_kid.hex(), tap.credential.sub, str(tap.counter), verdict, state))
        log.debug("journal row %s: %s, %s", cur.lastrowid, verdict, state)
        return cur.lastrowid

    def last_accepted(self, badge_kid, since):
        """seen_at of this badge's newest accepted check-in (uploaded or not) after `since`, or
        None."""
        with self.lock:
            row = self.db.execute(
                "SELECT MAX(seen_at) FROM checkins WHERE badge_kid=? AND seen_at>? AND "
                "verdict IN ('accepted','status_unknown')", (badge_kid.hex(), since)).fetchone()
        return row[0]

    def pending(self, limit=100):
        """[(id, token, credential, terminal_id, seen_at, nonce)] oldest first."""
        with self.lock:
            return self.db.execute(
                "SELECT id, token, credential, terminal_id, seen_at, nonce FROM checkins "
                "WHERE state='pending' ORDER BY id LIMIT ?", (limit,)).fetchall()

    def mark(self, results, now):
        """results: [(id, verifier result, reason)]; one transaction."""
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                for rid, result, reason in results:
                    state = "synced" if result in ("accepted", "duplicate") else "rejected"
                    self.db.execute("UPDATE checkins SET state=?, result=?, reason=?, synced_at=?"
                                    " WHERE id=? AND state='pending'",
                                    (state, result, reason, now, rid))
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                log.exception("journal: marking %d rows failed, rolled back", len(results))
                raise

    def counts(self):
        """{state: n}"""
        with self.lock:
            return dict(self.db.execute("SELECT state, COUNT(*) FROM checkins GROUP BY state"))

    def get_meta(self, k, default=None):
        with self.lock:
            row = self.db.execute("SELECT v FROM meta WHERE k=?", (k,)).fetchone()
        return row[0] if row else default

    def set_meta(self, k, v):
        with self.lock:
            self.db.execute("INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT(k) DO UPDATE "
                            "SET v=excluded.v", (k, str(v)))

    def rows(self):
        with self.lock:
            return self.db.execute("SELECT id, nonce, verdict, state, result, reason "
                                   "FROM checkins ORDER BY id").fetchall()
