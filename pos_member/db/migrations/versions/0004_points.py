"""points: ledger, lots, tiers

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25

Reserved for the points and tiers work (issue 5); fill in upgrade/downgrade with that work's tables.
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import pos_member.db.models  # noqa: F401

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
