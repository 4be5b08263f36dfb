"""sealed profile: gender, birthday and tags encrypted at rest (issue 20)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04

``members.gender_enc``, ``birthday_enc``, ``tags_enc`` (AES-GCM with the till's data key, like
the phone and the name). The data key is in the OS credential store, not here: the values in
the clear columns ``gender``, ``birthday``, ``tags`` are moved into the new ones at the till's
next start, once it holds the key (``services/profile_seal.seal_plain``), and the clear ones
emptied. Nothing is lost if that start fails: the clear values stay until they are sealed.
"""
import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

CLEAR_PROFILE = "gender IS NOT NULL OR birthday IS NOT NULL OR tags != '[]'"  # as the model's


def upgrade() -> None:
    with op.batch_alter_table('members') as batch:
        batch.add_column(sa.Column('gender_enc', sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column('birthday_enc', sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column('tags_enc', sa.LargeBinary(), nullable=True))
    op.create_index('ix_members_clear_profile', 'members', ['id'], unique=False,
                    sqlite_where=sa.text(CLEAR_PROFILE))


def downgrade() -> None:
    op.drop_index('ix_members_clear_profile', table_name='members')
    with op.batch_alter_table('members') as batch:
        batch.drop_column('tags_enc')
        batch.drop_column('birthday_enc')
        batch.drop_column('gender_enc')
