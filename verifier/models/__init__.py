"""The tables (SQLAlchemy 2), one module per concern; importing the package registers every
table on `Base.metadata`. Alembic migrations in verifier/migrations build the same schema;
tests/verifier/test_migrations.py checks that they agree."""
from .admission import AgencyApplication
from .audit import AuditEntry
from .base import CTR_OFFSET, Base, ctr_key, ctr_value
from .credit import Appeal, Complaint, CreditGrade, CreditRecord
from .console import Review, StaffSession, StaffUser, TapView
from .disclosures import Disclosure, DisclosureCount
from .figures import CityFigures
from .ledger import Attendance, Checkin, CloneEvidence, Tap
from .lists import ListVersion, StatusListBlob, TrustListBlob
from .persons import Ban, BanProposal, Person
from .registry import Agency, AgencyKey, ApiKey, Badge, StatusIndex, Terminal, Worker
from .rollups import AttendanceRollup, RollupDelta, WorkerRollup
from .visits import Agreement, FraudSignal, Household, Visit
from .worker_links import (CancelRequest, LinkCode, LinkFailure, LinkLock, WorkerChoice,
                           WorkerSession)

__all__ = ["CTR_OFFSET", "Agency", "AgencyApplication", "AgencyKey", "Agreement", "ApiKey",
           "Appeal", "Attendance", "AttendanceRollup", "AuditEntry", "Badge", "Ban", "BanProposal",
           "Base",
           "CancelRequest", "Checkin", "CityFigures", "LinkCode", "LinkFailure", "LinkLock",
           "WorkerChoice", "WorkerSession",
           "CloneEvidence", "Complaint", "CreditGrade", "CreditRecord", "Disclosure",
           "DisclosureCount", "FraudSignal",
           "Household", "ListVersion", "Person", "Review", "StaffSession", "StaffUser",
           "StatusIndex", "StatusListBlob", "Tap", "TapView", "Terminal", "TrustListBlob",
           "RollupDelta", "Visit", "Worker", "WorkerRollup", "ctr_key", "ctr_value"]
