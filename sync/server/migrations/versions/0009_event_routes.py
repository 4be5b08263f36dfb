"""Filtered pulls: members' home stores and each event's routes

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04

``member_homes`` (member id → its home store: the store of the first registration of its
phone stored at HQ, so a phone's merged members share one home) and ``event_routes``
(``(store_id, position)``: ``*`` for the server's events and the member directory's types, a
member's home store for another store's events about it), the index ``(store_id, position)``
on ``events`` for the filtered pull (``sync/server/routes.py``). Both tables are filled from
the events already stored, in position order, exactly as ingest fills them for new events, so a
till that switches to the filtered pull at its old cursor misses nothing after it. Nothing
stored is changed; the full pull (``/v1/pull``) reads as before.
"""
import json
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

# As sync.server.routes at this revision (a migration keeps its own copy).
EVERYONE = '*'
SERVER_STORE_ID = 'hq'
REGISTERED = 'member.registered'
DIRECTORY_TYPES = frozenset({
    REGISTERED, 'member.merged', 'member.tier_changed', 'member.balance_blocked',
    'member.balance_unblocked', 'sv.frozen', 'sv.unfrozen',
})
_MEMBER_FIELDS = ('member_id', 'winner_member_id', 'loser_member_id')
BATCH = 5000

_EVENTS = sa.table('events', sa.column('position', sa.BigInteger),
                   sa.column('store_id', sa.String), sa.column('type', sa.String),
                   sa.column('entity_id', sa.String), sa.column('payload', sa.Text))


def _keys(entity_id: str | None, payload: Any) -> set[str]:
    keys = {entity_id} if entity_id else set()
    if not isinstance(payload, Mapping):
        return keys
    parts: list[Mapping[str, Any]] = [payload]
    for value in payload.values():
        if isinstance(value, Mapping):
            parts.append(value)
        elif isinstance(value, list):
            parts.extend(v for v in value if isinstance(v, Mapping))
    for part in parts:
        keys.update(v for f in _MEMBER_FIELDS if isinstance(v := part.get(f), str) and v)
    return keys


def _payload(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def upgrade() -> None:
    homes = op.create_table(
        'member_homes',
        sa.Column('member_id', sa.String(length=36), nullable=False),
        sa.Column('store_id', sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint('member_id', name=op.f('pk_member_homes')))
    routes = op.create_table(
        'event_routes',
        sa.Column('store_id', sa.String(length=36), nullable=False),
        sa.Column('position', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint('store_id', 'position', name=op.f('pk_event_routes')))
    # Not in batch mode: on SQLite that could copy the table, and its append-only triggers
    op.drop_index(op.f('ix_events_store_id'), table_name='events')
    op.create_index(op.f('ix_events_store_id_position'), 'events', ['store_id', 'position'])
    _backfill(op.get_bind(), homes, routes)


def _backfill(conn: sa.Connection, homes: sa.Table, routes: sa.Table) -> None:
    """Two passes in position order: the homes of every registration, then the routes."""
    home: dict[str, str] = {}
    by_phone: dict[str, str] = {}  # a phone's home: the store of its first registration here
    for r in conn.execute(sa.select(_EVENTS.c.store_id, _EVENTS.c.payload)
                          .where(_EVENTS.c.type == REGISTERED)
                          .order_by(_EVENTS.c.position)):
        p = _payload(r.payload)
        if isinstance(p, Mapping) and isinstance(p.get('member_id'), str) \
                and p['member_id'] not in home:
            store = p.get('store_id') or r.store_id
            phone = p.get('phone_index')
            if isinstance(store, str):
                store = store[:36]
                if isinstance(phone, str) and phone:
                    store = by_phone.setdefault(phone, store)
                home[p['member_id']] = store
    rows = [{'member_id': m, 'store_id': s} for m, s in home.items()]
    for i in range(0, len(rows), BATCH):
        conn.execute(homes.insert(), rows[i:i + BATCH])
    resolved = home
    out: list[dict[str, Any]] = []
    last = -1
    while True:
        page = conn.execute(
            sa.select(_EVENTS.c.position, _EVENTS.c.store_id, _EVENTS.c.type,
                      _EVENTS.c.entity_id, _EVENTS.c.payload)
            .where(_EVENTS.c.position > last).order_by(_EVENTS.c.position).limit(BATCH)).all()
        if not page:
            break
        last = page[-1].position
        for r in page:
            if r.store_id == SERVER_STORE_ID or r.type in DIRECTORY_TYPES:
                out.append({'store_id': EVERYONE, 'position': r.position})
            elif not r.type.startswith('staff.'):
                keys = _keys(r.entity_id, _payload(r.payload))
                for store in sorted({resolved[k] for k in keys if k in resolved} - {r.store_id}):
                    out.append({'store_id': store, 'position': r.position})
        if len(out) >= BATCH:
            conn.execute(routes.insert(), out)
            out = []
    if out:
        conn.execute(routes.insert(), out)


def downgrade() -> None:
    op.drop_index(op.f('ix_events_store_id_position'), table_name='events')
    op.create_index(op.f('ix_events_store_id'), 'events', ['store_id'])
    op.drop_table('event_routes')
    op.drop_table('member_homes')
