"""pos bills: what the main POS reported of its sales and refunds (issue 16)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04

Two new tables beside ``sales``: ``pos_bills`` (a reported sale's lines, tenders, the POS's
transaction id and time) and ``pos_refunds`` (a reported refund's lines and first answer).
Nothing existing changes; a till of 0011 has no reported bills, so both start empty.
"""
import sqlalchemy as sa
from alembic import op

import pos_member.db.models

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('pos_bills',
    sa.Column('sale_id', sa.String(length=36), nullable=False),
    sa.Column('pos_txn_id', sa.String(length=64), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.Column('pos_time', sa.String(length=40), nullable=False),
    sa.Column('lines', sa.JSON(), nullable=False),
    sa.Column('tenders', sa.JSON(), nullable=False),
    sa.Column('received_at', pos_member.db.models.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('sale_id', name=op.f('pk_pos_bills')),
    sa.UniqueConstraint('pos_txn_id', name=op.f('uq_pos_bills_pos_txn_id'))
    )
    op.create_table('pos_refunds',
    sa.Column('pos_txn_id', sa.String(length=64), nullable=False),
    sa.Column('sale_id', sa.String(length=36), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.Column('lines', sa.JSON(), nullable=False),
    sa.Column('refund_fen', sa.Integer(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.Column('received_at', pos_member.db.models.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('pos_txn_id', name=op.f('pk_pos_refunds'))
    )
    with op.batch_alter_table('pos_refunds') as batch_op:
        batch_op.create_index(batch_op.f('ix_pos_refunds_sale_id'), ['sale_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('pos_refunds') as batch_op:
        batch_op.drop_index(batch_op.f('ix_pos_refunds_sale_id'))
    op.drop_table('pos_refunds')
    op.drop_table('pos_bills')
