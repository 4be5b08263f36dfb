"""stored value: ledgers, member PINs, TOTP, notifications outbox

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

import pos_member.db.models

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('notification_outbox',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('member_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('dedupe_key', sa.String(length=160), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', pos_member.db.models.UtcDateTime(timezone=True), nullable=False),
    sa.Column('created_at', pos_member.db.models.UtcDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', pos_member.db.models.UtcDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_outbox')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_notification_outbox_dedupe_key'))
    )
    op.create_index('ix_notification_outbox_due', 'notification_outbox', ['status', 'next_attempt_at'], unique=False)
    op.create_table('sv_accounts',
    sa.Column('member_id', sa.String(length=36), nullable=False),
    sa.Column('principal_fen', sa.Integer(), nullable=False),
    sa.Column('bonus_fen', sa.Integer(), nullable=False),
    sa.Column('topups', sa.Integer(), nullable=False),
    sa.Column('frozen', sa.Boolean(), nullable=False),
    sa.Column('frozen_hlc', sa.String(length=24), nullable=True),
    sa.Column('updated_at', pos_member.db.models.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('member_id', name=op.f('pk_sv_accounts'))
    )
    op.create_table('sv_credentials',
    sa.Column('member_id', sa.String(length=36), nullable=False),
    sa.Column('pin_hash', sa.String(length=200), nullable=True),
    sa.Column('pin_hlc', sa.String(length=24), nullable=True),
    sa.Column('pin_failures', sa.Integer(), nullable=False),
    sa.Column('pin_locked_until', pos_member.db.models.UtcDateTime(timezone=True), nullable=True),
    sa.Column('totp_secret_enc', sa.LargeBinary(), nullable=True),
    sa.Column('totp_hlc', sa.String(length=24), nullable=True),
    sa.Column('totp_last_step', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('member_id', name=op.f('pk_sv_credentials'))
    )
    op.create_table('sv_ledger',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('member_id', sa.String(length=36), nullable=False),
    sa.Column('txn_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('principal_delta_fen', sa.Integer(), nullable=False),
    sa.Column('bonus_delta_fen', sa.Integer(), nullable=False),
    sa.Column('cash_fen', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=True),
    sa.Column('method_ref', sa.String(length=64), nullable=True),
    sa.Column('factor', sa.String(length=8), nullable=True),
    sa.Column('approved_by', sa.String(length=36), nullable=True),
    sa.Column('ref_txn_id', sa.String(length=64), nullable=True),
    sa.Column('offline', sa.Boolean(), nullable=False),
    sa.Column('store_id', sa.String(length=36), nullable=False),
    sa.Column('device_id', sa.String(length=36), nullable=False),
    sa.Column('clerk_id', sa.String(length=36), nullable=True),
    sa.Column('at', pos_member.db.models.UtcDateTime(timezone=True), nullable=False),
    sa.Column('business_day', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sv_ledger')),
    sa.UniqueConstraint('txn_id', name=op.f('uq_sv_ledger_txn_id'))
    )
    op.create_index('ix_sv_ledger_day', 'sv_ledger', ['business_day'], unique=False)
    op.create_index('ix_sv_ledger_member_at', 'sv_ledger', ['member_id', 'at'], unique=False)
    op.create_index('ix_sv_ledger_member_day', 'sv_ledger', ['member_id', 'business_day'], unique=False)
    op.create_index('ix_sv_ledger_ref_txn', 'sv_ledger', ['ref_txn_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_sv_ledger_ref_txn', table_name='sv_ledger')
    op.drop_index('ix_sv_ledger_member_day', table_name='sv_ledger')
    op.drop_index('ix_sv_ledger_member_at', table_name='sv_ledger')
    op.drop_index('ix_sv_ledger_day', table_name='sv_ledger')
    op.drop_table('sv_ledger')
    op.drop_table('sv_credentials')
    op.drop_table('sv_accounts')
    op.drop_index('ix_notification_outbox_due', table_name='notification_outbox')
    op.drop_table('notification_outbox')
