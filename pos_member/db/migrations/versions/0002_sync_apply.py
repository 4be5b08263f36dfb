"""sync: applied events, per-field versions, member aliases; members name chain-wide staff

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

- ``applied_events``: pulled events already applied, so applying a page twice changes nothing.
- ``member_field_hlc``: last-writer-wins per profile field (hybrid clock, then event id).
- ``member_aliases``: a merged member's number scans to the member it was merged into.
- ``members.guide_id``, ``registered_by`` and ``referrer_id`` lose their foreign keys: a member
  pulled from another store names that store's staff, and possibly a referrer not pulled yet.
  SQLite cannot drop a constraint in place, so the table is rebuilt (batch mode, data kept).
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

_LOOSENED = (
    ("fk_members_guide_id_staff", "guide_id", "staff"),
    ("fk_members_registered_by_staff", "registered_by", "staff"),
    ("fk_members_referrer_id_members", "referrer_id", "members"),
)


def upgrade() -> None:
    op.create_table('applied_events',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_applied_events'))
    )
    op.create_table('member_field_hlc',
    sa.Column('member_id', sa.String(length=36), nullable=False),
    sa.Column('field', sa.String(length=32), nullable=False),
    sa.Column('hlc', sa.String(length=24), nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('value', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('member_id', 'field', name=op.f('pk_member_field_hlc'))
    )
    op.create_table('member_aliases',
    sa.Column('member_no', sa.String(length=20), nullable=False),
    sa.Column('member_id', sa.String(length=36), nullable=False),
    sa.Column('loser_member_id', sa.String(length=36), nullable=False),
    sa.PrimaryKeyConstraint('member_no', name=op.f('pk_member_aliases'))
    )
    with op.batch_alter_table('members', recreate='always') as batch_op:
        for name, _column, _table in _LOOSENED:
            batch_op.drop_constraint(name, type_='foreignkey')


def downgrade() -> None:
    with op.batch_alter_table('members', recreate='always') as batch_op:
        for name, column, table in _LOOSENED:
            batch_op.create_foreign_key(name, table, [column], ['id'])
    op.drop_table('member_aliases')
    op.drop_table('member_field_hlc')
    op.drop_table('applied_events')
