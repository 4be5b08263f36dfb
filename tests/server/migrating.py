"""Taking a test database back to an older schema, to test a migration on real data."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from sync.server.db import (
    MIGRATIONS,
    SCHEMA_HEAD,
    ServerDatabase,
    open_server_database,
    schema_revision,
    upgrade,
)


def downgrade(db: ServerDatabase, revision: str) -> None:
    """Runs the migrations' downgrades until the schema is at ``revision``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with db.write() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def upgrade_from(url: str, revision: str) -> None:
    """Takes the database at ``url``, with the rows a test put there, back to ``revision`` and
    up to the newest schema again: the migrations after ``revision`` run on real data."""
    db = open_server_database(url)
    try:
        downgrade(db, revision)
        assert schema_revision(db) == revision
        upgrade(db)
        assert schema_revision(db) == SCHEMA_HEAD
    finally:
        db.dispose()
