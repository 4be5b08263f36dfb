"""staff edits: numbers unique by first claim, last writer wins per staff field

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04

Staff are edited, deactivated and given new PINs at any till of the store (events), so each
field keeps the ``(hlc, event_id)`` that last wrote it (``staff_field_hlc``, as
``member_field_hlc``). Two tills offline may give out one staff number: the unique constraint
on ``staff.code`` goes (an index stays) and ``staff.code_claim`` says who claimed the number
first; existing staff get ``''`` (they were there first).
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('staff') as batch_op:
        batch_op.drop_constraint('uq_staff_code', type_='unique')
        batch_op.add_column(sa.Column('code_claim', sa.String(length=64), nullable=False,
                                      server_default=''))
        batch_op.create_index(batch_op.f('ix_staff_code'), ['code'], unique=False)
    op.create_table('staff_field_hlc',
    sa.Column('staff_id', sa.String(length=36), nullable=False),
    sa.Column('field', sa.String(length=32), nullable=False),
    sa.Column('hlc', sa.String(length=24), nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('value', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('staff_id', 'field', name=op.f('pk_staff_field_hlc'))
    )


def downgrade() -> None:
    op.drop_table('staff_field_hlc')
    with op.batch_alter_table('staff') as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_code'))
        batch_op.drop_column('code_claim')
        batch_op.create_unique_constraint('uq_staff_code', ['code'])
