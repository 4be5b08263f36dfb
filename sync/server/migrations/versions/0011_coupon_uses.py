"""Coupons redeemed chain-wide: the bill each coupon was redeemed on (issue 18)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04

One new table, ``coupon_uses`` (coupon key → the member, sale, bill, store and event that
redeemed it): a second redemption of one key is flagged at ingest (``sync/server/coupons.py``).
Filled from the ``coupon.redeemed`` and ``coupon.returned`` events already stored, in
position order, as ingest would have (the first redemption of a key kept; a return frees it).
Nothing stored changes.
"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import pos_member.db.models

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

_EVENTS = sa.table('events', sa.column('position', sa.BigInteger), sa.column('id', sa.String),
                   sa.column('store_id', sa.String), sa.column('type', sa.String),
                   sa.column('payload', sa.JSON), sa.column('created_at', pos_member.db.models.UtcDateTime(timezone=True)))


def upgrade() -> None:
    uses = op.create_table(
        'coupon_uses',
        sa.Column('key', sa.String(length=16), nullable=False),
        sa.Column('member_id', sa.String(length=36), nullable=False),
        sa.Column('sale_id', sa.String(length=36), nullable=False),
        sa.Column('bill_no', sa.String(length=64), nullable=False),
        sa.Column('store_id', sa.String(length=36), nullable=False),
        sa.Column('event_id', sa.String(length=36), nullable=False),
        sa.Column('used_at', pos_member.db.models.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_coupon_uses')),
    )
    conn = op.get_bind()
    rows: dict[str, dict] = {}
    for e in conn.execute(sa.select(_EVENTS).where(
            _EVENTS.c.type.in_(('coupon.redeemed', 'coupon.returned')))
            .order_by(_EVENTS.c.position)):
        p = e.payload if isinstance(e.payload, dict) else {}
        key, sale = p.get('key'), p.get('sale_id')
        if not (isinstance(key, str) and isinstance(sale, str)):
            continue
        if e.type == 'coupon.returned':
            if key in rows and rows[key]['sale_id'] == sale:
                del rows[key]
        elif key not in rows:
            at = e.created_at if isinstance(e.created_at, datetime) else datetime.now(UTC)
            rows[key] = {'key': key, 'member_id': str(p.get('member_id', ''))[:36],
                         'sale_id': sale, 'bill_no': str(p.get('bill_no', ''))[:64],
                         'store_id': e.store_id, 'event_id': e.id, 'used_at': at}
    if rows:
        op.bulk_insert(uses, list(rows.values()))


def downgrade() -> None:
    op.drop_table('coupon_uses')
