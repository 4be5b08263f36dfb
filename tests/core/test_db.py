from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

import pos_member.db.engine as engine_module
from pos_member.db.engine import SCHEMA_HEAD, Database, open_database, schema_version, upgrade
from pos_member.db.models import Base

MIGRATIONS = Path(engine_module.__file__).parent / "migrations"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = open_database(tmp_path / "till.sqlite")
    yield database
    database.dispose()


def pragma(engine: Engine, name: str) -> object:
    with engine.connect() as conn:
        return conn.exec_driver_sql(f"PRAGMA {name}").scalar()


def schema_objects(path: Path) -> list[tuple[str, str, str]]:
    con = sqlite3.connect(path)
    try:
        return con.execute(
            "SELECT type, name, coalesce(sql, '') FROM sqlite_master ORDER BY type, name"
        ).fetchall()
    finally:
        con.close()


def test_schema_head_is_the_newest_alembic_revision() -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(cfg).get_heads() == [SCHEMA_HEAD]


def test_a_new_database_is_migrated_to_head(db: Database) -> None:
    assert schema_version(db.path) == SCHEMA_HEAD


def test_the_migrations_build_exactly_the_models(db: Database) -> None:
    with db.write.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                 Base.metadata)
    assert diffs == []


@pytest.mark.parametrize("which", ["write", "read"])
def test_the_database_runs_in_wal_mode(db: Database, which: str) -> None:
    assert pragma(getattr(db, which), "journal_mode") == "wal"


@pytest.mark.parametrize("which", ["write", "read"])
def test_foreign_keys_are_on(db: Database, which: str) -> None:
    assert pragma(getattr(db, which), "foreign_keys") == 1


def test_commits_are_fully_synchronous(db: Database) -> None:
    assert pragma(db.write, "synchronous") == 2  # FULL


def test_a_row_pointing_at_a_missing_parent_is_refused(db: Database) -> None:
    with pytest.raises(IntegrityError), db.write.begin() as conn:
        conn.execute(text(
            "INSERT INTO devices (id, store_id, number, name, created_at) "
            "VALUES ('d1', 'no-such-store', 1, 'x', '2026-01-01 00:00:00')"))


def test_the_append_only_triggers_are_installed(db: Database) -> None:
    triggers = {name for kind, name, _ in schema_objects(db.path) if kind == "trigger"}
    kept = {f"{t}_sums_{v}" for t in ("points_entries", "sv_ledger")  # the report's (0026)
            for v in ("insert", "update", "delete")} | {
        f"{t}_home_{v}" for t in ("sales", "points_entries", "members")
        for v in ("insert", "update")}
    assert triggers == {"events_no_update", "events_no_delete",
                        "audit_log_no_update", "audit_log_no_delete"} | kept


def test_running_the_migrations_again_changes_nothing(db: Database) -> None:
    before = schema_objects(db.path)
    upgrade(db.path)
    upgrade(db.path)
    assert schema_objects(db.path) == before
    assert schema_version(db.path) == SCHEMA_HEAD


def test_reopening_a_database_keeps_its_schema_and_data(tmp_path: Path) -> None:
    path = tmp_path / "till.sqlite"
    first = open_database(path)
    with first.write.begin() as conn:
        conn.execute(text("INSERT INTO settings (key, value) VALUES ('k', 'v')"))
    first.dispose()
    before = schema_objects(path)
    again = open_database(path)
    try:
        with again.read.connect() as conn:
            assert conn.execute(text("SELECT value FROM settings WHERE key='k'")).scalar() == "v"
    finally:
        again.dispose()
    assert schema_objects(path) == before


def test_schema_version_of_a_missing_or_empty_file_is_none(tmp_path: Path) -> None:
    assert schema_version(tmp_path / "none.sqlite") is None
    sqlite3.connect(tmp_path / "empty.sqlite").close()
    assert schema_version(tmp_path / "empty.sqlite") is None


_OPEN_AND_REPORT = """
import sys
from pathlib import Path
from pos_member.db.engine import open_database
open_database(Path(sys.argv[1])).dispose()
print("alembic" in sys.modules)
"""


def _alembic_imported_when_opening(path: Path) -> bool:
    done = subprocess.run([sys.executable, "-c", _OPEN_AND_REPORT, str(path)],
                          capture_output=True, text=True, timeout=120, check=True)
    return done.stdout.strip() == "True"


def test_opening_a_current_database_does_not_import_alembic(db: Database) -> None:
    assert not _alembic_imported_when_opening(db.path)


def test_opening_a_new_database_does_run_alembic(tmp_path: Path) -> None:
    """The check above can fail: a database that needs migrating does import alembic."""
    assert _alembic_imported_when_opening(tmp_path / "new.sqlite")


def test_migration_0002_keeps_members_and_drops_only_the_staff_and_referrer_keys(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.sqlite"
    upgrade(path, "0001")
    con = sqlite3.connect(path)
    with con:
        con.execute("PRAGMA foreign_keys=ON")
        con.execute("INSERT INTO stores VALUES ('s1', 1, 'S', '2026-01-01 00:00:00')")
        con.execute("INSERT INTO devices VALUES ('d1', 's1', 1, 'D', '2026-01-01 00:00:00')")
        for mid, no, ref in (("m1", "00010100000017", None), ("m2", "00010100000025", "m1")):
            con.execute(
                "INSERT INTO members (id, member_no, phone_index, phone_enc, tags, "
                "source_channel, referrer_id, store_id, device_id, registered_at, "
                "privacy_policy_version, privacy_consent_at, marketing_consent, tier, status, "
                "updated_hlc) VALUES (?, ?, ?, x'01', '[]', 'walk_in', ?, 's1', 'd1', "
                "'2026-01-01 00:00:00', 'v1', '2026-01-01 00:00:00', 0, 'regular', 'active', '')",
                (mid, no, f"idx-{mid}", ref))
    con.close()
    upgrade(path)
    con = sqlite3.connect(path)
    try:
        members = con.execute("SELECT id, referrer_id FROM members ORDER BY id").fetchall()
        keys = {row[3] for row in con.execute("PRAGMA foreign_key_list(members)")}
    finally:
        con.close()
    assert members == [("m1", None), ("m2", "m1")]
    assert keys == {"store_id", "device_id"}


def test_commits_never_checkpoint_the_wal_the_background_thread_does(db: Database) -> None:
    """A commit that crossed SQLite's automatic checkpoint would copy pages and fsync the
    database file while the cashier waits; the writer has it off and ``Checkpointer`` runs a
    passive checkpoint every second instead."""
    assert pragma(db.write, "wal_autocheckpoint") == 0
    assert db.checkpointer is not None
    db.checkpointer.stop()  # first the writer alone
    with db.write.begin() as conn:
        conn.execute(text("CREATE TABLE filler (x BLOB)"))
    for _ in range(100):  # ~2,000 WAL pages: twice the automatic threshold
        with db.write.begin() as conn:
            conn.execute(text("INSERT INTO filler VALUES (randomblob(80000))"))
    wal = db.path.with_name(db.path.name + "-wal")
    assert wal.stat().st_size > 1900 * 4096  # no commit checkpointed (and restarted) the WAL

    thread = engine_module.Checkpointer(db.path, every=0.05)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not (thread.last and thread.last[1] > 1900):
            time.sleep(0.05)
        assert thread.last is not None
        busy, frames, done = thread.last
        assert (busy, done) == (0, frames) and frames > 1900
    finally:
        thread.stop()


def test_the_wal_restarts_though_a_sale_is_committed_while_it_is_checkpointed(
        tmp_path: Path) -> None:
    """Under a steady stream of sales a checkpoint never ends with every frame copied, and the
    WAL would grow for ever (every commit extending the file); the checkpointer's catch-up
    passes copy what came meanwhile, so the next write starts the WAL from its beginning."""
    path = tmp_path / "till.sqlite"
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("CREATE TABLE t (x BLOB)")

    wal = path.with_name(path.name + "-wal")

    def sale() -> None:
        writer.execute("INSERT INTO t VALUES (randomblob(10000))")

    class SalesDuringThePasses(engine_module.Checkpointer):
        def _pass(self, con: sqlite3.Connection) -> tuple[int, int, int]:
            n = self.passes
            if n in (0, 1):  # a sale under way while the first pass copies; another from
                writer.execute("BEGIN IMMEDIATE")  # the second on, over a pass that finds
                sale()  # nothing new
            got = super()._pass(con)
            if n in (0, 2):
                writer.execute("COMMIT")  # appended after the frames the pass copied
            return got

    for _ in range(10):
        sale()
    thread = SalesDuringThePasses(path, every=3600)
    try:
        thread.checkpoint()
    finally:
        thread.stop()
    size = wal.stat().st_size
    sale()
    after = wal.stat().st_size
    writer.close()
    assert after == size  # written over the WAL's first frames, not appended to it


def test_resources_are_found_in_a_bundle_through_meipass(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """PyInstaller unpacks next to the program and names the folder in sys._MEIPASS: the shipped
    rules, translations and styles are looked up there, not beside the sources."""
    from pos_member import resources

    (tmp_path / "resources" / "rules").mkdir(parents=True)
    (tmp_path / "resources" / "rules" / "default.toml").write_text("x", encoding="utf-8")
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert resources.resource_path("rules", "default.toml") == (
        tmp_path / "resources" / "rules" / "default.toml")
    assert resources.resource_path("rules", "default.toml").read_text(encoding="utf-8") == "x"
    monkeypatch.delattr(sys, "_MEIPASS")
    checkout = Path(resources.__file__).resolve().parent.parent
    assert resources.resources_dir() == checkout / "resources"


def test_a_time_is_stored_as_sqlalchemys_datetime_stores_it() -> None:
    """UtcDateTime's one-step text on SQLite is byte for byte what its two conversions gave
    (the stored text is compared as text in SQL): any zone, any microsecond, years 1-9999."""
    import random
    from datetime import UTC, datetime, timedelta, timezone

    from sqlalchemy import DateTime
    from sqlalchemy.dialects import sqlite

    from pos_member.db.models.base import UtcDateTime

    dialect = sqlite.dialect()
    fast = UtcDateTime().dialect_impl(dialect).bind_processor(dialect)
    chained = DateTime().dialect_impl(dialect).bind_processor(dialect)
    assert fast is not None and chained is not None
    rng = random.Random(17)
    for _ in range(2_000):
        at = datetime(rng.randint(1, 9998), 1, 1, tzinfo=UTC) + timedelta(
            seconds=rng.randint(0, 364 * 86_400), microseconds=rng.randint(0, 999_999))
        shown = at.astimezone(timezone(timedelta(minutes=rng.randint(-720, 840))))
        assert fast(shown) == chained(at.replace(tzinfo=None)), shown
    assert fast(None) is None
    with pytest.raises(ValueError, match="naive"):
        fast(datetime(2026, 1, 1, tzinfo=UTC).replace(tzinfo=None))
