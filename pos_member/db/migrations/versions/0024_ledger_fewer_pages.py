"""stored-value ledger, fewer index pages a payment: the refunds' index holds refunds alone, the
member's day index goes

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-04

Every ``sv_ledger`` row (a checkout's payment, a top-up) wrote a page of each of its six
indexes (issue 17: the commit's pages are half a checkout's time). Two of them need not:

- ``ix_sv_ledger_ref_txn`` indexed every row, though only a refund names the operation it
  refunds (``ref_txn_id``; NULL on payments and top-ups). It is now partial (``WHERE
  ref_txn_id IS NOT NULL``): the look-ups ``ref_txn_id = ?`` use it as before.
- ``ix_sv_ledger_member_day`` (member, business day) served one query, the offline cap's
  "paid offline on this till today" (``offline_spent_today``), which now reads the member's
  rows of the last two days through ``ix_sv_ledger_member_at`` (member, time) and keeps its
  business-day condition: the same rows.

Built over the rows the till already holds; nothing else changes.
"""
import sqlalchemy as sa
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_sv_ledger_ref_txn', table_name='sv_ledger')
    op.create_index('ix_sv_ledger_ref_txn', 'sv_ledger', ['ref_txn_id'],
                    sqlite_where=sa.text('ref_txn_id IS NOT NULL'))
    op.drop_index('ix_sv_ledger_member_day', table_name='sv_ledger')


def downgrade() -> None:
    op.create_index('ix_sv_ledger_member_day', 'sv_ledger', ['member_id', 'business_day'])
    op.drop_index('ix_sv_ledger_ref_txn', table_name='sv_ledger')
    op.create_index('ix_sv_ledger_ref_txn', 'sv_ledger', ['ref_txn_id'])
