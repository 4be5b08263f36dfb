"""device successions: a forked or re-enrolled till sends its unsent events as a new device

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03

A till restored from a backup (or a copied disk) forks from what HQ stores; one revoked and
enrolled again in place gets a new device. Events are immutable, so the unsent ones are not
rewritten: ``event_moves`` gives each its place under the new device (same event id, a new
seq, the payload again when a member number had to change), or records that HQ stored it
already. ``device_successions`` names each device this till was before, and
``device_counters.retired`` stops anything from being written under one of them.
"""
import sqlalchemy as sa
from alembic import op

import pos_member.db.models

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('device_counters') as batch_op:
        batch_op.add_column(sa.Column('retired', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    op.create_table('device_successions',
    sa.Column('device_id', sa.String(length=36), nullable=False),
    sa.Column('successor_id', sa.String(length=36), nullable=False),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('at', pos_member.db.models.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('device_id', name=op.f('pk_device_successions'))
    )
    op.create_table('event_moves',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('from_device_id', sa.String(length=36), nullable=False),
    sa.Column('from_seq', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=8), nullable=False),
    sa.Column('device_id', sa.String(length=36), nullable=True),
    sa.Column('seq', sa.Integer(), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=True),
    sa.Column('at', pos_member.db.models.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_moves')),
    sa.UniqueConstraint('device_id', 'seq', name=op.f('uq_event_moves_device_id'))
    )


def downgrade() -> None:
    op.drop_table('event_moves')
    op.drop_table('device_successions')
    with op.batch_alter_table('device_counters') as batch_op:
        batch_op.drop_column('retired')
