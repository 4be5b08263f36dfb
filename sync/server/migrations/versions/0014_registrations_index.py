"""A partial index on the event log's registrations, for the new till's snapshot

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04

``GET /v2/snapshot`` (``sync/server/snapshot.py``) reads every ``member.registered`` up to a
position. Without an index on the type it scanned the whole log: fine while the log is mostly
registrations, not over a chain's 200 million events of which 10 million are registrations.
``ix_events_registered`` holds the registrations' positions only (a partial index), so the
read is as large as the directory, not as the log. Nothing stored changes.

On a large PostgreSQL log, building it here holds pushes for the build's length: build it
beforehand while HQ serves, ``CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_events_registered
ON events (position) WHERE type = 'member.registered'``, and this step finds it made
(docs/scale.md).
"""
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

WHERE = "type = 'member.registered'"


def upgrade() -> None:
    op.execute(f"CREATE INDEX IF NOT EXISTS ix_events_registered ON events (position) "
               f"WHERE {WHERE}")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_events_registered")
