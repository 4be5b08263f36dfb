"""sales: the till's sale records (points, rolling spend, recruitment KPIs)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

import pos_member.db.models

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sales',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('txn_id', sa.String(length=36), nullable=False),
    sa.Column('store_id', sa.String(length=36), nullable=False),
    sa.Column('device_id', sa.String(length=36), nullable=False),
    sa.Column('bill_no', sa.String(length=32), nullable=False),
    sa.Column('amount_fen', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.String(length=36), nullable=True),
    sa.Column('clerk_id', sa.String(length=36), nullable=True),
    sa.Column('guide_id', sa.String(length=36), nullable=True),
    sa.Column('categories', sa.JSON(), nullable=False),
    sa.Column('sold_at', pos_member.db.models.UtcDateTime(timezone=True), nullable=False),
    sa.Column('business_day', sa.Date(), nullable=False),
    sa.Column('refunded_fen', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales')),
    sa.UniqueConstraint('store_id', 'bill_no', name=op.f('uq_sales_store_id')),
    sa.UniqueConstraint('txn_id', name=op.f('uq_sales_txn_id'))
    )
    op.create_index('ix_sales_store_day', 'sales', ['store_id', 'business_day'], unique=False)
    op.create_index('ix_sales_member_sold', 'sales', ['member_id', 'sold_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_sales_member_sold', table_name='sales')
    op.drop_index('ix_sales_store_day', table_name='sales')
    op.drop_table('sales')
