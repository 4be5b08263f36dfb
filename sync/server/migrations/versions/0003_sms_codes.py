"""SMS one-time codes for stored-value payments

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25

One row per SMS challenge (``sync/server/sms.py``): an HMAC of the code, never the code.
"""
import sqlalchemy as sa
from alembic import op

import pos_member.db.models

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sms_codes',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('device_id', sa.String(length=36), nullable=False),
    sa.Column('member_id', sa.String(length=36), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('txn_id', sa.String(length=64), nullable=False),
    sa.Column('salt_hex', sa.String(length=32), nullable=False),
    sa.Column('code_hash_hex', sa.String(length=64), nullable=False),
    sa.Column('sent_at', pos_member.db.models.UtcDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', pos_member.db.models.UtcDateTime(timezone=True), nullable=False),
    sa.Column('tries', sa.Integer(), nullable=False),
    sa.Column('verified_at', pos_member.db.models.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_codes'))
    )
    op.create_index('ix_sms_codes_binding', 'sms_codes', ['member_id', 'txn_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_sms_codes_binding', table_name='sms_codes')
    op.drop_table('sms_codes')
