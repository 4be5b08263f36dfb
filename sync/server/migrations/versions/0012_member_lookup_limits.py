"""The remote member lookup's limit per device and its audit

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04

Two new tables (``sync/server/lookup_limits.py``): ``lookup_windows`` (a device's lookups in
its current window, one row per device) and ``member_lookups`` (who looked up which member key,
when, and whether the limit refused it). Both start empty; nothing stored changes.
"""
import sqlalchemy as sa
from alembic import op

import pos_member.db.models

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'lookup_windows',
        sa.Column('device_id', sa.String(length=36), nullable=False),
        sa.Column('started_at', pos_member.db.models.UtcDateTime(timezone=True),
                  nullable=False),
        sa.Column('lookups', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('device_id', name=op.f('pk_lookup_windows')),
    )
    op.create_table(
        'member_lookups',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                  autoincrement=True, nullable=False),
        sa.Column('at', pos_member.db.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column('device_id', sa.String(length=36), nullable=False),
        sa.Column('store_id', sa.String(length=36), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('refused', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_member_lookups')),
    )
    op.create_index('ix_member_lookups_device_id_at', 'member_lookups', ['device_id', 'at'])


def downgrade() -> None:
    op.drop_index('ix_member_lookups_device_id_at', table_name='member_lookups')
    op.drop_table('member_lookups')
    op.drop_table('lookup_windows')
