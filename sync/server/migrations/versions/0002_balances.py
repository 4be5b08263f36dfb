"""balances per member and overdraw blocks

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

Reserved for the sync work (issue 4); fill in upgrade/downgrade with that work's tables.
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
