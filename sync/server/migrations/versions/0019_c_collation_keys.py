"""The push's hottest text keys compared byte by byte (PostgreSQL)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05

``COLLATE "C"`` on ``events.id``, ``events.store_id``, ``events.device_id`` (the keys of
``uq_events_id``, ``ix_events_store_id_position`` and ``uq_events_device_id``, which every
pushed event descends), ``event_routes.store_id`` (its primary key, compared with
``events.store_id`` by the filtered pull) and ``member_homes.member_id`` (probed once a member
a push names). A database made under a libc locale (``C.UTF-8`` here, ``en_US.UTF-8``
elsewhere) compares other text through ``strcoll``; ``"C"`` is PostgreSQL's own ``memcmp``.
Values and equality do not change (every deterministic collation has the same equality); the
order of UTF-8 text is its code points', as ``C.UTF-8``'s already was.

The same type, another collation: PostgreSQL keeps the tables' rows where they are (no
rewrite) and rebuilds each index on these columns, holding ``ACCESS EXCLUSIVE`` on ``events``,
``event_routes`` and ``member_homes`` until it commits (docs/scale.md, "Upgrade notes":
its duration on a chain's events). SQLite: nothing (``models.key_text``).
"""
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

_COLUMNS = {
    'events': (('id', 36), ('store_id', 36), ('device_id', 36)),
    'event_routes': (('store_id', 36),),
    'member_homes': (('member_id', 36),),
}


def _collate(collation: str) -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table, columns in _COLUMNS.items():  # one ALTER a table: each index rebuilt once
        op.execute(f'ALTER TABLE {table} ' + ', '.join(
            f'ALTER COLUMN {name} TYPE varchar({length}) COLLATE {collation}'
            for name, length in columns))


def upgrade() -> None:
    _collate('"C"')


def downgrade() -> None:
    _collate('pg_catalog."default"')
