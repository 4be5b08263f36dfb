"""balances per member and overdraw blocks

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

Chain-wide stored value per member (``member_balances``) and the merges that move a loser's
balance to its winner (``member_redirects``): see ``sync/server/balances.py``.
"""
import sqlalchemy as sa
from alembic import op

import pos_member.db.models

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('member_balances',
    sa.Column('member_id', sa.String(length=36), nullable=False),
    sa.Column('balance_fen', sa.BigInteger(), nullable=False),
    sa.Column('settled_fen', sa.BigInteger(), nullable=False),
    sa.Column('flag_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', pos_member.db.models.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('member_id', name=op.f('pk_member_balances'))
    )
    op.create_table('member_redirects',
    sa.Column('loser_member_id', sa.String(length=36), nullable=False),
    sa.Column('winner_member_id', sa.String(length=36), nullable=False),
    sa.PrimaryKeyConstraint('loser_member_id', name=op.f('pk_member_redirects'))
    )
    with op.batch_alter_table('member_redirects', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_member_redirects_winner_member_id'),
                              ['winner_member_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('member_redirects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_member_redirects_winner_member_id'))
    op.drop_table('member_redirects')
    op.drop_table('member_balances')
