"""The monthly attendance ledger: who checked in during a period, who is missing, and one
worker's history."""
from sqlalchemy import and_, select

from ..models import Attendance, Worker
from .errors import NotFound
from .periods import bounds


def _row(a):
    return {"period": a.period, "first_at": a.first_at, "last_at": a.last_at,
            "first_terminal": a.first_terminal, "last_terminal": a.last_terminal,
            "count": a.count}


def report(session, agency_id, period, tz, start_day, limit=None):
    """Present and missing workers of an agency for a period. Missing: active workers
    registered before the period ended with no check-in in it."""
    _, end = bounds(period, tz, start_day)
    present = [{"worker_ref": ref, "worker_id": wid, **_row(a)} for a, ref, wid in
               session.execute(select(Attendance, Attendance.worker_ref, Worker.id)
                               .outerjoin(Worker, and_(Worker.agency_id == Attendance.agency_id,
                                                       Worker.worker_ref == Attendance.worker_ref))
                               .where(Attendance.agency_id == agency_id,
                                      Attendance.period == period)
                               .order_by(Attendance.worker_ref).limit(limit))]
    missing_q = (select(Worker.id, Worker.worker_ref, Worker.name)
                 .outerjoin(Attendance, and_(Attendance.agency_id == Worker.agency_id,
                                             Attendance.worker_ref == Worker.worker_ref,
                                             Attendance.period == period))
                 .where(Worker.agency_id == agency_id, Worker.state == "active",
                        Worker.created_at < end, Attendance.id.is_(None))
                 .order_by(Worker.worker_ref).limit(limit))
    missing = [{"worker_id": wid, "worker_ref": ref, "name": name}
               for wid, ref, name in session.execute(missing_q)]
    return {"agency": agency_id, "period": period, "present": present, "missing": missing,
            "present_count": len(present), "missing_count": len(missing)}


def history(session, agency_id, worker_id):
    w = session.get(Worker, worker_id)
    if w is None or w.agency_id != agency_id:
        raise NotFound("no such worker in this agency")
    rows = session.scalars(select(Attendance).where(Attendance.agency_id == agency_id,
                                                    Attendance.worker_ref == w.worker_ref)
                           .order_by(Attendance.period))
    return {"worker_id": w.id, "worker_ref": w.worker_ref, "periods": [_row(a) for a in rows]}
