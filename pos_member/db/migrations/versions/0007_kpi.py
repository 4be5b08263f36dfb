"""kpi: monthly targets, rosters, per-guide daily splits

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25

Recruitment KPIs (issue 7): the store's monthly targets, the shift roster, hand adjustments of a
day's split, and two covering indexes the dashboard reads (registrations and sales per day).
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('kpi_month_targets',
    sa.Column('store_id', sa.String(length=36), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('target', sa.Integer(), nullable=False),
    sa.Column('set_by', sa.String(length=36), nullable=True),
    sa.Column('hlc', sa.String(length=24), nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.PrimaryKeyConstraint('store_id', 'month', name=op.f('pk_kpi_month_targets'))
    )
    op.create_table('kpi_rosters',
    sa.Column('store_id', sa.String(length=36), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('staff_ids', sa.JSON(), nullable=False),
    sa.Column('hlc', sa.String(length=24), nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.PrimaryKeyConstraint('store_id', 'day', name=op.f('pk_kpi_rosters'))
    )
    op.create_table('kpi_split_adjustments',
    sa.Column('store_id', sa.String(length=36), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('targets', sa.JSON(), nullable=False),
    sa.Column('hlc', sa.String(length=24), nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.PrimaryKeyConstraint('store_id', 'day', name=op.f('pk_kpi_split_adjustments'))
    )
    op.create_index('ix_members_store_registered', 'members',
                    ['store_id', 'registered_at', 'guide_id'], unique=False)
    op.create_index('ix_sales_kpi', 'sales',
                    ['store_id', 'business_day', 'guide_id', 'member_id', 'amount_fen',
                     'refunded_fen'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_sales_kpi', table_name='sales')
    op.drop_index('ix_members_store_registered', table_name='members')
    op.drop_table('kpi_split_adjustments')
    op.drop_table('kpi_rosters')
    op.drop_table('kpi_month_targets')
