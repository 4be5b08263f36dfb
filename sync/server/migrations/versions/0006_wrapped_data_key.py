"""The chain's personal-data key wrapped by HQ's key-encryption key

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03

``chain_settings.data_key`` held the chain's data key in plain base64, so a copy of the
database revealed every phone. It is now wrapped (``sync.server.keys``) under the KEK the
server takes from ``$POS_MEMBER_SERVER_KEK`` or the OS keyring; without a KEK this upgrade
refuses (``KekMissing``) and changes nothing. A database without a key yet is left alone: its
key is made, wrapped, after the migrations.
"""
import sqlalchemy as sa
from alembic import context, op

from sync.server.keys import ChainKeys, is_wrapped, unwrap, wrap

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

_SETTINGS = sa.table('chain_settings', sa.column('key', sa.String), sa.column('value', sa.Text))
_KEY = _SETTINGS.c.key == 'data_key'


def _keys() -> ChainKeys:
    return context.config.attributes.get('chain_keys') or ChainKeys()


def upgrade() -> None:
    conn = op.get_bind()
    value = conn.execute(sa.select(_SETTINGS.c.value).where(_KEY)).scalar()
    if value is None or is_wrapped(value):
        return
    kek = _keys().kek()
    conn.execute(sa.update(_SETTINGS).where(_KEY).values(value=wrap(kek.key, value)))


def downgrade() -> None:
    conn = op.get_bind()
    value = conn.execute(sa.select(_SETTINGS.c.value).where(_KEY)).scalar()
    if value is None or not is_wrapped(value):
        return
    kek = _keys().kek()
    conn.execute(sa.update(_SETTINGS).where(_KEY)
                 .values(value=unwrap(kek.key, value, source=kek.source)))
