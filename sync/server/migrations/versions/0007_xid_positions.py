"""Log positions from the writing transaction's id (PostgreSQL)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04

On PostgreSQL a new event's position is ``(txid + offset) << 20 | k``: the writing
transaction's id (``pg_current_xact_id()``), then the row's ordinal in that transaction. A pull
reads only below ``(xmin + offset) << 20``, the oldest transaction still running in its
snapshot. Two functions hold the formula (``log_position_base()``, ``log_position_bound()``),
so the code and a hot standby read the same one.

The positions already stored are small integers (``max(position) + 1``) and stay as they are.
``offset`` is 0 when they all lie below the current transaction's ``txid << 20`` (every
database with fewer than about a million events per transaction ever run); otherwise it is
the smallest that puts every new position above them, and it is kept in ``chain_settings``
(``log_position_xid_offset``) and written into both functions. SQLite is unchanged (one
writer, ``max(position) + 1``).
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

XID_SHIFT = 20  # as sync.server.log.XID_SHIFT (a migration keeps its own copy)
SETTING = 'log_position_xid_offset'
_SETTINGS = sa.table('chain_settings', sa.column('key', sa.String), sa.column('value', sa.Text))


def xid_offset(current_txid: int, max_position: int) -> int:
    """The smallest offset that puts ``(txid + offset) << 20`` above ``max_position`` for
    this and every later transaction id."""
    if max_position < current_txid << XID_SHIFT:
        return 0
    return (max_position >> XID_SHIFT) + 1 - current_txid


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != 'postgresql':
        return
    txid = conn.execute(sa.text('SELECT pg_current_xact_id()::text::bigint')).scalar_one()
    top = conn.execute(sa.text('SELECT coalesce(max(position), 0) FROM events')).scalar_one()
    offset = xid_offset(int(txid), int(top))
    conn.execute(sa.delete(_SETTINGS).where(_SETTINGS.c.key == SETTING))
    conn.execute(sa.insert(_SETTINGS).values(key=SETTING, value=str(offset)))
    op.execute(
        'CREATE OR REPLACE FUNCTION log_position_base() RETURNS bigint LANGUAGE sql VOLATILE'
        f' AS $$ SELECT (pg_current_xact_id()::text::bigint + {offset}) << {XID_SHIFT} $$')
    op.execute(
        'CREATE OR REPLACE FUNCTION log_position_bound() RETURNS bigint LANGUAGE sql STABLE'
        ' AS $$ SELECT (pg_snapshot_xmin(pg_current_snapshot())::text::bigint'
        f' + {offset}) << {XID_SHIFT} $$')


def downgrade() -> None:
    """Positions stay; the next writer of the older schema continues at ``max + 1``."""
    conn = op.get_bind()
    if conn.dialect.name != 'postgresql':
        return
    op.execute('DROP FUNCTION IF EXISTS log_position_bound()')
    op.execute('DROP FUNCTION IF EXISTS log_position_base()')
    conn.execute(sa.delete(_SETTINGS).where(_SETTINGS.c.key == SETTING))
