"""ledger clerk names: who served the member, on lines made at other stores

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

A member's points and stored-value ledgers name the clerk of each line. Other stores' staff are
not on this till (their events stay in their store), so each line carries the clerk's name as
the till that made it knew it. Lines made before this revision have none (shown "—" there).
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('points_entries') as batch_op:
        batch_op.add_column(sa.Column('clerk_name', sa.String(length=60), nullable=True))
    with op.batch_alter_table('sv_ledger') as batch_op:
        batch_op.add_column(sa.Column('clerk_name', sa.String(length=60), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sv_ledger') as batch_op:
        batch_op.drop_column('clerk_name')
    with op.batch_alter_table('points_entries') as batch_op:
        batch_op.drop_column('clerk_name')
