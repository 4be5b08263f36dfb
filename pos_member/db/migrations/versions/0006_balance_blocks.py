"""sync: balance blocks and server flags pulled to the till

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25

Reserved for the sync work (issue 4); fill in upgrade/downgrade with that work's tables.
"""
import sqlalchemy as sa
from alembic import op

import pos_member.db.models

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('balance_blocks',
    sa.Column('member_id', sa.String(length=36), nullable=False),
    sa.Column('balance_fen', sa.Integer(), nullable=False),
    sa.Column('flag_id', sa.String(length=36), nullable=True),
    sa.Column('blocked_at', pos_member.db.models.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('member_id', name=op.f('pk_balance_blocks'))
    )


def downgrade() -> None:
    op.drop_table('balance_blocks')
