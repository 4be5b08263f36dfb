"""points: ledger, lots, tiers

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25

Points and tiers (issue 5): the points ledger, its lots, the balance and tier bookkeeping per
member, the points side of each sale, and the results of one-operation-one-effect requests.
"""
import sqlalchemy as sa
from alembic import op

import pos_member.db.models

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('points_entries',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('member_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('txn_id', sa.String(length=36), nullable=True),
    sa.Column('sale_id', sa.String(length=36), nullable=True),
    sa.Column('bill_no', sa.String(length=40), nullable=True),
    sa.Column('store_id', sa.String(length=36), nullable=False),
    sa.Column('device_id', sa.String(length=36), nullable=False),
    sa.Column('clerk_id', sa.String(length=36), nullable=True),
    sa.Column('at', pos_member.db.models.UtcDateTime(timezone=True), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('event_id', sa.String(length=36), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_points_entries'))
    )
    op.create_index('ix_points_entries_member_at', 'points_entries', ['member_id', 'at'],
                    unique=False)
    op.create_index('ix_points_entries_txn', 'points_entries', ['txn_id'], unique=False)
    op.create_table('points_lots',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('member_id', sa.String(length=36), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('remaining', sa.Integer(), nullable=False),
    sa.Column('earned_at', pos_member.db.models.UtcDateTime(timezone=True), nullable=False),
    sa.Column('available_at', pos_member.db.models.UtcDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', pos_member.db.models.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_points_lots'))
    )
    op.create_index('ix_points_lots_due', 'points_lots', ['expires_at'], unique=False,
                    sqlite_where=sa.text('remaining > 0'))
    op.create_index('ix_points_lots_member_open', 'points_lots', ['member_id', 'expires_at'],
                    unique=False, sqlite_where=sa.text('remaining > 0'))
    op.create_table('points_accounts',
    sa.Column('member_id', sa.String(length=36), nullable=False),
    sa.Column('balance', sa.Integer(), nullable=False),
    sa.Column('tier_since', pos_member.db.models.UtcDateTime(timezone=True), nullable=True),
    sa.Column('tier_hlc', sa.String(length=24), nullable=True),
    sa.PrimaryKeyConstraint('member_id', name=op.f('pk_points_accounts'))
    )
    op.create_table('sale_points',
    sa.Column('sale_id', sa.String(length=36), nullable=False),
    sa.Column('member_id', sa.String(length=36), nullable=False),
    sa.Column('bill_fen', sa.Integer(), nullable=False),
    sa.Column('redeem_points', sa.Integer(), nullable=False),
    sa.Column('redeem_fen', sa.Integer(), nullable=False),
    sa.Column('earned', sa.Integer(), nullable=False),
    sa.Column('clawed', sa.Integer(), nullable=False),
    sa.Column('restored', sa.Integer(), nullable=False),
    sa.Column('redeem_lots', sa.JSON(), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('sale_id', name=op.f('pk_sale_points'))
    )
    op.create_table('points_txns',
    sa.Column('txn_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('member_id', sa.String(length=36), nullable=True),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.Column('at', pos_member.db.models.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('txn_id', name=op.f('pk_points_txns'))
    )


def downgrade() -> None:
    op.drop_table('points_txns')
    op.drop_table('sale_points')
    op.drop_table('points_accounts')
    op.drop_index('ix_points_lots_member_open', table_name='points_lots')
    op.drop_index('ix_points_lots_due', table_name='points_lots')
    op.drop_table('points_lots')
    op.drop_index('ix_points_entries_txn', table_name='points_entries')
    op.drop_index('ix_points_entries_member_at', table_name='points_entries')
    op.drop_table('points_entries')
