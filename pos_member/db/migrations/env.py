"""Alembic environment: migrations run on a connection handed over by ``engine.upgrade``."""

from alembic import context

from pos_member.db.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - we always pass one
    raise RuntimeError("run migrations through pos_member.db.engine.upgrade")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,
    transactional_ddl=True,
)
with context.begin_transaction():
    context.run_migrations()
