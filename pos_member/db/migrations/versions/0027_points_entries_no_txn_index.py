"""points entries without their transaction index: a sale's entries write one index page less

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-04

``ix_points_entries_txn`` (the till transaction id) was written by every points entry and read
by nothing: a transaction id already used is found in ``points_txns`` and ``sales`` (their own
unique indexes), and no till code looks the points ledger up by transaction. A checkout's two
entries (redeemed and earned) landed on it at about 1.15 of its WAL pages (issue 17). The
entries keep their ``txn_id``; an investigation by transaction id scans the table, or finds the
sale (``sales.txn_id``) and reads its member's entries (``ix_points_entries_member_at``).

Nothing else changes.
"""
from alembic import op

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_points_entries_txn', table_name='points_entries')


def downgrade() -> None:
    op.create_index('ix_points_entries_txn', 'points_entries', ['txn_id'])
