"""stored value: ledgers, member PINs, TOTP, notifications outbox

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25

Reserved for the stored-value work (issue 6); fill in upgrade/downgrade with that work's tables.
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import pos_member.db.models  # noqa: F401

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
