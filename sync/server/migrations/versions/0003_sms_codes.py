"""SMS one-time codes for stored-value payments

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25

Reserved for the stored-value work (issue 6); fill in upgrade/downgrade with that work's tables.
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
