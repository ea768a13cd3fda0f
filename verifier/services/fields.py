"""Form fields of the console's credit-file forms (records, agreements, complaint steps):
text, a decimal number and a date, each refused with a BadRequest whose `reason` the caller
names and whose `field` names the field, so a form can be shown again with it marked."""
from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from .errors import BadRequest


def bad(field: str, message: str, reason: str) -> BadRequest:
    return BadRequest(f"{field}: {message}", reason=reason, field=field)


def text(value: object, field: str, limit: int, reason: str,
         required: bool = True) -> str | None:
    """The stripped text, None when empty and not required."""
    v = str(value or "").strip()
    if not v:
        if required:
            raise bad(field, "required", reason)
        return None
    if len(v) > limit:
        raise bad(field, f"at most {limit} characters", reason)
    return v


def number(value: object, field: str, high: int, reason: str) -> Decimal:
    """A finite decimal number more than 0 and at most `high`."""
    try:
        n = Decimal(str(value or "").strip())
    except InvalidOperation as err:
        raise bad(field, "a number", reason) from err
    if not n.is_finite() or not 0 < n <= high:
        raise bad(field, f"more than 0 and at most {high}", reason)
    return n


def day(value: object, field: str, reason: str) -> date:
    try:
        return date.fromisoformat(str(value or "").strip())
    except ValueError as err:
        raise bad(field, "a date YYYY-MM-DD", reason) from err
