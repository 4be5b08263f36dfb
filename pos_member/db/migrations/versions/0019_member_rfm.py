"""member rfm: each member's recency, frequency and money, kept beside the sales (issue 19)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04

A new table ``member_rfm``, filled here from the till's sales (one row per member who has a
sale: the last purchase's business day, purchases not wholly refunded, what they paid net of
refunds). The scores stay empty until the till's first nightly run (``services/rfm.py``), at
its next start. Nothing existing changes.
"""
import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'member_rfm',
        sa.Column('member_id', sa.String(length=36), nullable=False),
        sa.Column('last_day', sa.Date(), nullable=True),
        sa.Column('purchases', sa.Integer(), nullable=False),
        sa.Column('spend_fen', sa.Integer(), nullable=False),
        sa.Column('r', sa.Integer(), nullable=True),
        sa.Column('f', sa.Integer(), nullable=True),
        sa.Column('m', sa.Integer(), nullable=True),
        sa.Column('segment', sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint('member_id', name=op.f('pk_member_rfm')),
    )
    op.execute(
        "INSERT INTO member_rfm (member_id, last_day, purchases, spend_fen) "
        "SELECT member_id, "
        "MAX(CASE WHEN refunded_fen < amount_fen THEN business_day END), "
        "SUM(CASE WHEN refunded_fen < amount_fen THEN 1 ELSE 0 END), "
        "SUM(amount_fen - refunded_fen) "
        "FROM sales WHERE member_id IS NOT NULL GROUP BY member_id")


def downgrade() -> None:
    op.drop_table('member_rfm')
