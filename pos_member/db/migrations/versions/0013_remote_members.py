"""remote members: HQ's last answer about another store's member (issue 14)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04

One new table, ``remote_members``: the remote lookup's answers (card, chain-wide balances, the
HQ position they reflect), cached for offline scans and the offline spending cap. Nothing
existing changes; a till of 0012 has asked HQ nothing, so it starts empty.
"""
import sqlalchemy as sa
from alembic import op

import pos_member.db.models

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('remote_members',
    sa.Column('member_id', sa.String(length=36), nullable=False),
    sa.Column('member_no', sa.String(length=32), nullable=False),
    sa.Column('lookup_key', sa.String(length=64), nullable=False),
    sa.Column('store_id', sa.String(length=36), nullable=True),
    sa.Column('card', sa.JSON(), nullable=False),
    sa.Column('balance_fen', sa.BigInteger(), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('blocked', sa.Boolean(), nullable=False),
    sa.Column('hq_position', sa.BigInteger(), nullable=False),
    sa.Column('hq_as_of', pos_member.db.models.UtcDateTime(timezone=True), nullable=False),
    sa.Column('fetched_at', pos_member.db.models.UtcDateTime(timezone=True), nullable=False),
    sa.Column('acked_seq', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('member_id', name=op.f('pk_remote_members'))
    )
    with op.batch_alter_table('remote_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_remote_members_lookup_key'), ['lookup_key'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_remote_members_member_no'), ['member_no'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('remote_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_remote_members_member_no'))
        batch_op.drop_index(batch_op.f('ix_remote_members_lookup_key'))
    op.drop_table('remote_members')
