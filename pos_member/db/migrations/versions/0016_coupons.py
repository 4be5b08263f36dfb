"""coupons: a member's coupons, their ledger, HQ's coupon blocks (issue 18)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04

Three new tables: ``coupons`` (one row per coupon: its key, member, terms as issued, validity,
state, the trigger that issued it), ``coupon_entries`` (its life, one row per event) and
``coupon_blocks`` (members whose coupon use HQ blocked). Nothing existing changes; a till of
0015 has issued no coupon, so they start empty.
"""
import sqlalchemy as sa
from alembic import op

import pos_member.db.models

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def _at() -> sa.types.TypeEngine:
    return pos_member.db.models.UtcDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'coupons',
        sa.Column('key', sa.String(length=16), nullable=False),
        sa.Column('member_id', sa.String(length=36), nullable=False),
        sa.Column('template', sa.String(length=32), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('terms', sa.JSON(), nullable=False),
        sa.Column('valid_from', _at(), nullable=False),
        sa.Column('valid_until', _at(), nullable=False),
        sa.Column('state', sa.String(length=10), nullable=False),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('trigger_key', sa.String(length=80), nullable=True),
        sa.Column('issued_at', _at(), nullable=False),
        sa.Column('store_id', sa.String(length=36), nullable=False),
        sa.Column('device_id', sa.String(length=36), nullable=False),
        sa.Column('sale_id', sa.String(length=36), nullable=True),
        sa.Column('used_at', _at(), nullable=True),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_coupons')),
        sa.UniqueConstraint('trigger_key', name=op.f('uq_coupons_trigger_key')),
    )
    op.create_index('ix_coupons_member_state', 'coupons', ['member_id', 'state'], unique=False)
    op.create_table(
        'coupon_entries',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('key', sa.String(length=16), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('at', _at(), nullable=False),
        sa.Column('store_id', sa.String(length=36), nullable=False),
        sa.Column('sale_id', sa.String(length=36), nullable=True),
        sa.Column('discount_fen', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_coupon_entries')),
    )
    op.create_index(op.f('ix_coupon_entries_key'), 'coupon_entries', ['key'], unique=False)
    op.create_table(
        'coupon_blocks',
        sa.Column('member_id', sa.String(length=36), nullable=False),
        sa.Column('flag_id', sa.String(length=36), nullable=True),
        sa.Column('blocked_at', _at(), nullable=False),
        sa.PrimaryKeyConstraint('member_id', name=op.f('pk_coupon_blocks')),
    )


def downgrade() -> None:
    op.drop_table('coupon_blocks')
    op.drop_index(op.f('ix_coupon_entries_key'), table_name='coupon_entries')
    op.drop_table('coupon_entries')
    op.drop_index('ix_coupons_member_state', table_name='coupons')
    op.drop_table('coupons')
