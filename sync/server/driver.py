"""A push's hot statements run by psycopg itself (PostgreSQL), compiled once by SQLAlchemy.

``Connection.execute`` costs SQLAlchemy ~66 µs of CPU a statement on this machine against
psycopg's own ~28 µs (the statement's cache key, the result's metadata and row objects),
and a push of 250 events ran about ten: ~1.5 µs of CPU an event. ``Statement`` compiles a
SQLAlchemy statement once for the connection's dialect (the same SQL text, parameters and
casts SQLAlchemy sends) and runs it on the connection's psycopg connection, in its
transaction, answering named tuples; a database error is raised as SQLAlchemy raises it
(``IntegrityError``, ``OperationalError``, … with the psycopg error as ``orig``), so callers
and the retry on deadlocks (``db.concurrent``) see no difference. Any other dialect (SQLite)
goes through SQLAlchemy as before.

Statements run here are not seen by SQLAlchemy's cursor events (the key locks, ``locks``, are
run here too: ~0.13 ms of CPU a push less than through SQLAlchemy after the events' COPY;
``tests/server/test_coupon_twice.py`` records them at their ``Statement``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec
from sqlalchemy import Connection, text
from sqlalchemy.sql.base import Executable

from pos_member.db.prepared import as_sqlalchemy_error

_ENCODE = msgspec.json.Encoder().encode


def json_text(value: Any) -> str:
    """The JSON text of a list or object bound as one parameter (``CAST(:p AS json)``): the
    same JSON as ``json.dumps(value, ensure_ascii=False)``, without its spaces, ~4x faster
    (msgspec; ``json.dumps`` took ~0.7 µs a row of a push's: the keys it locks and reads, its
    money and points rows, each new card's profile)."""
    return _ENCODE(value).decode()


_SEP = "\x1f"  # the unit separator, ``chr(31)``: a column of texts bound as one text


def unnest_columns(params: dict[str, Any], name: str,
                   columns: Iterable[tuple[str, list[Any], str]]) -> str:
    """A FROM item of rows given as columns (name, values, ``text`` or ``bigint``): each column
    bound as one text PostgreSQL splits (``string_to_array``), ``unnest`` zipping them. The
    same rows as a JSON array of objects (``json_to_recordset``, a hash table built an object)
    cost PostgreSQL ~1.1 µs more a pushed event, the routes' member keys most of it, and are
    no cheaper to form here (docs/scale.md, "Step 2"). ``name_column`` names each column's
    parameter (for ``text()`` or the driver alike). A text column whose values hold the
    separator (or a value not a text, or one empty text alone) is bound as an array instead
    (psycopg, element by element): the same rows, never split wrong. A ``bigint`` column holds
    integers only."""
    columns = list(columns)
    items: list[str] = []
    for column, values, kind in columns:
        key = f"{name}_{column}"
        if kind == "bigint":
            params[key] = ",".join(map(str, values))
            items.append(f"CAST(string_to_array(:{key}, ',') AS bigint[])")
            continue
        try:
            joined = _SEP.join(values)
        except TypeError:  # a None among them
            joined = ""
        if joined and joined.count(_SEP) == len(values) - 1:
            params[key] = joined
            items.append(f"string_to_array(:{key}, chr(31))")
        else:
            params[key] = list(values)
            items.append(f"CAST(:{key} AS text[])")
    names = ", ".join(column for column, _, _ in columns)
    return f"unnest({', '.join(items)}) AS {name}({names})"


class Statement:
    """A statement built once, run by the driver on PostgreSQL."""

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._sql: str | None = None  # the compiled PostgreSQL text (pyformat parameters)

    def rows(self, conn: Connection, params: Mapping[str, Any]) -> list[Any]:
        """Its rows (named tuples on PostgreSQL, SQLAlchemy's rows elsewhere)."""
        if conn.dialect.name != "postgresql":
            result = conn.execute(self.statement, dict(params))  # type: ignore[call-overload]
            return list(result) if result.returns_rows else []
        from psycopg.rows import namedtuple_row

        sql = self._sql
        if sql is None:
            sql = self._sql = str(self.statement.compile(dialect=conn.dialect))  # type: ignore[attr-defined]
        driver = conn.connection.driver_connection
        try:
            with driver.cursor(row_factory=namedtuple_row) as cursor:  # type: ignore[union-attr]
                cursor.execute(sql, params)
                return cursor.fetchall() if cursor.description is not None else []
        except conn.dialect.loaded_dbapi.Error as e:
            raise as_sqlalchemy_error(conn, sql, e, dict(params)) from e



@functools.lru_cache(maxsize=128)
def text_statement(sql: str) -> Statement:
    """The ``Statement`` of a text whose parts vary (``unnest_columns``' fallbacks, a push's
    projections present or not: a few dozen texts at most), built once."""
    return Statement(text(sql))
