"""The bureau console's figures, counted once and stored (docs/performance.md "The bureau
console"; migration 0019_city_figures).

Counting the city takes seconds at a million workers (one grouped query per table over every
worker, badge, check-in and record: services/aggregates.py), far more than a page may take. So
`refresh` counts everything the console shows — the national export's agencies and totals, the
extra columns, the city's and every agency's 12-month trends, the service types and the
districts — in one transaction (one consistent `now`) and stores it as one row; the timer
`xinka-city.timer` runs it every five minutes and the bureau can ask for it from the city page.
The pages read the newest row (`current`) while it is younger than CITY_FIGURES_MAX_AGE_S and
say how old it is; older (or none yet), the reading request counts and stores anew. With a
maximum age of 0 every request counts live and nothing is stored.

A stored row holds counts only (agencies, periods, titles, districts): nothing about a person.
The last `KEEP` rows are kept.
"""
from __future__ import annotations

import json
import logging
import time
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..models import Agency, CityFigures
from . import city, national

log = logging.getLogger(__name__)

KEEP = 12


def compute(session: Session, now: int, tz: str, start_day: int) -> dict[str, Any]:
    """Everything the console's overview and agency pages count, as of `now`."""
    data = national.export(session, now, tz, start_day)
    trends = city.trends(session, now, tz, start_day)
    # every agency's trends are sliced from the city's counts of this transaction
    by_agency = {a: city.trends(session, now, tz, start_day, a)
                 for a in session.scalars(select(Agency.id).order_by(Agency.id))}
    return {"as_of": now, "export": data, "extras": city.agency_extras(session, now),
            "trends": trends, "agency_trends": by_agency,
            "service_types": city.service_types(session, now),
            "districts": city.districts(session)}


def refresh(session: Session, now: int, tz: str, start_day: int) -> dict[str, Any]:
    """Count the city and store it (the older rows beyond the last KEEP go)."""
    t0 = time.perf_counter()
    figures = compute(session, now, tz, start_day)
    seconds = time.perf_counter() - t0
    row = CityFigures(as_of=now, seconds=round(seconds, 3),
                      body=json.dumps(figures, ensure_ascii=False, sort_keys=True))
    session.add(row)
    session.flush()
    session.execute(delete(CityFigures).where(CityFigures.id <= row.id - KEEP))
    log.info("city figures as of %d counted in %.1f s (%d agencies)", now, seconds,
             len(figures["export"]["agencies"]))
    return figures


def current(session: Session, now: int, max_age_s: int) -> dict[str, Any] | None:
    """The newest stored figures if counted at most `max_age_s` before `now` (and not after
    it), else None."""
    if max_age_s <= 0:
        return None
    row = session.scalars(select(CityFigures).order_by(CityFigures.as_of.desc(),
                                                       CityFigures.id.desc()).limit(1)).first()
    if row is None or not now - max_age_s <= row.as_of <= now:
        return None
    return json.loads(row.body)


def figures(session: Session, now: int, tz: str, start_day: int,
            max_age_s: int) -> dict[str, Any]:
    """The figures a page shows: the stored ones while fresh, else counted now (and stored
    when a maximum age is set)."""
    got = current(session, now, max_age_s)
    if got is not None:
        return got
    if max_age_s <= 0:
        return compute(session, now, tz, start_day)
    return refresh(session, now, tz, start_day)
