"""HQ's reporting copy of the ledgers for the programme-health report (issue 19)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04

Four new tables named and shaped like the till's (``members``, ``sales``, ``points_entries``,
``sv_ledger``), filled from the event log by ``sync/server/insight.py`` (its position kept in
``chain_settings``). They start empty: the first report (or ``insight-refresh``) reads the
whole log into them. Nothing stored changes.
"""
import sqlalchemy as sa
from alembic import op

import pos_member.db.models

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def _at() -> sa.types.TypeEngine:
    return pos_member.db.models.UtcDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'members',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('store_id', sa.String(length=36), nullable=False),
        sa.Column('tier', sa.String(length=32), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('registered_at', _at(), nullable=False),
        sa.Column('merged_into', sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_members')),
    )
    op.create_index('ix_members_store_id_registered_at', 'members',
                    ['store_id', 'registered_at'])
    op.create_table(
        'sales',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('store_id', sa.String(length=36), nullable=False),
        sa.Column('member_id', sa.String(length=36), nullable=True),
        sa.Column('amount_fen', sa.BigInteger(), nullable=False),
        sa.Column('refunded_fen', sa.BigInteger(), nullable=False),
        sa.Column('sold_at', _at(), nullable=False),
        sa.Column('business_day', sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sales')),
    )
    op.create_index('ix_sales_member_sold', 'sales', ['member_id', 'sold_at'])
    op.create_index('ix_sales_store_day', 'sales', ['store_id', 'business_day'])
    op.create_table(
        'points_entries',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('member_id', sa.String(length=36), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('points', sa.BigInteger(), nullable=False),
        sa.Column('at', _at(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_points_entries')),
    )
    op.create_index('ix_points_entries_member_at', 'points_entries', ['member_id', 'at'])
    op.create_table(
        'sv_ledger',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('member_id', sa.String(length=36), nullable=False),
        sa.Column('principal_delta_fen', sa.BigInteger(), nullable=False),
        sa.Column('bonus_delta_fen', sa.BigInteger(), nullable=False),
        sa.Column('business_day', sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sv_ledger')),
    )
    op.create_index('ix_sv_ledger_member_day', 'sv_ledger', ['member_id', 'business_day'])


def downgrade() -> None:
    for table, index in (('sv_ledger', 'ix_sv_ledger_member_day'),
                         ('points_entries', 'ix_points_entries_member_at'),
                         ('sales', 'ix_sales_store_day'), ('sales', 'ix_sales_member_sold'),
                         ('members', 'ix_members_store_id_registered_at')):
        op.drop_index(index, table_name=table)
    for table in ('sv_ledger', 'points_entries', 'sales', 'members'):
        op.drop_table(table)
    op.execute("DELETE FROM chain_settings WHERE key = 'insight_position'")
