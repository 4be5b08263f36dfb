"""Member import and export at HQ (issue 20)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04

``member_imports`` (one row per imported file: its batches, for resuming and for not importing
a file twice) and ``hq_audit`` (an export that revealed personal data). New tables only.
"""
import sqlalchemy as sa
from alembic import op

from pos_member.db.models import UtcDateTime

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'member_imports',
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('store_id', sa.String(length=36), nullable=False),
        sa.Column('file_name', sa.String(length=200), nullable=False),
        sa.Column('rows', sa.Integer(), nullable=False),
        sa.Column('rejected', sa.Integer(), nullable=False),
        sa.Column('new_members', sa.Integer(), nullable=False),
        sa.Column('first_seq', sa.Integer(), nullable=False),
        sa.Column('batches', sa.Integer(), nullable=False),
        sa.Column('batches_done', sa.Integer(), nullable=False),
        sa.Column('started_at', UtcDateTime(), nullable=False),
        sa.Column('finished_at', UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('sha256', name=op.f('pk_member_imports')),
    )
    op.create_table(
        'hq_audit',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('at', UtcDateTime(), nullable=False),
        sa.Column('actor', sa.String(length=100), nullable=False),
        sa.Column('action', sa.String(length=48), nullable=False),
        sa.Column('detail', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_hq_audit')),
    )


def downgrade() -> None:
    op.drop_table('hq_audit')
    op.drop_table('member_imports')
