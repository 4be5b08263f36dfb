"""Coupons' terms by member: the remote member lookup answers the member's usable coupons

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04

One index, ``ix_coupon_terms_member_id``: HQ's member lookup reads a member's coupons
(``sync/server/member_cards.py``) so another store's till keeps them for offline. Nothing stored
changes.
"""
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('coupon_terms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coupon_terms_member_id'), ['member_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('coupon_terms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_coupon_terms_member_id'))
