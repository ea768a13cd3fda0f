"""The calendar date where the service runs (China by default): the one conversion from Unix
time to a local date, for the ID number's birth-date check and a ban's end date, on the desk and
in the verifier alike, and back from a local date to the Unix times of its first and last
second (a record's validity, an agreement's term, a complaint's deadline)."""
from datetime import date, datetime, time
from zoneinfo import ZoneInfo


def local_date(ts: float, tz: str = "Asia/Shanghai") -> date:
    """The calendar date at Unix time ts in time zone tz."""
    return datetime.fromtimestamp(ts, ZoneInfo(tz)).date()


def day_start(d: date, tz: str = "Asia/Shanghai") -> int:
    """Unix time of 00:00:00 local on date d."""
    return int(datetime.combine(d, time(0), ZoneInfo(tz)).timestamp())


def day_end(d: date, tz: str = "Asia/Shanghai") -> int:
    """Unix time of 23:59:59 local on date d (the last second the day is valid)."""
    return int(datetime.combine(d, time(23, 59, 59), ZoneInfo(tz)).timestamp())
