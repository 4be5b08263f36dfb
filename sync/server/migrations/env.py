"""Alembic environment: migrations run on a connection handed over by ``sync.server.db.upgrade``."""

from alembic import context

from sync.server.models import ServerBase

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - we always pass one
    raise RuntimeError("run migrations through sync.server.db.upgrade")

context.configure(
    connection=connection,
    target_metadata=ServerBase.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    transactional_ddl=True,
)
with context.begin_transaction():
    context.run_migrations()
