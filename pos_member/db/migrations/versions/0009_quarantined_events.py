"""quarantined events: pulled events a till cannot apply are held, not lost

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03

Before this revision a pulled event the till could not read (or of a type it did not know) was
recorded in ``applied_events`` and forgotten. Now it waits in ``quarantined_events`` with the
reason and is tried again after every upgrade of the till. Events already forgotten before this
revision are not recovered here (their ids are in ``applied_events``; nothing says which).
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('quarantined_events',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('type', sa.String(length=48), nullable=False),
    sa.Column('event', sa.JSON(), nullable=False),
    sa.Column('touches', sa.JSON(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('held_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tried_under', sa.String(length=64), nullable=False),
    sa.Column('tries', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quarantined_events'))
    )
    with op.batch_alter_table('quarantined_events') as batch_op:
        batch_op.create_index(batch_op.f('ix_quarantined_events_position'), ['position'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('quarantined_events') as batch_op:
        batch_op.drop_index(batch_op.f('ix_quarantined_events_position'))
    op.drop_table('quarantined_events')
