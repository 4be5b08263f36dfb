"""Opening the till's SQLite database: pragmas, the write/read engines, migrations on start.

Durability: WAL with ``synchronous=FULL``. In WAL mode ``NORMAL`` already survives a killed
process, but a power cut could lose the last commits; a till's money must survive that too, and
a WAL fsync costs well under a millisecond here (see bench/register.py's raw baseline).
Writers use ``BEGIN IMMEDIATE`` so two writers queue on the lock instead of failing to upgrade a
read lock halfway through; readers use a deferred ``BEGIN`` and never wait on a writer.

Checkpoints: SQLite's automatic checkpoint runs inside the commit that crosses 1,000 WAL pages,
so one commit in a hundred or so also copies pages into the database file and fsyncs it — the
cashier waits for that one (it was most of every p99). The write engine turns the automatic
checkpoint off and a background thread (:class:`Checkpointer`) runs a passive checkpoint every
second instead: passive never blocks a writer or a reader, and the WAL stays small — its
catch-up passes let the WAL restart even while the POS reports sales back to back
(:meth:`Checkpointer.checkpoint`).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.dialects.sqlite.base import SQLiteCompiler
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import QueuePool

from pos_member.db.sqlite_uri import sqlite_uri

log = logging.getLogger(__name__)

SCHEMA_HEAD = "0027"  # the newest Alembic revision; a test checks it against the scripts

PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=10000",
    "PRAGMA temp_store=MEMORY",
    "PRAGMA cache_size=-32000",
)


CHECKPOINT_EVERY_S = 1.0
CATCH_UP_PASSES = 16  # after each checkpoint, while writers keep adding frames (Checkpointer)
IDLE_PASSES = 3  # catch-up passes in a row that find nothing new: no write is under way
WRITER_PRAGMAS = (*PRAGMAS, "PRAGMA wal_autocheckpoint=0")  # the Checkpointer's job


class Checkpointer:
    """Runs ``PRAGMA wal_checkpoint(PASSIVE)`` on its own connection every ``every`` seconds
    until stopped (see the module's docstring). A failed checkpoint is logged and tried again
    next time: the WAL only grows meanwhile, nothing is lost."""

    def __init__(self, path: Path, *, every: float = CHECKPOINT_EVERY_S) -> None:
        self.path = path
        self.every = every
        self.last: tuple[int, int, int] | None = None  # the last run's answer, for tests and logs
        self.passes = 0  # passive checkpoints run (catch-up passes included)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)
        self._thread.start()

    def checkpoint(self) -> tuple[int, int, int]:
        """One passive checkpoint now, then catch-up passes: (busy, WAL frames, frames
        checkpointed) of the first.

        SQLite writes the WAL from its start again (reusing the file) only when a write begins
        with every frame checkpointed. Under a steady stream of writes (the POS reporting a
        sale every few milliseconds) one pass never ends in that state: what was committed
        while it copied is left over, every later commit appends, and the WAL grows without
        end — each commit then extends the file, and its fsync pays for the file's new size
        too (a member sale's commit p50 0.9 -> 0.6 ms, p99 4.4 -> 3.0 ms with the WAL
        restarting; docs/integration.md). So more passes follow (up to ``CATCH_UP_PASSES``):
        each copies only what the writers added meanwhile, until the WAL has restarted or
        ``IDLE_PASSES`` in a row, a millisecond apart, find nothing new — a sale whose
        transaction began before a pass ended appends its frames on commit, so one such pass
        is not enough. Passive throughout: no writer or reader ever waits for it."""
        # mode=rw: never create a database where a deleted one was.
        con = sqlite3.connect(sqlite_uri(self.path.resolve(), mode="rw"), uri=True, timeout=10)
        try:
            first = last = self._pass(con)
            self.last = first
            idle = 0  # passes in a row that found nothing new
            for _ in range(CATCH_UP_PASSES):
                busy, frames, done = last
                if busy or done < frames:  # a reader still reads old frames: next time
                    break
                got = self._pass(con)
                if got[1] < frames:  # the WAL restarted
                    break
                if got[1] == frames:
                    # Nothing new — unless a sale under way began before the copy ended: it
                    # appends on commit. Idle for a few milliseconds, none is.
                    idle += 1
                    if idle == IDLE_PASSES or self._stop.wait(0.001):
                        break
                else:
                    idle = 0
                last = got
            return first
        finally:
            con.close()

    def _pass(self, con: sqlite3.Connection) -> tuple[int, int, int]:
        busy, frames, done = con.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        self.passes += 1
        return int(busy), int(frames), int(done)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.checkpoint()
            except sqlite3.Error as e:
                log.warning("WAL checkpoint of %s failed: %s", self.path, e)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


@dataclass(frozen=True)
class Database:
    path: Path
    write: Engine
    read: Engine
    checkpointer: Checkpointer | None = field(default=None, compare=False)

    def dispose(self) -> None:
        if self.checkpointer is not None:
            self.checkpointer.stop()
        self.write.dispose()
        self.read.dispose()


def _engine(path: Path, *, immediate: bool, pool_size: int,
            pragmas: tuple[str, ...] = PRAGMAS) -> Engine:
    return sqlite_engine(
        f"sqlite:///{path}",
        immediate=immediate,
        pool_size=pool_size,
        max_overflow=0 if immediate else 4,
        pragmas=pragmas,
    )


class _HintedCompiler(SQLiteCompiler):
    """SQLite's ``INDEXED BY`` as SQLAlchemy's table hint (``select.with_hint(table,
    "INDEXED BY ix_name", "sqlite")``), which SQLAlchemy's SQLite compiler leaves out: a till
    has no statistics (no ``ANALYZE``) for the planner to choose a report's index by."""

    def get_from_hint_text(self, table: Any, text: str | None) -> str | None:
        return text


def _json_text(value: Any) -> str:
    return msgspec.json.encode(value).decode()


def sqlite_engine(
    url: str,
    *,
    immediate: bool,
    pool_size: int,
    max_overflow: int,
    pragmas: tuple[str, ...] = PRAGMAS,
    timeout: float = 10,
    pool_timeout: float = 30,
) -> Engine:
    """A SQLite engine whose connections run ``pragmas`` and whose transactions begin with
    ``BEGIN IMMEDIATE`` (writers) or a deferred ``BEGIN`` (readers). Shared with the server."""
    engine = create_engine(
        url,
        poolclass=QueuePool,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=pool_timeout,
        connect_args={"check_same_thread": False, "timeout": timeout},
        # JSON columns (event payloads, audit rows, ledger details) through msgspec: the same
        # JSON, a few times faster than the standard library on the hot path of a sale.
        json_serializer=_json_text,
        json_deserializer=msgspec.json.decode,
    )
    engine.dialect.statement_compiler = _HintedCompiler

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        # Take transaction control from the driver so the "begin" hook decides how to begin.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        for pragma in pragmas:
            cur.execute(pragma)
        cur.close()

    begin = "BEGIN IMMEDIATE" if immediate else "BEGIN"

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Straight on the driver, its error raised as SQLAlchemy's (as ``exec_driver_sql``
        # raises it): SQLAlchemy's execution path cost ~0.1 ms of every transaction.
        try:
            conn.connection.driver_connection.execute(begin)
        except sqlite3.Error as e:
            raise DBAPIError.instance(begin, None, e, sqlite3.Error,
                                      dialect=conn.dialect) from e

    return engine


def open_database(path: Path, *, migrate: bool = True) -> Database:
    """Opens (creating if needed) the database at ``path`` and brings its schema to head."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if migrate and schema_version(path) != SCHEMA_HEAD:
        upgrade(path)
    return Database(
        path=path,
        write=_engine(path, immediate=True, pool_size=1, pragmas=WRITER_PRAGMAS),
        read=_engine(path, immediate=False, pool_size=2),
        checkpointer=Checkpointer(path),
    )


def schema_version(path: Path) -> str | None:
    """The applied revision, read with bare sqlite3 so a current schema never imports Alembic."""
    if not path.exists():
        return None
    con = sqlite3.connect(path)
    try:
        row = con.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError as e:
        if "no such table" in str(e):
            return None
        raise  # not "no schema": a database that cannot be opened (a read-only folder)
    finally:
        con.close()
    return row[0] if row else None


class DatabaseTooNew(RuntimeError):
    """The database's schema is newer than this program's (an older program on a till's
    database, or a backup of a newer till): Alembic knows no such revision."""

    def __init__(self, found: str) -> None:
        super().__init__(
            f"the till's database is of a newer version of POS Member (schema {found}; this "
            f"program knows up to {SCHEMA_HEAD}): install that version or a newer one, or "
            "restore a backup this version made")
        self.found = found


def is_newer_revision(found: str, head: str) -> bool:
    """Whether the schema revision ``found`` is past ``head``, this program's newest (the
    revisions, the till's and HQ's, are numbers of the same width: ``0027``)."""
    return found.isdigit() and len(found) == len(head) and found > head


def upgrade(path: Path, revision: str = "head") -> None:
    """Runs the Alembic migrations up to ``revision`` on the database at ``path``; a schema
    newer than this program's is :class:`DatabaseTooNew` (Alembic's CommandError said only
    that it could not locate the revision)."""
    from alembic import command
    from alembic.config import Config

    found = schema_version(path)
    if found is not None and is_newer_revision(found, SCHEMA_HEAD):
        raise DatabaseTooNew(found)

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    engine = _engine(path, immediate=True, pool_size=1)
    try:
        with engine.connect() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
            conn.commit()
    finally:
        engine.dispose()
