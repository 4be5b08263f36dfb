"""Coupons' terms at HQ: each coupon as issued, and whether it was withdrawn (issue 18)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04

One new table, ``coupon_terms`` (coupon key → the member, the ``coupon.issued`` event's id and
row, its state): HQ's check describes a coupon to a till of another store and refuses a
withdrawn one (``sync/server/coupons.py``). Filled from the ``coupon.issued``,
``coupon.revoked`` and ``coupon.expired`` events already stored, in position order, as ingest
would have (the first issue of a key kept; a withdrawal outranks an expiry), read in batches
so a long log is not held at once. Nothing stored changes.
"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import pos_member.db.models

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

_EVENTS = sa.table('events', sa.column('position', sa.BigInteger), sa.column('id', sa.String),
                   sa.column('type', sa.String), sa.column('payload', sa.JSON),
                   sa.column('created_at', pos_member.db.models.UtcDateTime(timezone=True)))
_BATCH = 1000


def _issued(e: sa.Row) -> dict | None:
    p = e.payload if isinstance(e.payload, dict) else {}
    c = p.get('coupon')
    if not isinstance(c, dict) or not isinstance(c.get('key'), str) \
            or not 0 < len(c['key']) <= 16:
        return None
    return {'key': c['key'], 'member_id': str(p.get('member_id', ''))[:36], 'event_id': e.id,
            'coupon': c, 'state': 'issued', 'ended_at': None}


def upgrade() -> None:
    terms = op.create_table(
        'coupon_terms',
        sa.Column('key', sa.String(length=16), nullable=False),
        sa.Column('member_id', sa.String(length=36), nullable=False),
        sa.Column('event_id', sa.String(length=36), nullable=False),
        sa.Column('coupon', sa.JSON(), nullable=False),
        sa.Column('state', sa.String(length=10), nullable=False),
        sa.Column('ended_at', pos_member.db.models.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_coupon_terms')),
    )
    conn = op.get_bind()
    seen: set[str] = set()
    ended: dict[str, tuple[str, datetime]] = {}
    rows: list[dict] = []
    result = conn.execute(
        sa.select(_EVENTS).where(_EVENTS.c.type.in_(
            ('coupon.issued', 'coupon.revoked', 'coupon.expired')))
        .order_by(_EVENTS.c.position).execution_options(yield_per=_BATCH))
    for e in result:
        if e.type == 'coupon.issued':
            row = _issued(e)
            if row is not None and row['key'] not in seen:
                seen.add(row['key'])
                rows.append(row)
            if len(rows) >= _BATCH:
                op.bulk_insert(terms, rows)
                rows = []
            continue
        key = (e.payload if isinstance(e.payload, dict) else {}).get('key')
        if isinstance(key, str) and ended.get(key, ('',))[0] != 'revoked':
            at = e.created_at if isinstance(e.created_at, datetime) else datetime.now(UTC)
            ended[key] = ('revoked' if e.type == 'coupon.revoked' else 'expired', at)
    if rows:
        op.bulk_insert(terms, rows)
    ends = [{'k': k, 's': s, 'at': at} for k, (s, at) in ended.items()]
    for i in range(0, len(ends), _BATCH):
        conn.execute(terms.update().where(terms.c.key == sa.bindparam('k'))
                     .values(state=sa.bindparam('s'), ended_at=sa.bindparam('at')),
                     ends[i:i + _BATCH])


def downgrade() -> None:
    op.drop_table('coupon_terms')
