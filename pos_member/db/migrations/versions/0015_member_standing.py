"""member standing: status, card generation, a tier set by hand, erasure (issue 20)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04

``member_standing`` (``services/member_standing.py``): one row per member a service action
touched. Nothing existing changes: every member is "normal", on their first card.
"""
import sqlalchemy as sa
from alembic import op

from pos_member.db.models.base import UtcDateTime

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'member_standing',
        sa.Column('member_id', sa.String(length=36), nullable=False),
        sa.Column('member_no', sa.String(length=20), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('reason', sa.String(length=200), nullable=True),
        sa.Column('status_hlc', sa.String(length=24), nullable=False),
        sa.Column('card_generation', sa.Integer(), nullable=False),
        sa.Column('tier_override', sa.String(length=16), nullable=True),
        sa.Column('tier_until', UtcDateTime(), nullable=True),
        sa.Column('tier_hlc', sa.String(length=24), nullable=False),
        sa.Column('phone_hlc', sa.String(length=24), nullable=False),
        sa.Column('erased', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('member_id', name=op.f('pk_member_standing')),
    )
    op.create_index(op.f('ix_member_standing_member_no'), 'member_standing', ['member_no'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_member_standing_member_no'), table_name='member_standing')
    op.drop_table('member_standing')
