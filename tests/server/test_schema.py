"""The server's schema: migrations match the models on both backends; the docs are current."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from sync.server.cli import openapi_json
from sync.server.db import MIGRATIONS, SCHEMA_HEAD, open_server_database
from sync.server.models import ServerBase

OPENAPI = Path(__file__).parents[2] / "docs" / "openapi.json"


def test_schema_head_is_the_newest_migration() -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(cfg).get_current_head() == SCHEMA_HEAD


def test_migrations_create_what_the_models_describe(database_url: str) -> None:
    db = open_server_database(database_url)
    try:
        with db.read() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), ServerBase.metadata)
    finally:
        db.dispose()
    assert diff == []


def test_upgrade_creates_the_chain_data_key_once(database_url: str) -> None:
    from sqlalchemy import select

    from sync.server.db import upgrade
    from sync.server.keys import DATA_KEY
    from sync.server.models import ChainSetting

    db = open_server_database(database_url)
    try:
        with db.read() as conn:
            first = conn.execute(select(ChainSetting.value).where(ChainSetting.key == DATA_KEY)
                                 ).scalar_one()
        upgrade(db)
        with db.read() as conn:
            second = conn.execute(select(ChainSetting.value).where(ChainSetting.key == DATA_KEY)
                                  ).scalar_one()
    finally:
        db.dispose()
    assert first == second


def test_the_checked_in_openapi_description_is_current() -> None:
    assert OPENAPI.read_text(encoding="utf-8") == openapi_json(), (
        "docs/openapi.json is stale: run `pos-member-server openapi > docs/openapi.json`"
    )


def test_the_event_log_is_append_only(database_url: str) -> None:
    import pytest
    from sqlalchemy import delete, insert, update
    from sqlalchemy.exc import DatabaseError

    from pos_member.clock import FakeClock
    from sync.server.models import Event

    now = FakeClock().now()
    db = open_server_database(database_url)
    try:
        with db.write() as conn:
            conn.execute(insert(Event).values(
                position=1, id="e" * 36, store_id="s", device_id="d", seq=1, clerk_id=None,
                hlc="000000000000001-000000", type="t", entity_id=None, payload_version=1,
                payload={}, rules_version="1", created_at=now, received_at=now,
            ))
        for statement in (update(Event).values(type="x"), delete(Event)):
            with pytest.raises(DatabaseError), db.write() as conn:
                conn.execute(statement)
    finally:
        db.dispose()
