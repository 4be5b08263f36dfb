"""A new or replaced till starts from a snapshot (issue 14, ``GET /v2/snapshot``): the chain's
member directory as of a log position, instead of pulling every other store's registration.

The answer is the position ``P`` (every row at or below it settled) and one row per
``member.registered`` of another store at or below ``P``: ``[member_no, member_id,
phone_index, store_no]`` (the till's ``member_directory`` row; status, tier and flags come from
the merges, tier changes, blocks and freezes it then pulls), with the stores' ids by number.
The till then pulls ``/v2/pull?snapshot=P`` from cursor 0: its store's log less other stores'
registrations up to ``P`` (``pull._wanted``). That filter is a pure function of the store and
``P``, which the till keeps until it is past it, so the pull stays exactly-once and nothing of
the store is skipped: its own events, the server's and every other directory event come as
in any pull.
"""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import Connection, String, func, select, text

from sync.server.context import DeviceIdentity, ServerContext
from sync.server.models import Event
from sync.server.routes import REGISTERED

_encode = msgspec.json.Encoder().encode


def _position(conn: Connection) -> int:
    """The highest position no running transaction can still write below."""
    if conn.dialect.name == "postgresql":
        bound = select(func.log_position_bound()).scalar_subquery()
        return int(conn.scalar(select(func.coalesce(func.max(Event.position), 0))
                               .where(Event.position < bound)) or 0)
    return int(conn.scalar(select(func.coalesce(func.max(Event.position), 0))) or 0)


# PostgreSQL parses each ``json`` payload once into the four fields (``json_to_record``);
# ``payload->>'…'`` four times would parse it four times (the column is ``json``, not ``jsonb``).
# The type is written out, not bound, so a prepared statement's plan uses ``ix_events_registered``.
_PG_ROWS = text(f"""
    SELECT r.member_no, r.member_id, r.phone_index, coalesce(r.store_id, e.store_id)
    FROM events AS e,
         json_to_record(e.payload) AS r(member_no text, member_id text, phone_index text,
                                        store_id text)
    WHERE e.type = '{REGISTERED}' AND e.position <= :position AND e.store_id <> :store_id
    ORDER BY e.position""")


def portable_rows(conn: Connection, position: int, store_id: str) -> list[Any]:
    """The snapshot's rows on any dialect (SQLite's tests): each field its own JSON lookup."""
    payload = Event.payload
    return list(conn.execute(
        select(payload["member_no"].as_string(), payload["member_id"].as_string(),
               payload["phone_index"].as_string(),
               func.coalesce(payload["store_id"].as_string(), Event.store_id, type_=String))
        .where(Event.type == REGISTERED, Event.position <= position,
               Event.store_id != store_id)
        .order_by(Event.position)).all())


def snapshot_rows(conn: Connection, position: int, store_id: str) -> list[Any]:
    """``[member_no, member_id, phone_index, store_id]`` of every other store's registration
    at or below ``position``, in log order."""
    if conn.dialect.name == "postgresql":
        return list(conn.execute(_PG_ROWS, {"position": position, "store_id": store_id}).all())
    return portable_rows(conn, position, store_id)


def snapshot_json(ctx: ServerContext, *, device: DeviceIdentity) -> bytes:
    """The snapshot as JSON text (the route gzips it): ``{"position", "stores", "members"}``."""
    with ctx.db.read_replica() as conn:
        position = _position(conn)
        rows = snapshot_rows(conn, position, device.store_id)
    members: list[list[Any]] = []
    stores: dict[int, str] = {}
    for member_no, member_id, phone_index, store_id in rows:
        if not (isinstance(member_no, str) and len(member_no) == 14 and member_no.isascii()
                and member_no.isdigit()):  # ``isdigit`` alone: superscripts, other scripts
            continue
        store_no = int(member_no[:4])
        stores.setdefault(store_no, store_id)
        members.append([member_no, member_id, phone_index, store_no])
    return _encode({"position": position,
                    "stores": [[store_id, number] for number, store_id in stores.items()],
                    "members": members})
