"""fewer index pages a sale: the events' device index by time alone, one sales index less

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04

A checkout's commit writes every index page its rows touch (issue 17: about 63 pages of WAL,
half its time). Two indexes cost pages for nothing:

- ``ix_events_device_type_created`` (device, type, time) put each of a transaction's events
  under its own type, a page apart (about 3 pages a checkout). ``ix_events_device_created``
  (device, time) keeps a transaction's events side by side at the end of the device's range;
  the registration limit (this device's ``member.registered`` of the last 10 minutes) reads
  that range and checks the type, and the day report's count of the device's events of a day
  is a range of it.
- ``ix_sales_store_day`` (store, day) is the start of ``ix_sales_kpi`` (store, day, guide,
  member, amount, refunded, 0007), which serves every query it served.

Built over the rows the till already holds; nothing else changes.
"""
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_events_device_type_created', table_name='events')
    op.create_index('ix_events_device_created', 'events', ['device_id', 'created_at'])
    op.drop_index('ix_sales_store_day', table_name='sales')


def downgrade() -> None:
    op.create_index('ix_sales_store_day', 'sales', ['store_id', 'business_day'])
    op.drop_index('ix_events_device_created', table_name='events')
    op.create_index('ix_events_device_type_created', 'events',
                    ['device_id', 'type', 'created_at'])
