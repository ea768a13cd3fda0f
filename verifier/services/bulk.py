"""Statements over many rows at once, whatever their number, on both databases: check-in ingest
(services/ingest.py) and its link codes (services/links.py).

PostgreSQL: an insert is one `INSERT … SELECT FROM json_populate_recordset(NULL::<table>,
<the rows as one JSON text>)` and a set is one array (`= ANY`, `<> ALL`), so a statement binds
one or two parameters however many rows it carries. A multi-row VALUES list of 100 check-ins
binds 1 100 parameters, and parsing and binding them cost more than the writes; one array per
column (`unnest`) binds 11, but psycopg quotes each text element in Python: the JSON text,
written by the json module in C, took a quarter less time per batch of check-ins on the bench
machine. SQLite (in process, no round trip): executemany of the one-row INSERT, and expanding
IN lists.

Statements are built once per dialect by the callers; `rows` turns a list of row dicts into the
parameters the dialect's statement takes.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, all_, any_, bindparam, func, literal_column, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement


def _pg(dialect: str) -> bool:
    return dialect == "postgresql"


def insert(table: Table, columns: Sequence[str], dialect: str) -> Any:
    """The dialect's INSERT of `columns` into `table` (a dialect insert: on_conflict_* can be
    added), taking `rows(...)` as its parameters."""
    if not _pg(dialect):
        return sqlite.insert(table)
    src = func.json_populate_recordset(literal_column(f"NULL::{table.name}"),
                                       bindparam("rows", type_=postgresql.JSON)) \
        .table_valued(*columns).alias("r")
    return postgresql.insert(table).from_select(list(columns),
                                                select(*[src.c[c] for c in columns]))


def rows(dialect: str, data: list[dict[str, Any]],
         columns: Sequence[str]) -> list[dict[str, Any]] | dict[str, Any]:
    """Row dicts as the parameters of `insert(…, columns, dialect)`: executemany's list on
    SQLite, the JSON rows on PostgreSQL (bytes as bytea's hex text)."""
    if not _pg(dialect):
        return data
    blobs = [c for c in columns if data and isinstance(data[0][c], bytes)]
    if blobs:
        data = [{**r, **{c: "\\x" + r[c].hex() for c in blobs}} for r in data]
    return {"rows": [{c: r[c] for c in columns} for r in data]}


def one_of(column: Any, name: str, dialect: str) -> ColumnElement[bool]:
    """`column` is one of the values bound to `name` (a list)."""
    if _pg(dialect):
        return column == any_(bindparam(name, type_=postgresql.ARRAY(column.type)))
    return column.in_(bindparam(name, expanding=True))


def none_of(column: Any, name: str, dialect: str) -> ColumnElement[bool]:
    """`column` is none of the values bound to `name` (a non-empty list)."""
    if _pg(dialect):
        return column != all_(bindparam(name, type_=postgresql.ARRAY(column.type)))
    return column.not_in(bindparam(name, expanding=True))


def pair_of(a: Any, b: Any, name_a: str, name_b: str, dialect: str) -> ColumnElement[bool]:
    """(a, b) is one of the pairs bound as two lists, `name_a` and `name_b`."""
    if _pg(dialect):
        pairs = func.unnest(bindparam(name_a, type_=postgresql.ARRAY(a.type)),
                            bindparam(name_b, type_=postgresql.ARRAY(b.type))) \
            .table_valued("a", "b").render_derived(name="p")
        return tuple_(a, b).in_(select(pairs.c.a, pairs.c.b))
    return tuple_(a, b).in_(bindparam(name_a, expanding=True))


def pairs(dialect: str, name_a: str, name_b: str,
          values: list[tuple[Any, Any]]) -> dict[str, Any]:
    """The parameters of `pair_of` for these pairs."""
    if _pg(dialect):
        return {name_a: [v[0] for v in values], name_b: [v[1] for v in values]}
    return {name_a: values}
