"""member directory: every member of the chain in a slim row (issue 14)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04

``member_directory`` (``services/member_directory.py``): member number (integer), id and
phone blind index as bytes, status, tier (and the hybrid time of its last change as one
integer), flags (1 balance blocked, 2 stored value frozen), home store number. Filled from the
members the till holds (before this version a till held every member of the chain): their
status and tier, their tier's time from ``points_accounts``, a block from ``balance_blocks``,
a freeze from ``sv_accounts``. Nothing existing changes.
"""
import uuid

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

BLOCKED, FROZEN = 1, 2  # as services.member_directory at this revision


def _id_bytes(member_id: str) -> bytes:
    try:
        parsed = uuid.UUID(member_id)
    except ValueError:
        return member_id.encode()
    return parsed.bytes if str(parsed) == member_id else member_id.encode()


def _phone(index: str) -> bytes | None:
    if len(index) != 64:
        return None
    try:
        return bytes.fromhex(index)
    except ValueError:
        return None


def _hlc(hlc: str | None) -> int:
    wall, _, counter = (hlc or '').partition('-')
    return int(wall) * 1_000_000 + int(counter) if wall.isdigit() and counter.isdigit() else 0


def upgrade() -> None:
    directory = op.create_table(
        'member_directory',
        sa.Column('member_no', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('member_id', sa.LargeBinary(length=36), nullable=False),
        sa.Column('phone', sa.LargeBinary(length=32), nullable=True),
        sa.Column('status', sa.String(length=8), nullable=False),
        sa.Column('tier', sa.String(length=16), nullable=False),
        sa.Column('tier_at', sa.BigInteger(), nullable=False),
        sa.Column('flags', sa.SmallInteger(), nullable=False),
        sa.Column('store_no', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('member_no', name=op.f('pk_member_directory')),
        sqlite_with_rowid=False,
    )
    op.create_index('ix_member_directory_member_id', 'member_directory', ['member_id'],
                    unique=True)
    op.create_index('ix_member_directory_phone', 'member_directory', ['phone'], unique=False)
    conn = op.get_bind()
    rows = conn.execute(sa.text(
        "SELECT m.id, m.member_no, m.phone_index, m.status, m.tier, p.tier_hlc,"
        " b.member_id IS NOT NULL AS blocked, coalesce(a.frozen, 0) AS frozen"
        " FROM members m"
        " LEFT JOIN points_accounts p ON p.member_id = m.id"
        " LEFT JOIN balance_blocks b ON b.member_id = m.id"
        " LEFT JOIN sv_accounts a ON a.member_id = m.id")).all()
    out = []
    for r in rows:
        if not (len(r.member_no) == 14 and r.member_no.isdigit()):
            continue
        merged = r.status == 'merged'
        out.append({
            'member_no': int(r.member_no), 'member_id': _id_bytes(r.id),
            'phone': None if merged else _phone(r.phone_index),
            'status': 'merged' if merged else 'active', 'tier': r.tier,
            'tier_at': _hlc(r.tier_hlc),
            'flags': (BLOCKED if r.blocked else 0) | (FROZEN if r.frozen else 0),
            'store_no': int(r.member_no[:4])})
    if out:
        op.bulk_insert(directory, out)


def downgrade() -> None:
    op.drop_index('ix_member_directory_phone', table_name='member_directory')
    op.drop_index('ix_member_directory_member_id', table_name='member_directory')
    op.drop_table('member_directory')
