"""Attendance periods. A check-in counts for the period in which the terminal saw it, in the
configured time zone (Asia/Shanghai by default). With start day 1 a period is a calendar
month; with start day D > 1 the period named "YYYY-MM" runs from day D of the month before
to day D-1 of month MM (D = 26: "2027-02" is 26 Jan .. 25 Feb)."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo


def period_of(ts: int, tz: str = "Asia/Shanghai", start_day: int = 1) -> str:
    d = datetime.fromtimestamp(ts, ZoneInfo(tz))
    y, m = d.year, d.month
    if start_day > 1 and d.day >= start_day:
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return f"{y:04d}-{m:02d}"


def parse_period(text: str) -> tuple[int, int]:
    try:
        y, m = text.split("-")
        y, m = int(y), int(m)
    except (ValueError, AttributeError) as err:
        raise ValueError("period must be YYYY-MM") from err
    if not (2000 <= y <= 2200 and 1 <= m <= 12) or len(text) != 7:
        raise ValueError("period must be YYYY-MM")
    return y, m


def bounds(period: str, tz: str = "Asia/Shanghai", start_day: int = 1) -> tuple[int, int]:
    """[start, end) of a period as Unix seconds."""
    y, m = parse_period(period)
    zone = ZoneInfo(tz)
    if start_day == 1:
        start = datetime(y, m, 1, tzinfo=zone)
        end = datetime(y + (m == 12), m % 12 + 1, 1, tzinfo=zone)
    else:
        py, pm = (y - 1, 12) if m == 1 else (y, m - 1)
        start = datetime(py, pm, start_day, tzinfo=zone)
        end = datetime(y, m, start_day, tzinfo=zone)
    return int(start.timestamp()), int(end.timestamp())


def last_periods(now: int, tz: str, start_day: int, n: int = 12) -> list[str]:
    """The n periods up to and including the current one, oldest first."""
    y, m = map(int, period_of(now, tz, start_day).split("-"))
    out = []
    for _ in range(n):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return out[::-1]
