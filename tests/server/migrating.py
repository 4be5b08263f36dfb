"""Taking a test database back to an older schema, to test a migration on real data."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from sync.server.db import MIGRATIONS, ServerDatabase


def downgrade(db: ServerDatabase, revision: str) -> None:
    """Runs the migrations' downgrades until the schema is at ``revision``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with db.write() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)
