"""China's working days (工作日) with the State Council's holidays and 调休 make-up days, for
complaint deadlines: `chinese-calendar` from PyPI, not a hand-written list.

A deadline of n working days after a day is the end (23:59:59 local) of the n-th working day
after it (the day itself does not count). For a year the installed chinese-calendar has no
data for (it covers a year once the State Council has published its schedule, usually in
November of the year before), the operator may give that year's notice in `WORKDAY_YEARS`
({"2027": {"holidays": ["2027-01-01", …], "workdays": ["2027-02-07", …]}}: holidays on weekdays
and make-up workdays on weekends). A year with neither counts Monday to Friday and the
deadline is marked provisional (`Deadline.provisional`), to be shown as such.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import chinese_calendar

from host.localtime import day_end, local_date


@dataclass(frozen=True)
class Deadline:
    day: date
    at: int                      # Unix time of the end of that day, local
    provisional: bool            # a year without holiday data was counted Monday to Friday


class Calendar:
    def __init__(self, years: dict[str, Any] | None = None) -> None:
        """`years`: WORKDAY_YEARS (module docstring); ValueError naming a bad entry."""
        self.extra: dict[int, tuple[set[date], set[date]]] = {}
        for year, spec in (years or {}).items():
            try:
                y = int(year)
                holidays = {date.fromisoformat(d) for d in spec.get("holidays", [])}
                workdays = {date.fromisoformat(d) for d in spec.get("workdays", [])}
            except (TypeError, ValueError, AttributeError) as err:
                raise ValueError(f"WORKDAY_YEARS[{year!r}]: holidays and workdays are lists "
                                 f"of YYYY-MM-DD / 工作日配置有误") from err
            if any(d.year != y for d in holidays | workdays):
                raise ValueError(f"WORKDAY_YEARS[{year!r}]: a date of another year / "
                                 f"日期不属于该年")
            self.extra[y] = (holidays, workdays)

    def known(self, year: int) -> bool:
        """Whether holidays and make-up days of `year` are known (library or WORKDAY_YEARS)."""
        if year in self.extra:
            return True
        try:
            chinese_calendar.is_workday(date(year, 6, 1))
        except NotImplementedError:
            return False
        return True

    def is_workday(self, d: date) -> bool:
        extra = self.extra.get(d.year)
        if extra is not None:
            holidays, workdays = extra
            return d in workdays or (d.weekday() < 5 and d not in holidays)
        try:
            return chinese_calendar.is_workday(d)
        except NotImplementedError:
            return d.weekday() < 5

    def add(self, start: date, n: int) -> tuple[date, bool]:
        """The n-th working day after `start`, and whether a year without data was crossed."""
        d, left, provisional = start, n, False
        while left > 0:
            d += timedelta(days=1)
            provisional = provisional or not self.known(d.year)
            if self.is_workday(d):
                left -= 1
        return d, provisional

    def deadline(self, ts: int, n: int, tz: str) -> Deadline:
        day, provisional = self.add(local_date(ts, tz), n)
        return Deadline(day, day_end(day, tz), provisional)
