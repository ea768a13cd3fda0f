"""The per-app state bundle: database, trust store, metrics and clock, registered as
`app.extensions["xinka"]` (the rate limiter is verifier/limits.py)."""
import logging
import time

from sqlalchemy import event

from .db import Database
from .services import grades, keys, status as status_service
from .services.identity import Hasher, Sealer
from .services.metrics import Metrics
from .services.trust import TrustStore
from .services.verification import Policy
from .services.workdays import Calendar

log = logging.getLogger(__name__)

class Xinka:
    def init_app(self, app):
        cfg = app.config
        self.config = cfg
        self.db = Database()
        self.db.init_app(app)
        self.store = TrustStore(keys.authority_key(cfg["AUTHORITY_KEY"]),
                                cfg["STATUS_CHECK_MS"])
        self.metrics = Metrics()
        self.metrics.gauges.append(self._gauges)
        self.policy = Policy(cfg["STALE_POLICY"], cfg["STATUS_MAX_AGE_S"])
        self.sealer = Sealer(cfg)          # the agencies' ID numbers at rest
        self.hasher = Hasher(cfg)          # the person hash of the bureau's registry
        self.calendar = Calendar(cfg["WORKDAY_YEARS"])    # complaint deadlines
        self.grading = grades.Context(cfg["TIMEZONE"], int(cfg["PERIOD_START_DAY"]))
        # credit events recompute the grade in the transaction that made them
        event.listen(self.db.Session, "before_commit", grades.Settler(self.grading))
        event.listen(self.db.Session, "after_rollback", grades.Settler.discard)
        app.extensions["xinka"] = self
        log.debug("extension ready: %s database, list version read every %s ms",
                  self.db.dialect, cfg["STATUS_CHECK_MS"])
        return self

    def now(self):
        return int(self.config["FIXED_NOW"] or time.time())

    def snapshot(self, session=None):
        """The trust snapshot; the list version is read at most every STATUS_CHECK_MS."""
        now = self.now()
        if session is not None:
            return self.store.refresh(session, now)
        if not self.store.due():
            return self.store.snapshot          # no session opened between two version reads
        with self.db.session() as s:
            return self.store.refresh(s, now)

    def signing_key(self, agency_id):
        return keys.status_signing_key(self.config, agency_id)

    def republish(self, session, agency_id):
        """Sign the agency's next status list in `session` when this verifier holds its key
        and a trust list; True if it did."""
        key = self.signing_key(agency_id)
        if key is None:
            return False
        self.store.refresh(session, self.now())
        if self.store.snapshot.trust is None:
            return False
        cfg = self.config
        status_service.publish(session, self.store, agency_id, key, cfg["STATUS_BASE_URL"],
                               self.now(), cfg["STATUS_TTL_S"], cfg["STATUS_VALIDITY_S"])
        return True

    def _gauges(self):
        now = self.now()
        snap = self.store.snapshot
        out = []
        for uri, lst in sorted(snap.lists.items()):
            agency = uri.rstrip("/").rpartition("/")[2]       # <base>/sl/<agency id>
            out.append(("xinka_status_list_age_seconds", {"agency": agency, "uri": uri},
                        now - lst.iat, "seconds since the status list was issued"))
            out.append(("xinka_status_list_seq", {"agency": agency, "uri": uri}, lst.seq,
                        "sequence number of the status list held"))
        if snap.trust is not None:
            out.append(("xinka_trust_list_seq", {}, snap.trust.seq, "trust list seq held"))
        return out
