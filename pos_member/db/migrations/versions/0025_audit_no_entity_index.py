"""the audit log without its entity index: a checkout's two audit rows write no index page

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-04

``ix_audit_entity`` (entity, entity id) was written by every audit row and read by nothing: no
till code looks the audit log up by entity (it is appended to, counted by tests and read whole
by whoever investigates). A checkout's two audit rows, the sale's and the member's money, landed
on two leaves of it — about 2.7 of a checkout's 55.6 WAL pages (issue 17). The rows themselves
are kept as they are; an investigator reading one member's or one sale's history scans the
table, or follows ``ix_events_entity`` to the events and their ``event_id``.

Nothing else changes.
"""
from alembic import op

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_audit_entity', table_name='audit_log')


def downgrade() -> None:
    op.create_index('ix_audit_entity', 'audit_log', ['entity', 'entity_id'])
