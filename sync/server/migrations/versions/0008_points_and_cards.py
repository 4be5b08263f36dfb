"""chain-wide points and member cards for the remote lookup

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04

Three tables kept at ingest from now on (``sync/server/points.py``,
``sync/server/member_cards.py``): ``member_points`` (a member's chain-wide points),
``points_keyed_entries`` (the entries whose id several tills may push: lot expiries; and the
welcomes a merge reverses) and ``member_cards`` (what the remote lookup shows). The upgrade
fills them from the events already stored, in log order, the way ingest would have: the
points entries of ``points.*``/``sale.*`` events, ``member.merged`` moving a loser's points to
its winner and reversing its welcomes, the registrations, profile edits and tier changes. It
reads the relevant events once (one pass, streamed) and keeps the totals in memory (about a
hundred bytes per member and per keyed entry).

The pure rules come from ``pos_member.points_lots`` and ``sync.server.member_cards`` (the
functions ingest uses), so the backfill counts exactly as ingest does.
"""
from __future__ import annotations

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


class _Fold:
    """Ingest's effect on the three tables, replayed over the stored log in order."""

    def __init__(self) -> None:
        self.redirects: dict[str, str] = {}  # loser → final winner
        self.points: dict[str, int] = {}
        self.keyed: dict[str, tuple[str, str, int]] = {}  # entry id → member, kind, points
        self.welcomes: dict[str, list[str]] = {}  # member → its welcome entry ids
        self.cards: dict[str, dict[str, Any]] = {}

    def owner(self, member_id: str) -> str:
        return self.redirects.get(member_id, member_id)

    def keep(self, entry_id: str, member_id: str, kind: str, points: int) -> bool:
        if entry_id in self.keyed:
            return False
        self.keyed[entry_id] = (member_id, kind, points)
        if kind == WELCOME:
            self.welcomes.setdefault(member_id, []).append(entry_id)
        return True

    def reverse(self, welcome_id: str, holder: str, points: int) -> None:
        if points > 0 and self.keep(reversal_id(welcome_id), holder, WELCOME_REVERSED, -points):
            self.points[holder] = self.points.get(holder, 0) - points

    def event(self, type_: str, hlc: str, payload: Any) -> None:
        if not isinstance(payload, dict):
            return
        if type_ in ENTRY_EVENT_TYPES:
            for e in entries_of(type_, payload):
                if e.kind in KEYED_KINDS and not self.keep(e.id, e.member_id, e.kind, e.points):
                    continue
                owner = self.owner(e.member_id)
                self.points[owner] = self.points.get(owner, 0) + e.points
                if e.kind == WELCOME and owner != e.member_id:
                    self.reverse(e.id, owner, e.points)
        elif type_ == MERGED:
            self.merge(payload)
        elif type_ == REGISTERED:
            row = registration_row(payload, hlc=hlc)
            if row is not None and row['member_id'] not in self.cards:
                self.cards[row['member_id']] = row
        elif type_ in (EDITED, TIER):
            row = self.cards.get(str(payload.get('member_id')))
            if row is not None:
                apply_edit(row, type_, payload, hlc)

    def merge(self, payload: dict[str, Any]) -> None:
        loser, winner = payload.get('loser_member_id'), payload.get('winner_member_id')
        if not isinstance(loser, str) or not isinstance(winner, str):
            return
        winner = self.owner(winner)
        if winner == loser:
            return
        self.redirects.setdefault(loser, winner)
        for m, w in self.redirects.items():
            if w == loser:
                self.redirects[m] = winner
        moved = self.points.get(loser, 0)
        if moved:
            self.points[loser] = 0
            self.points[winner] = self.points.get(winner, 0) + moved
        for welcome_id in sorted(self.welcomes.get(loser, [])):
            self.reverse(welcome_id, winner, self.keyed[welcome_id][2])
        if loser in self.cards:
            self.cards[loser]['status'] = 'merged'


def _backfill(conn: sa.Connection) -> None:
    fold = _Fold()
    types = sorted(ENTRY_EVENT_TYPES | {REGISTERED, EDITED, TIER, MERGED})
    rows = conn.execute(  # streamed (options on the statement: on the connection they stay)
        sa.select(_EVENTS.c.type, _EVENTS.c.hlc, _EVENTS.c.payload)
        .where(_EVENTS.c.type.in_(types)).order_by(_EVENTS.c.position)
        .execution_options(stream_results=True, yield_per=CHUNK))
    for r in rows:
        fold.event(r.type, r.hlc, r.payload)
    now = datetime.now(UTC)
    tables = {name: sa.table(name, *(sa.column(c) for c in cols)) for name, cols in (
        ('member_points', ('member_id', 'points', 'updated_at')),
        ('points_keyed_entries', ('entry_id', 'member_id', 'kind', 'points')),
        ('member_cards', ('member_id', 'member_no', 'store_id', 'status', 'tier', 'tier_hlc',
                          'profile', 'profile_hlc', 'updated_at')),
    )}
    tables['member_cards'].c.profile.type = sa.JSON()
    _insert(conn, tables['member_points'],
            [{'member_id': m, 'points': p, 'updated_at': now} for m, p in fold.points.items()])
    _insert(conn, tables['points_keyed_entries'],
            [{'entry_id': i, 'member_id': m, 'kind': k, 'points': p}
             for i, (m, k, p) in fold.keyed.items()])
    _insert(conn, tables['member_cards'],
            [{**row, 'updated_at': now} for row in fold.cards.values()])


def _insert(conn: sa.Connection, table: sa.TableClause, rows: list[dict[str, Any]]) -> None:
    for i in range(0, len(rows), CHUNK):
        conn.execute(sa.insert(table), rows[i:i + CHUNK])


def downgrade() -> None:
    op.drop_index(op.f('ix_member_cards_member_no'), table_name='member_cards')
    op.drop_table('member_cards')
    op.drop_index('ix_points_keyed_entries_member_id_kind', table_name='points_keyed_entries')
    op.drop_table('points_keyed_entries')
    op.drop_table('member_points')
