"""Device successions: forked tills take a new identity, revoked ones are reinstated

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03

``devices`` gains ``retired_at`` (the device's identity was handed to a successor: its token
may only ask for a new identity), ``replaces_device_id`` (the device whose unsent events this
one took over) and ``request_id`` (the till's idempotency key of ``/v1/reidentify``).
``member_no_claims`` keeps the member numbers a successor took over before their
registrations are stored, so two copies of one till never keep one number.
"""
import sqlalchemy as sa
from alembic import op

import pos_member.db.models

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('devices') as batch:
        batch.add_column(sa.Column('retired_at', pos_member.db.models.UtcDateTime(timezone=True),
                                   nullable=True))
        batch.add_column(sa.Column('replaces_device_id', sa.String(length=36), nullable=True))
        batch.add_column(sa.Column('request_id', sa.String(length=36), nullable=True))
    op.create_table('member_no_claims',
    sa.Column('member_no', sa.String(length=32), nullable=False),
    sa.Column('member_id', sa.String(length=36), nullable=False),
    sa.Column('device_id', sa.String(length=36), nullable=False),
    sa.Column('claimed_at', pos_member.db.models.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('member_no', name=op.f('pk_member_no_claims'))
    )


def downgrade() -> None:
    op.drop_table('member_no_claims')
    with op.batch_alter_table('devices') as batch:
        batch.drop_column('request_id')
        batch.drop_column('replaces_device_id')
        batch.drop_column('retired_at')
