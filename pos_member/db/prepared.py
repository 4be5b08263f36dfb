"""Core statements compiled once and run straight on the SQLite driver: the hot path of a sale.

SQLAlchemy spends some 20–40 µs of Python on each ``Connection.execute`` (execution context,
parameter processing, result set-up) even when the compiled form is cached; a sale at the till
runs a dozen statements, so that overhead is a third of its CPU time. :class:`Prepared` keeps
the statement a Core construct (the SQL, the column types and their conversions are
SQLAlchemy's), compiles it once per dialect, and executes it on the connection's DBAPI cursor,
inside the same transaction, converting parameters and results with the types' own
processors. Other dialects, and anything the shortcut does not cover, go through
``Connection.execute`` unchanged.

Only for statements whose parameters are plain values (no expanding ``IN``, no SQL defaults
left to the database beyond what the table declares): a statement it cannot handle is refused
when it is compiled, not run wrongly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, ClassVar

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.elements import BindParameter

_Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class _Form:
    sql: str
    keys: tuple[str | None, ...]  # the parameter's key, or None for a constant
    constants: tuple[Any, ...]
    processors: tuple[_Processor, ...]
    columns: tuple[str, ...]  # of a SELECT (or RETURNING)
    results: tuple[_Processor, ...]
    # Worked out once from the above, for the statement's every run: the parameters' values
    # in order when every one is a key (None: some are constants), the positions whose
    # parameter or result the type converts, and the row type.
    getter: Callable[[Mapping[str, Any]], tuple[Any, ...]] | None
    converted: tuple[tuple[int, Callable[[Any], Any]], ...]
    converted_results: tuple[tuple[int, Callable[[Any], Any]], ...]
    row_type: type[Row]


def _getter(keys: tuple[str, ...]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """``params -> (params[k] for k in keys)`` in one C call (``itemgetter`` gives a bare
    value, not a tuple, for one key)."""
    if len(keys) == 1:
        key = keys[0]
        return lambda params: (params[key],)
    return itemgetter(*keys)  # type: ignore[return-value]


class Row(tuple):  # type: ignore[type-arg]
    """A result row with attribute access by column name, like SQLAlchemy's."""

    __slots__ = ()
    _fields: ClassVar[dict[str, int]] = {}

    def __getattr__(self, name: str) -> Any:
        try:
            return self[self._fields[name]]
        except KeyError:
            raise AttributeError(name) from None


def as_sqlalchemy_error(conn: Connection, sql: str, error: Exception,
                       params: Mapping[str, Any] | None = None) -> DBAPIError:
    """A driver error as SQLAlchemy's (``IntegrityError``, ``OperationalError``, ...), the same
    as ``Connection.execute`` raises: callers catch one kind, and the unit of work maps a full
    disk to ``StorageFull`` whichever path the statement took; a lost connection is invalidated
    (not put back in the pool). For every statement run on the driver itself, the till's
    (:class:`Prepared`) and HQ's (``sync.server.driver``). (A ``try`` at each call, not a
    context manager: entering and leaving one cost more than a short statement, on every
    statement of a sale.)"""
    lost = conn.dialect.is_disconnect(error, conn.connection.driver_connection, None)
    if lost:
        conn.invalidate(error)
    return DBAPIError.instance(sql, params, error, conn.dialect.loaded_dbapi.Error,
                               dialect=conn.dialect, connection_invalidated=lost)


class Prepared:
    """``Prepared(stmt).all(conn, params)``, ``.first(...)``, ``.run(conn, params or
    [params, ...])``; ``column_keys`` names an INSERT's columns (the keys every parameter dict
    carries)."""

    def __init__(self, stmt: ClauseElement, *, column_keys: Sequence[str] | None = None) -> None:
        self.stmt = stmt
        self.column_keys = list(column_keys) if column_keys is not None else None
        self._forms: dict[str, _Form] = {}

    def _form(self, dialect: Dialect) -> _Form:
        form = self._forms.get(dialect.name)
        if form is not None:
            return form
        compiled = self.stmt.compile(dialect=dialect, column_keys=self.column_keys)
        if not compiled.positional or compiled.positiontup is None:
            raise TypeError("Prepared statements need a positional paramstyle")
        keys: list[str | None] = []
        constants: list[Any] = []
        processors: list[_Processor] = []
        for name in compiled.positiontup:
            bind: BindParameter[Any] = compiled.binds[name]
            if bind.expanding or bind.callable is not None:
                raise TypeError(f"bind {name!r} is not a plain value")
            if bind.required or (self.column_keys is not None and bind.key in self.column_keys):
                keys.append(bind.key)
                constants.append(None)
            else:
                keys.append(None)
                constants.append(bind.value)
            processors.append(bind.type.dialect_impl(dialect).bind_processor(dialect))
        columns: list[str] = []
        results: list[_Processor] = []
        # a SELECT's columns, or what an INSERT/UPDATE ... RETURNING gives back
        returned = self.stmt.exported_columns if isinstance(self.stmt, UpdateBase) \
            else getattr(self.stmt, "selected_columns", ())
        for column in returned:
            columns.append(column.key)
            results.append(column.type.dialect_impl(dialect).result_processor(dialect, None))
        fields = {c: i for i, c in enumerate(columns)}
        # Each column a property reading its position (in C; ``__getattr__`` stays for any
        # name a tuple has already, which it never reached either).
        row_type = type("Row", (Row,), {
            "__slots__": (), "_fields": fields,
            **{c: property(itemgetter(i)) for c, i in fields.items()
               if isinstance(c, str) and not hasattr(Row, c)}})
        named = tuple(k for k in keys if k is not None)
        form = _Form(str(compiled), tuple(keys), tuple(constants), tuple(processors),
                     tuple(columns), tuple(results),
                     getter=_getter(named) if named and len(named) == len(keys) else None,
                     converted=tuple((i, p) for i, p in enumerate(processors) if p is not None),
                     converted_results=tuple((i, p) for i, p in enumerate(results)
                                             if p is not None),
                     row_type=row_type)
        self._forms[dialect.name] = form
        return form

    def _args(self, form: _Form, params: Mapping[str, Any]) -> Sequence[Any]:
        """The driver's parameters: each key's value (or the constant), converted by its
        type's processor when it has one and the value is not None."""
        if form.getter is not None:
            values = form.getter(params)
            if not form.converted:
                return values
            out = list(values)
        else:
            out = [params[key] if key is not None else constant
                   for key, constant in zip(form.keys, form.constants, strict=True)]
        for i, proc in form.converted:
            value = out[i]
            if value is not None:
                out[i] = proc(value)
        return out

    @staticmethod
    def _row(form: _Form, raw: tuple[Any, ...]) -> Row:
        """A driver row as a :class:`Row`, each value converted by its column's processor
        (when it has one and the value is not None)."""
        if not form.converted_results:
            return form.row_type(raw)
        out = list(raw)
        for i, proc in form.converted_results:
            value = out[i]
            if value is not None:
                out[i] = proc(value)
        return form.row_type(out)

    def _rows(self, conn: Connection, params: Mapping[str, Any], limit: int | None
              ) -> list[Any]:
        if conn.dialect.name != "sqlite":
            result = conn.execute(self.stmt, dict(params))
            return list(result.fetchmany(limit) if limit else result.all())
        form = self._form(conn.dialect)
        cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cur.execute(form.sql, self._args(form, params))
            raw = cur.fetchmany(limit) if limit else cur.fetchall()
        except conn.dialect.loaded_dbapi.Error as e:
            raise as_sqlalchemy_error(conn, form.sql, e) from e
        finally:
            cur.close()
        row = self._row
        return [row(form, r) for r in raw]

    def iter(self, conn: Connection, params: Mapping[str, Any]) -> Iterator[Any]:
        """The rows one by one, fetched as they are asked for (stop early: read no more)."""
        if conn.dialect.name != "sqlite":
            yield from conn.execute(self.stmt, dict(params))
            return
        form = self._form(conn.dialect)
        cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            try:
                cur.execute(form.sql, self._args(form, params))
            except conn.dialect.loaded_dbapi.Error as e:
                raise as_sqlalchemy_error(conn, form.sql, e) from e
            size = 2  # a FIFO walk usually stops after a lot or two: fetch more as it goes on
            while True:
                try:
                    batch = cur.fetchmany(size)
                except conn.dialect.loaded_dbapi.Error as e:
                    raise as_sqlalchemy_error(conn, form.sql, e) from e
                if not batch:
                    break
                for r in batch:
                    yield self._row(form, r)
                size = min(size * 4, 256)
        finally:
            cur.close()

    def all(self, conn: Connection, params: Mapping[str, Any]) -> list[Any]:
        return self._rows(conn, params, None)

    def first(self, conn: Connection, params: Mapping[str, Any]) -> Any | None:
        rows = self._rows(conn, params, 1)
        return rows[0] if rows else None

    def run(self, conn: Connection, params: Mapping[str, Any] | Sequence[Mapping[str, Any]]
            ) -> int:
        """An INSERT, UPDATE or DELETE, once or for each dict; returns the rows changed."""
        # a dict first: isinstance of the Mapping ABC is several times slower
        many = not isinstance(params, dict) and not isinstance(params, Mapping)
        if conn.dialect.name != "sqlite":
            return int(conn.execute(self.stmt, list(params) if many else dict(params)
                                    ).rowcount)
        form = self._form(conn.dialect)
        cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            if many:
                cur.executemany(form.sql, [self._args(form, p) for p in params])
            else:
                cur.execute(form.sql, self._args(form, params))  # type: ignore[arg-type]
            return int(cur.rowcount)
        except conn.dialect.loaded_dbapi.Error as e:
            raise as_sqlalchemy_error(conn, form.sql, e) from e
        finally:
            cur.close()

    def run_rows(self, conn: Connection, same: Mapping[str, Any],
                 rows: Sequence[Mapping[str, Any]]) -> int:
        """One ``executemany`` of ``rows``, each taking the values of ``same`` too: those are
        converted once, not once a row (a job writing thousands of rows that share their
        times, terms and texts spends most of its time converting them otherwise)."""
        if not rows:
            return 0
        if conn.dialect.name != "sqlite":
            return int(conn.execute(self.stmt, [{**same, **r} for r in rows]).rowcount)
        form = self._form(conn.dialect)
        fixed: list[Any] = []
        varying: list[tuple[int, str, _Processor]] = []
        for i, (key, constant, proc) in enumerate(zip(form.keys, form.constants,
                                                      form.processors, strict=True)):
            if key is not None and key not in same:
                varying.append((i, key, proc))
                fixed.append(None)
                continue
            value = same[key] if key is not None else constant
            fixed.append(proc(value) if proc is not None and value is not None else value)
        args = []
        for r in rows:
            out = list(fixed)
            for i, key, proc in varying:
                value = r[key]
                out[i] = proc(value) if proc is not None and value is not None else value
            args.append(out)
        cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cur.executemany(form.sql, args)
            return int(cur.rowcount)
        except conn.dialect.loaded_dbapi.Error as e:
            raise as_sqlalchemy_error(conn, form.sql, e) from e
        finally:
            cur.close()
