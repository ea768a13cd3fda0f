"""The calendar date where the service runs (China by default): the one conversion from Unix
time to a local date, for the ID number's birth-date check and a ban's end date, on the desk and
in the verifier alike."""
from datetime import date, datetime
from zoneinfo import ZoneInfo


def local_date(ts: float, tz: str = "Asia/Shanghai") -> date:
    """The calendar date at Unix time ts in time zone tz."""
    return datetime.fromtimestamp(ts, ZoneInfo(tz)).date()
