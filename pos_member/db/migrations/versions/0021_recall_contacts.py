"""recall contacts: the members a recall campaign's plain message went to (issue 19)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04

A new table ``recall_contacts`` (campaign, member, store, message kind, when), filled here from
the ``member.recall_messaged`` events this till recorded before it (the messages sent from the
recall list since they were added), so their campaigns' 召回率 is measured from the start.
Nothing existing changes.
"""
import sqlalchemy as sa
from alembic import op

import pos_member.db.models

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'recall_contacts',
        sa.Column('campaign', sa.String(length=16), nullable=False),
        sa.Column('member_id', sa.String(length=36), nullable=False),
        sa.Column('store_id', sa.String(length=36), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('contacted_at', pos_member.db.models.UtcDateTime(timezone=True),
                  nullable=False),
        sa.PrimaryKeyConstraint('campaign', 'member_id', name=op.f('pk_recall_contacts')),
    )
    op.execute(
        "INSERT OR IGNORE INTO recall_contacts (campaign, member_id, store_id, kind, "
        "contacted_at) SELECT json_extract(payload, '$.campaign'), entity_id, store_id, "
        "json_extract(payload, '$.kind'), created_at FROM events "
        "WHERE type = 'member.recall_messaged'")


def downgrade() -> None:
    op.drop_table('recall_contacts')
