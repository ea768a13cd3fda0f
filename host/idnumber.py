"""The resident identity number (居民身份证号码, GB 11643-1999), checked with python-stdnum's
`stdnum.cn.ric`: 18 characters, 17 digits and a check digit (ISO 7064 MOD 11-2, `X` for 10),
a birth date that exists and is not in the future, and an administrative region code (GB/T
2260) that existed in the birth year.

`check(text, today)` returns the number in its compact form (upper-case `X`, no spaces) or
raises `IdNumberInvalid` whose `part` names the rule it broke (`length`, `characters`,
`check_digit`, `birth_date`, `region`) and whose `zh` / `en` say so. Neither the error nor
its message carries the number: a log line or an HTTP reply that shows it leaks nothing.

Used by the technician's tool (checks before anything is sent), the verifier (checks what it
is given) and the agency console.
"""
from __future__ import annotations

import datetime

from stdnum import exceptions
from stdnum.cn import ric

__all__ = ["IdNumberInvalid", "PARTS", "check", "mask"]

# part -> (zh, en)
PARTS = {
    "length": ("身份证号码应为 18 位", "an ID number has 18 characters"),
    "characters": ("身份证号码前 17 位只能是数字，第 18 位是数字或 X",
                   "the first 17 characters of an ID number are digits, the 18th a digit or X"),
    "check_digit": ("身份证号码校验位不符：请核对每一位",
                    "the check digit does not match: check every digit"),
    "birth_date": ("身份证号码中的出生日期不存在或晚于今天",
                   "the birth date in the ID number does not exist or is in the future"),
    "region": ("身份证号码的前 6 位不是出生年份时有效的行政区划代码",
               "the first 6 digits are not a region code that existed in the birth year"),
}


class IdNumberInvalid(ValueError):
    """A resident identity number that breaks one rule of GB 11643; `part` names it."""

    reason = "id_number_invalid"

    def __init__(self, part: str) -> None:
        self.part = part
        self.zh, self.en = PARTS[part]
        super().__init__(f"{self.zh} / {self.en}")


def check(text: object, today: datetime.date | None = None) -> str:
    """The compact number, or IdNumberInvalid naming the broken rule."""
    if not isinstance(text, str):
        raise IdNumberInvalid("length")
    number = "".join(ric.compact(text).split())     # spaces typed between the groups
    if len(number) == 18 and number[-1] not in "0123456789X":
        raise IdNumberInvalid("characters")
    try:
        ric.validate(number)
    except exceptions.InvalidLength:
        raise IdNumberInvalid("length") from None
    except exceptions.InvalidFormat:
        raise IdNumberInvalid("characters") from None
    except exceptions.InvalidChecksum:
        raise IdNumberInvalid("check_digit") from None
    except exceptions.InvalidComponent:
        # validate() checks the date before the place: find which one failed
        try:
            ric.get_birth_date(number)
        except exceptions.InvalidComponent:
            raise IdNumberInvalid("birth_date") from None
        raise IdNumberInvalid("region") from None
    except exceptions.ValidationError:
        raise IdNumberInvalid("characters") from None
    born = ric.get_birth_date(number)
    if born > (today or datetime.date.today()) or born.year < 1900:
        raise IdNumberInvalid("birth_date")
    return number


def mask(number: str) -> str:
    """What a screen may show of a checked number: the region's first 2 and the last 4."""
    return number[:2] + "*" * 12 + number[-4:]
