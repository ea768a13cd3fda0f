"""The declarative base and the counter encoding every table shares.

Counters are unsigned 64-bit on the wire; they are stored order-preserving as
`counter - 2**63` in a signed BIGINT (`ctr_key`), which both SQLite and PostgreSQL hold.
Kids and hashes are lower-case hex.
"""
from sqlalchemy.orm import DeclarativeBase

CTR_OFFSET = 2 ** 63


def ctr_key(counter: int) -> int:
    return counter - CTR_OFFSET


def ctr_value(key: int) -> int:
    return key + CTR_OFFSET


class Base(DeclarativeBase):
    pass
