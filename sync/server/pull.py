"""Pull: a device reads ``position > cursor`` in position order: on protocol v1 every store's
events and the server's (members are chain-wide), but other stores' staff events never; on v2
(``filtered``) only what its store holds (``routes``).

On PostgreSQL positions come from the writing transaction's id (``log``), so a transaction
still open may yet commit rows below a position already visible. A pull therefore reads only
below ``log_position_bound()`` (migration 0007): the oldest transaction id still running in
the statement's snapshot, shifted as positions are. Every transaction below it has ended, so no
row can later appear below what a pull returned (``_settled``); on a hot standby the snapshot
is the replayed one, so the same holds there. SQLite has one writer and gapless positions."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from pydantic_core import to_json
from sqlalchemy import (
    ARRAY,
    BigInteger,
    ColumnElement,
    Connection,
    Row,
    Select,
    String,
    Subquery,
    Text,
    any_,
    bindparam,
    cast,
    func,
    not_,
    or_,
    select,
    true,
    type_coerce,
    union_all,
)

from sync.protocol import MAX_BIGINT, MAX_PAGE, Change, PullResponse, WireEvent
from sync.server.context import DeviceIdentity, ServerContext
from sync.server.errors import BadRequest
from sync.server.models import Event, EventRoute
from sync.server.routes import EVERYONE, REGISTERED
from sync.server.wire import RawJson, encode

_ROUTES = EventRoute.__table__
_WIRE_FIELDS = tuple(WireEvent.model_fields)
_PULL_JSON = select(  # the driver's values of payload (text) and created_at: no processors
    Event.position,
    *(getattr(Event, name) for name in _WIRE_FIELDS if name not in ("payload", "created_at")),
    cast(Event.payload, Text).label("payload"),
    type_coerce(Event.created_at, String).label("created_at"),
).order_by(Event.position)
_PULL_FIELDS = tuple(c.key for c in _PULL_JSON.selected_columns)  # position + _WIRE_FIELDS


def _check_page(cursor: int, limit: int) -> None:
    if not 0 <= cursor <= MAX_BIGINT:
        raise BadRequest(detail=f"cursor must be between 0 and {MAX_BIGINT}")
    if not 1 <= limit <= MAX_PAGE:
        raise BadRequest(detail=f"limit must be between 1 and {MAX_PAGE}")


def _settled(conn: Connection) -> ColumnElement[bool]:
    """Rows no transaction still running can precede (PostgreSQL; see the module)."""
    if conn.dialect.name == "postgresql":
        return Event.position < func.log_position_bound()
    return true()


def _wanted(conn: Connection, device: DeviceIdentity, cursor: int, limit: int,
            filtered: bool, snapshot: int = 0) -> list[ColumnElement[bool]]:
    """The conditions of a page after ``cursor``: the whole chain's log (protocol v1, less
    other stores' staff events), or the store's filtered log (v2, ``routes``): the first
    ``limit + 1`` positions after the cursor of each of its three index ranges (own store,
    routed to the store, routed to everyone), the smallest of which are the page. Settled
    rows all lie below unsettled ones, so taking them per range first loses none."""
    if not filtered:
        return [Event.position > cursor, _settled(conn), _visible_to(device)]
    positions = _ranges(conn, device, cursor, limit, snapshot)
    return [Event.position > cursor, _settled(conn),
            Event.position.in_(select(positions.c.position))]


def _ranges(conn: Connection, device: DeviceIdentity, cursor: int, limit: int,
            snapshot: int) -> Subquery:
    """The filtered log's three ranges after ``cursor`` (``_wanted``), each settled and cut
    at ``limit + 1``, as one ``UNION ALL`` of positions (one may come twice: an own store's
    registration is also routed to everyone)."""
    ranges = [
        select(Event.position).where(Event.store_id == device.store_id,
                                     Event.position > cursor, _settled(conn))
        .order_by(Event.position).limit(limit + 1),
        *(select(_ROUTES.c.position).where(_ROUTES.c.store_id == store,
                                           _ROUTES.c.position > cursor, _settled_route(conn))
          .order_by(_ROUTES.c.position).limit(limit + 1)
          for store in (device.store_id, EVERYONE)),
    ]
    if snapshot > cursor:  # a till started from a snapshot: other stores' registrations up to
        # its position are in the snapshot's directory rows (``snapshot``), not pulled again
        ranges[2] = (
            select(_ROUTES.c.position).join(Event, Event.position == _ROUTES.c.position)
            .where(_ROUTES.c.store_id == EVERYONE, _ROUTES.c.position > cursor,
                   _settled_route(conn),
                   or_(_ROUTES.c.position > snapshot, Event.type != REGISTERED,
                       Event.store_id == device.store_id))
            .order_by(_ROUTES.c.position).limit(limit + 1))
    return union_all(*(r.subquery().select() for r in ranges)).subquery()


def _page_positions(conn: Connection, device: DeviceIdentity, cursor: int, limit: int,
                    filtered: bool, snapshot: int) -> Select[tuple[int]]:
    """The positions of a page (``limit + 1`` of them: one more says ``more``). On v2 straight
    from the ranges (``_ranges``), without looking each position up in ``events`` again (an
    index probe per change: about half of a pull's database time)."""
    if not filtered:
        return (select(Event.position).where(*_wanted(conn, device, cursor, limit, False))
                .order_by(Event.position).limit(limit + 1))
    positions = _ranges(conn, device, cursor, limit, snapshot)
    return (select(positions.c.position).distinct().order_by(positions.c.position)
            .limit(limit + 1))


def _settled_route(conn: Connection) -> ColumnElement[bool]:
    if conn.dialect.name == "postgresql":
        return _ROUTES.c.position < func.log_position_bound()
    return true()


def _visible_to(device: DeviceIdentity) -> ColumnElement[bool]:
    """What a device may pull: everything (members are chain-wide) except other stores' staff
    events, which carry the argon2 hashes of their PINs — those stay within their store."""
    return or_(not_(Event.type.startswith("staff.")), Event.store_id == device.store_id)


def pull(ctx: ServerContext, *, device: DeviceIdentity, cursor: int, limit: int,
         filtered: bool = False) -> PullResponse:
    """Changes after ``cursor`` in position order, at most ``limit``; ``more`` if others follow.

    Every store's events and the server's are included (members are chain-wide), but staff
    events only for the caller's own store (:func:`_visible_to`); ``filtered`` (protocol v2):
    only what the caller's store holds (``routes``). Reads committed rows only.
    """
    _check_page(cursor, limit)
    with ctx.db.read_replica() as conn:
        rows = conn.execute(
            select(Event.__table__)
            .where(*_wanted(conn, device, cursor, limit, filtered))
            .order_by(Event.position)
            .limit(limit + 1)
        ).all()
    more = len(rows) > limit
    rows = rows[:limit]
    # The rows were validated as WireEvents when they were stored (and server events are
    # built as WireEvents): rebuilding them without validating again saves most of a pull.
    changes = [
        Change.model_construct(position=r.position, event=WireEvent.model_construct(
            **{name: getattr(r, name) for name in _WIRE_FIELDS}))
        for r in rows
    ]
    return PullResponse(
        changes=changes, cursor=rows[-1].position if rows else cursor, more=more
    )


def pull_json(ctx: ServerContext, *, device: DeviceIdentity, cursor: int, limit: int,
              filtered: bool = False, snapshot: int = 0) -> bytes:
    """``pull`` answered as the ``PullResponse`` JSON itself, for the HTTP route.

    The same page as ``pull``, without building a model per change: each stored payload goes
    out as the JSON text the database holds (valid JSON, as stored), so the answer parses to
    the same ``PullResponse``. The page's positions are read first; the changes this process
    encoded before come from ``ctx.db.pulled`` (``pulled_rows``: a stored row never changes),
    only the others are read in full and encoded. In autocommit (no BEGIN before the reads,
    no ROLLBACK when the connection goes back to the pool: two round trips of a pull's five):
    the positions are read in one statement, below the bound it computes, and the rows at
    them never change, so the second statement may see a later snapshot.
    """
    _check_page(cursor, limit)
    pulled = ctx.db.pulled
    with ctx.db.read_replica() as pooled:
        conn = pooled.execution_options(isolation_level="AUTOCOMMIT")
        positions = list(conn.execute(  # ``all``: one fetch, not one a row (~5 µs a row)
            _page_positions(conn, device, cursor, limit, filtered, snapshot)).scalars().all())
        more = len(positions) > limit
        del positions[limit:]
        changes = pulled.get_many(positions)
        missing = [p for p, c in zip(positions, changes, strict=True) if c is None]
        if missing:
            encoded = dict(_encoded(conn.execute(_PULL_JSON.where(_one_of_positions(conn)),
                                                 {"p": _positions(conn, missing)}).all()))
            pulled.put(encoded.items())
            changes = [c if c is not None else encoded[p]
                       for p, c in zip(positions, changes, strict=True)]
    next_cursor = positions[-1] if positions else cursor
    return b"".join((b'{"changes":[', b",".join(changes),  # type: ignore[arg-type]
                     b'],"cursor":%d,"more":%s}' % (next_cursor, b"true" if more else b"false")))


def _encoded(rows: Iterable[Row[Any]]) -> Iterator[tuple[int, bytes]]:
    """(position, the change's JSON) of full rows (``_PULL_JSON``)."""
    for r in rows:
        event = dict(zip(_PULL_FIELDS, r, strict=True))
        payload = event["payload"]
        if "NaN" in payload or "Infinity" in payload:  # not JSON: as the model would write it
            payload = to_json(json.loads(payload), inf_nan_mode="null").decode()
        event["payload"] = RawJson(payload)
        event["created_at"] = _utc_time(event["created_at"])
        position = event.pop("position")
        yield position, encode({"position": position, "event": event})


def _one_of_positions(conn: Connection) -> ColumnElement[bool]:
    """``position IN (…)`` over one bound value (``_positions``): a PostgreSQL array's text,
    a JSON array on SQLite (a rendered list of 1,000 costs more than the query)."""
    if conn.dialect.name == "postgresql":
        return Event.position == any_(cast(bindparam("p", type_=Text), ARRAY(BigInteger)))
    values = func.json_each(bindparam("p", type_=Text)).table_valued("value")
    return Event.position.in_(select(values.c.value))


def _positions(conn: Connection, positions: list[int]) -> str:
    text = ",".join(map(str, positions))
    return f"{{{text}}}" if conn.dialect.name == "postgresql" else f"[{text}]"


def _utc_time(stored: datetime | str) -> datetime:
    """``events.created_at`` as the driver returns it: UTC text on SQLite (as SQLAlchemy
    writes it), a datetime on PostgreSQL; parsed here, ~10x faster than the column type's
    result processor."""
    if isinstance(stored, str):
        return datetime.fromisoformat(stored).replace(tzinfo=UTC)
    return stored.astimezone(UTC)
