"""HQ's programme-health report: each member's purchase days

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04

``members.purchase_days`` in the reporting copy (0013): the business days of the member's
purchases (sales not wholly refunded), ascending, once each, so the churn figures find a
member's last purchase before a period without reading a year of sales
(``sync/server/insight.py``). Filled here from the copy's sales on PostgreSQL, where the report
reads it; the refresh keeps it from then on.
"""
import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('members', sa.Column(
        'purchase_days', sa.ARRAY(sa.Date()).with_variant(sa.JSON(), 'sqlite'), nullable=True))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("UPDATE members m SET purchase_days = g.d FROM ("
                   "SELECT member_id, array_agg(DISTINCT business_day ORDER BY business_day) AS d "
                   "FROM sales WHERE member_id IS NOT NULL AND refunded_fen < amount_fen "
                   "GROUP BY member_id) g WHERE g.member_id = m.id")


def downgrade() -> None:
    with op.batch_alter_table('members') as batch_op:
        batch_op.drop_column('purchase_days')
