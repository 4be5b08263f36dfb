"""kpi: monthly targets, rosters, per-guide daily splits

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25

Reserved for the KPI work (issue 7); fill in upgrade/downgrade with that work's tables.
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import pos_member.db.models  # noqa: F401

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
