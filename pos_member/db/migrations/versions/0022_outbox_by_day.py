"""outbox by day: an index on the notification outbox's time, kind and member

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04

A job that tells many members (the birthday and win-back triggers, ``coupon_triggers``) first
counts today's marketing messages per member (``coupon_notices.marketed_today``): it scanned
the whole outbox (a year of a busy store's messages, 400,000 rows: about 270 ms a run). The
index begins with the time, so the day is a range, and holds the kind and member, so the count
reads the index alone (docs/benchmarks.md). It does not begin with the member, so the
per-member count keeps ``ix_notification_outbox_member`` (0020). Built over the rows the till
already holds; nothing else changes.
"""
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_notification_outbox_day', 'notification_outbox',
                    ['created_at', 'kind', 'member_id'])


def downgrade() -> None:
    op.drop_index('ix_notification_outbox_day', table_name='notification_outbox')
