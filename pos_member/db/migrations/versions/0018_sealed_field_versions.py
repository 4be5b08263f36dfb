"""sealed field versions: gender, birthday and tags in member_field_hlc sealed (issue 20)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04

``member_field_hlc.value`` kept a pulled or local edit's gender, birthday and tags in the clear
after 0017 had sealed the member's own columns. The data key is in the OS credential store, not
here: this marks the till (``settings.seal_field_versions``) and its next start with the key
seals those values (``field_versions.seal_plain_versions``, from ``bootstrap``) and clears the
mark. Nothing is lost if that start fails: the values stay until they are sealed.
"""
import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

MARK = "seal_field_versions"


def upgrade() -> None:
    settings = sa.table('settings', sa.column('key', sa.String), sa.column('value', sa.Text))
    op.execute(sa.delete(settings).where(settings.c.key == MARK))
    versions = sa.table('member_field_hlc', sa.column('field', sa.String))
    clear_ones = sa.select(sa.literal(1)).where(
        versions.c.field.in_(("gender", "birthday", "tags"))).limit(1)
    if op.get_bind().execute(clear_ones).first() is not None:  # a new till has nothing to seal
        op.execute(sa.insert(settings).values(key=MARK, value="pending"))


def downgrade() -> None:
    settings = sa.table('settings', sa.column('key', sa.String), sa.column('value', sa.Text))
    op.execute(sa.delete(settings).where(settings.c.key == MARK))
