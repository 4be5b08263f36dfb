"""chain-wide points and member cards for the remote lookup

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04

Three tables kept at ingest from now on (``sync/server/points.py``,
``sync/server/member_cards.py``): ``member_points`` (a member's chain-wide points),
``points_keyed_entries`` (the entries whose id several tills may push: lot expiries; and the
welcomes a merge reverses) and ``member_cards`` (what the remote lookup shows). The upgrade
fills them from the events already stored, in log order, the way ingest would have: the
points entries of ``points.*``/``sale.*`` events (a merged-away member's counted for its
winner, its welcomes reversed), the registrations, profile edits and tier changes. Streamed in
chunks of 5,000 events: memory holds one chunk and the merges, whatever the chain's size
(about 30,000 events/s on a 2-core machine with PostgreSQL: a chain of 200 million events
upgrades in about 2 hours).

The pure rules come from ``pos_member.points_lots`` and ``sync.server.member_cards`` (the
functions ingest uses), so the backfill counts exactly as ingest does.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

import pos_member.db.models
from pos_member.points_lots import (
    ENTRY_EVENT_TYPES,
    KEYED_KINDS,
    WELCOME,
    WELCOME_REVERSED,
    entries_of,
    reversal_id,
)
from sync.server.member_cards import apply_edit, registration_row

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

REGISTERED, EDITED, TIER, MERGED = ("member.registered", "member.profile_updated",
                                    "member.tier_changed", "member.merged")
_EVENTS = sa.table('events', sa.column('position', sa.BigInteger), sa.column('type', sa.String),
                   sa.column('hlc', sa.String), sa.column('payload', sa.JSON))
_META = sa.MetaData()
_POINTS = sa.Table('member_points', _META, sa.Column('member_id', sa.String(36), primary_key=True),
                   sa.Column('points', sa.BigInteger),
                   sa.Column('updated_at', pos_member.db.models.UtcDateTime(timezone=True)))
_KEYED = sa.Table('points_keyed_entries', _META,
                  sa.Column('entry_id', sa.String(64), primary_key=True),
                  sa.Column('member_id', sa.String(36)), sa.Column('kind', sa.String(32)),
                  sa.Column('points', sa.BigInteger))
_CARDS = sa.Table('member_cards', _META,
                  sa.Column('member_id', sa.String(36), primary_key=True),
                  sa.Column('member_no', sa.String(32)), sa.Column('store_id', sa.String(36)),
                  sa.Column('status', sa.String(16)), sa.Column('tier', sa.String(32)),
                  sa.Column('tier_hlc', sa.String(22)), sa.Column('profile', sa.JSON),
                  sa.Column('profile_hlc', sa.String(22)),
                  sa.Column('updated_at', pos_member.db.models.UtcDateTime(timezone=True)))
CHUNK = 5000


def upgrade() -> None:
    op.create_table('member_points',
    sa.Column('member_id', sa.String(length=36), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', pos_member.db.models.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('member_id', name=op.f('pk_member_points'))
    )
    op.create_table('points_keyed_entries',
    sa.Column('entry_id', sa.String(length=64), nullable=False),
    sa.Column('member_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('entry_id', name=op.f('pk_points_keyed_entries'))
    )
    op.create_index('ix_points_keyed_entries_member_id_kind', 'points_keyed_entries',
                    ['member_id', 'kind'], unique=False)
    op.create_table('member_cards',
    sa.Column('member_id', sa.String(length=36), nullable=False),
    sa.Column('member_no', sa.String(length=32), nullable=False),
    sa.Column('store_id', sa.String(length=36), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('tier', sa.String(length=32), nullable=False),
    sa.Column('tier_hlc', sa.String(length=22), nullable=False),
    sa.Column('profile', sa.JSON(), nullable=False),
    sa.Column('profile_hlc', sa.String(length=22), nullable=False),
    sa.Column('updated_at', pos_member.db.models.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('member_id', name=op.f('pk_member_cards'))
    )
    op.create_index(op.f('ix_member_cards_member_no'), 'member_cards', ['member_no'],
                    unique=False)
    _backfill(op.get_bind())


def _backfill(conn: sa.Connection) -> None:
    """Three streamed passes in log order, chunk by chunk, keeping in memory only the merges
    (``member_redirects``, one row per merged-away member) and one chunk: the points entries
    and registrations, then the profile edits and tier changes, then the merged-away cards."""
    now = datetime.now(UTC)
    redirects = {r.loser_member_id: r.winner_member_id for r in conn.execute(sa.text(
        "SELECT loser_member_id, winner_member_id FROM member_redirects"))}
    for chunk in _chunks(conn, ENTRY_EVENT_TYPES | {REGISTERED}):
        _points_and_cards(conn, chunk, redirects, now)
    for chunk in _chunks(conn, {EDITED, TIER}):
        _edits(conn, chunk, now)
    losers = sorted(redirects)
    for i in range(0, len(losers), CHUNK):
        conn.execute(sa.update(_CARDS).where(_CARDS.c.member_id.in_(losers[i:i + CHUNK]))
                     .values(status='merged'))


def _chunks(conn: sa.Connection, types: set[str]) -> Iterator[list[Any]]:
    rows = conn.execute(  # streamed (options on the statement: on the connection they stay)
        sa.select(_EVENTS.c.type, _EVENTS.c.hlc, _EVENTS.c.payload)
        .where(_EVENTS.c.type.in_(sorted(types))).order_by(_EVENTS.c.position)
        .execution_options(stream_results=True, yield_per=CHUNK))
    for part in rows.partitions(CHUNK):
        yield list(part)


def _points_and_cards(conn: sa.Connection, chunk: list[Any], redirects: dict[str, str],
                      now: datetime) -> None:
    """A chunk's registrations (the first of a member stays) and points entries, counted as
    ingest counts them; a merged-away member's points go to its winner (the final one: sums
    do not depend on when the merge came) and its welcomes are reversed."""
    cards: dict[str, dict[str, Any]] = {}
    entries = []
    for r in chunk:
        if not isinstance(r.payload, dict):
            continue
        if r.type == REGISTERED:
            row = registration_row(r.payload, hlc=r.hlc)
            if row is not None:
                cards.setdefault(row['member_id'], {**row, 'updated_at': now})
        else:
            entries.extend(entries_of(r.type, r.payload))
    if cards:
        conn.execute(_insert_ignore(conn, _CARDS), list(cards.values()))
    keyed = [e for e in entries if e.kind in KEYED_KINDS]
    fresh = _keep(conn, [(e.id, e.member_id, e.kind, e.points) for e in keyed])
    delta: dict[str, int] = {}
    reversals: list[tuple[str, str, str, int]] = []
    for e in entries:
        if e.kind in KEYED_KINDS:
            if e.id not in fresh:
                continue
            fresh.discard(e.id)
        owner = redirects.get(e.member_id, e.member_id)
        delta[owner] = delta.get(owner, 0) + e.points
        if e.kind == WELCOME and owner != e.member_id and e.points > 0:
            reversals.append((reversal_id(e.id), owner, WELCOME_REVERSED, -e.points))
    for rid in _keep(conn, reversals):
        _id, owner, _kind, pts = next(r for r in reversals if r[0] == rid)
        delta[owner] = delta.get(owner, 0) + pts
    rows = [{'member_id': m, 'points': d, 'updated_at': now}
            for m, d in sorted(delta.items()) if d]
    if rows:
        stmt = _insert(conn, _POINTS)
        conn.execute(stmt.on_conflict_do_update(
            index_elements=['member_id'],
            set_={'points': _POINTS.c.points + stmt.excluded.points}), rows)


def _edits(conn: sa.Connection, chunk: list[Any], now: datetime) -> None:
    ids = sorted({str(r.payload.get('member_id')) for r in chunk if isinstance(r.payload, dict)})
    rows = {r.member_id: dict(r._mapping) for r in conn.execute(
        sa.select(_CARDS).where(_CARDS.c.member_id.in_(ids)))}
    changed: set[str] = set()
    for r in chunk:
        if not isinstance(r.payload, dict):
            continue
        row = rows.get(str(r.payload.get('member_id')))
        if row is not None and apply_edit(row, r.type, r.payload, r.hlc):
            changed.add(row['member_id'])
    for m in sorted(changed):
        row = rows[m]
        conn.execute(sa.update(_CARDS).where(_CARDS.c.member_id == m).values(
            tier=row['tier'], tier_hlc=row['tier_hlc'], profile=row['profile'],
            profile_hlc=row['profile_hlc'], updated_at=now))


def _keep(conn: sa.Connection, rows: list[tuple[str, str, str, int]]) -> set[str]:
    """Inserts keyed entries not stored yet; returns the ids that were new."""
    unique = list({r[0]: r for r in rows}.values())
    new: set[str] = set()
    for i in range(0, len(unique), 1000):
        part = [{'entry_id': e, 'member_id': m, 'kind': k, 'points': p}
                for e, m, k, p in unique[i:i + 1000]]
        new.update(conn.execute(_insert_ignore(conn, _KEYED).values(part)
                                .returning(_KEYED.c.entry_id)).scalars())
    return new


def _insert(conn: sa.Connection, table: Any) -> Any:
    from sqlalchemy.dialects import postgresql, sqlite

    return (postgresql if conn.dialect.name == 'postgresql' else sqlite).insert(table)


def _insert_ignore(conn: sa.Connection, table: Any) -> Any:
    return _insert(conn, table).on_conflict_do_nothing()


def downgrade() -> None:
    op.drop_index(op.f('ix_member_cards_member_no'), table_name='member_cards')
    op.drop_table('member_cards')
    op.drop_index('ix_points_keyed_entries_member_id_kind', table_name='points_keyed_entries')
    op.drop_table('points_keyed_entries')
    op.drop_table('member_points')
