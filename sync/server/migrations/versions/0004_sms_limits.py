"""SMS code limits: the phone and store each code went to

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03

HQ limits SMS codes per member phone, per device and per store (``sync/server/sms_limits.py``),
counting what it sent: each ``sms_codes`` row now keeps the phone's blind index and the
device's store, and ``member_index`` is searchable by member. Existing rows get their store
from ``devices`` and their phone from ``member_index`` (through ``member_redirects`` for a
merged member); a row whose member HQ never saw registered keeps no phone.
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sms_codes') as batch:
        batch.add_column(sa.Column('store_id', sa.String(length=36), nullable=True))
        batch.add_column(sa.Column('phone_index', sa.String(length=64), nullable=True))
    op.execute(
        "UPDATE sms_codes SET store_id = "
        "(SELECT devices.store_id FROM devices WHERE devices.id = sms_codes.device_id)")
    op.execute(
        "UPDATE sms_codes SET phone_index = (SELECT member_index.phone_index FROM member_index "
        "WHERE member_index.member_id = COALESCE((SELECT member_redirects.winner_member_id "
        "FROM member_redirects WHERE member_redirects.loser_member_id = sms_codes.member_id), "
        "sms_codes.member_id))")
    op.create_index('ix_sms_codes_phone_index_sent_at', 'sms_codes', ['phone_index', 'sent_at'])
    op.create_index('ix_sms_codes_device_id_sent_at', 'sms_codes', ['device_id', 'sent_at'])
    op.create_index('ix_sms_codes_store_id_sent_at', 'sms_codes', ['store_id', 'sent_at'])
    op.create_index(op.f('ix_member_index_member_id'), 'member_index', ['member_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_member_index_member_id'), table_name='member_index')
    op.drop_index('ix_sms_codes_store_id_sent_at', table_name='sms_codes')
    op.drop_index('ix_sms_codes_device_id_sent_at', table_name='sms_codes')
    op.drop_index('ix_sms_codes_phone_index_sent_at', table_name='sms_codes')
    with op.batch_alter_table('sms_codes') as batch:
        batch.drop_column('phone_index')
        batch.drop_column('store_id')
