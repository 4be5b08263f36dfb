"""The server's database: engines for SQLite (default) or PostgreSQL, migrations, the write lock.

One URL chooses the backend: ``sqlite:///path/server.sqlite`` or
``postgresql+psycopg://user@host/db``. Every write runs in ``ServerDatabase.write()`` or
``ServerDatabase.concurrent()``:

- PostgreSQL: an admin write (``write()``: stores, enrolment, rules, settlements, new
  identities, migrations) starts with ``pg_advisory_xact_lock(WRITE_LOCK)``, so it runs alone.
  A push (``concurrent()``) takes the same lock *shared*: pushes run beside each other and
  lock only the keys they touch (``sync.server.locks``); a deadlock or serialization failure
  between two of them runs the whole transaction again (``RETRIES``). Locks are released by
  the commit or rollback.
- SQLite: ``BEGIN IMMEDIATE`` on a one-connection write pool serialises every writer.

Reads (``read()``) never take a lock: each pull is one statement on committed rows.

Pools (PostgreSQL; per server process): writes, reads on the primary and pulls each have an
engine of their own, so a burst of pushes holding every write connection never makes a pull
or a token check wait for a connection. ``read()`` is the primary's read pool: it sees every
committed write (token checks, reads that follow a write). ``read_replica()`` may lag behind
the primary: it is the streaming replica given as ``read_url`` (a hot standby), else the same
read pool on the primary. Only pulls use it (docs/scale.md, "Which reads go to the replica").
A replica that cannot be reached hands its pulls to the primary for ``REPLICA_RETRY_S``.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Connection, Engine, create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from pos_member.db.engine import is_newer_revision, sqlite_engine
from sync.server.driver import Statement
from sync.server.errors import SchemaNewer, SchemaNotCurrent
from sync.server.keys import ChainKeys, Kek
from sync.server.pulled_rows import PulledRows

WRITE_LOCK = 0x504F534D  # "POSM": the advisory lock every server write transaction holds
RETRIES = 5  # runs of a concurrent write that meets a deadlock or a serialization failure
_RETRY_STATES = frozenset({"40P01", "40001"})  # deadlock_detected, serialization_failure
T = TypeVar("T")
MIGRATIONS = Path(__file__).parent / "migrations"
SCHEMA_HEAD = "0019"  # the newest migration; a test keeps the two equal

# PostgreSQL connections per server process, (pool_size, max_overflow) of each engine: at most
# 40 on the primary (20 writing, 20 reading) and 20 on a replica. Starlette runs requests in 40
# threads; docs/scale.md sizes max_connections for N processes from these.
# $POS_MEMBER_SERVER_POOLS changes them per process, e.g. "write=6+4,read=4+6,replica=10+0".
POOLS: dict[str, tuple[int, int]] = {"write": (10, 10), "read": (5, 15), "replica": (10, 10)}
ENV_POOLS = "POS_MEMBER_SERVER_POOLS"
REPLICA_CONNECT_TIMEOUT_S = 3  # a replica that does not answer in this time is taken as down
REPLICA_RETRY_S = 10.0  # then the primary serves pulls this long before the replica is tried
log = logging.getLogger(__name__)

_SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=30000",
)


_LOCK = {True: text("SELECT pg_advisory_xact_lock(:k)"),
         False: text("SELECT pg_advisory_xact_lock_shared(:k)")}
_LOCK_AND_KEY = {exclusive: Statement(text(
    "SELECT pg_advisory_xact_lock(hashtextextended(:key, 0)) "
    f"FROM ({lock.text} OFFSET 0) AS w")) for exclusive, lock in _LOCK.items()}


@dataclass(frozen=True)
class ServerDatabase:
    """The server's engines. Building one connects to nothing; the first query does."""

    url: str
    write_engine: Engine
    read_engine: Engine
    keys: ChainKeys = field(default_factory=ChainKeys, compare=False)
    replica_engine: Engine | None = None  # the read URL's engine; None: reads of the primary
    pools: dict[str, tuple[int, int]] = field(default_factory=lambda: dict(POOLS), compare=False)
    _replica: _ReplicaHealth = field(default_factory=lambda: _ReplicaHealth(),
                                     compare=False, repr=False)
    pulled: PulledRows = field(default_factory=PulledRows, compare=False, repr=False)

    @property
    def is_postgres(self) -> bool:
        return self.write_engine.dialect.name == "postgresql"

    @contextmanager
    def write(self, *, exclusive: bool = True, key: str | None = None) -> Iterator[Connection]:
        """One write transaction: committed when the block ends, rolled back on error.

        ``exclusive`` (the default, for admin writes) runs it alone; ``exclusive=False`` runs
        it beside other such writes, which must then lock the keys they protect
        (``sync.server.locks``). Pushes use ``concurrent``, which also retries. ``key``: the
        first of those keys (``locks``' order), locked after the write lock in the same
        statement (a push's device: one round trip less)."""
        with self.write_engine.begin() as conn:
            if self.is_postgres:
                if key is None:
                    conn.execute(_LOCK[exclusive], {"k": WRITE_LOCK})
                else:  # the subquery (kept apart by OFFSET 0) runs first: the write lock first
                    _LOCK_AND_KEY[exclusive].rows(conn, {"k": WRITE_LOCK, "key": key})
            yield conn

    def concurrent(self, work: Callable[[Connection], T], *, key: str | None = None) -> T:
        """``work`` in a non-exclusive write transaction (``write(exclusive=False)``), run
        again from the start when PostgreSQL ends it for a deadlock or a serialization
        failure (at most ``RETRIES`` runs). ``work`` must write nothing outside it. ``key``:
        the first key it locks (``write``)."""
        for attempt in range(1, RETRIES + 1):
            try:
                with self.write(exclusive=False, key=key) as conn:
                    return work(conn)
            except DBAPIError as e:
                if attempt == RETRIES or getattr(e.orig, "sqlstate", None) not in _RETRY_STATES:
                    raise
        raise AssertionError("unreachable")

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read of the primary: sees everything committed, including this request's writes."""
        with self.read_engine.connect() as conn:
            yield conn

    @contextmanager
    def read_replica(self) -> Iterator[Connection]:
        """A read that may lag behind the primary (the replica, if one is configured): only
        for reads that are right on any committed prefix of the log (pulls)."""
        with self._replica_or_primary() as conn:
            yield conn

    def _replica_or_primary(self) -> Connection:
        """A connection to the replica; to the primary while the replica cannot be reached
        (the primary is never behind a replica, so a pull stays right, only its load moves).
        Which one a process uses is the one thing processes may disagree on, harmlessly."""
        replica, health = self.replica_engine, self._replica
        if replica is not None and time.monotonic() >= health.down_until:
            try:
                conn = replica.connect()
            except OperationalError as e:
                log.warning("read replica unreachable (%s): pulls read the primary for %g s",
                            type(e.orig).__name__, REPLICA_RETRY_S)
                health.down_until = time.monotonic() + REPLICA_RETRY_S
            else:
                return conn
        return self.read_engine.connect()

    def dispose(self) -> None:
        for engine in {id(e): e for e in (self.write_engine, self.read_engine,
                                          self.replica_engine) if e is not None}.values():
            engine.dispose()


def open_server_database(url: str, read_url: str | None = None, *,
                         kek: Kek | None = None) -> ServerDatabase:
    """Builds the engines for ``url`` (no connection yet, no migration). ``read_url`` is a
    streaming replica of that PostgreSQL database (a hot standby) that pulls read from, with
    pools of their own (``POOLS``, changed by ``$POS_MEMBER_SERVER_POOLS``). ``kek`` wraps the
    chain's data key; without it the KEK is looked up when first needed
    (``sync.server.keys.load_kek``: ``$POS_MEMBER_SERVER_KEK``, else the OS keyring)."""
    keys = ChainKeys(given=kek)
    parsed = make_url(url)
    if read_url and (parsed.get_backend_name() != "postgresql"
                     or make_url(read_url).get_backend_name() != "postgresql"):
        raise ValueError("a read URL is a PostgreSQL replica of a PostgreSQL database")
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        return ServerDatabase(
            url=url,
            write_engine=_sqlite_engine(url, immediate=True),
            read_engine=_sqlite_engine(url, immediate=False),
            keys=keys,
        )
    if parsed.get_backend_name() == "postgresql":
        sizes = pool_sizes(os.environ.get(ENV_POOLS, ""))
        return ServerDatabase(
            url=url,
            write_engine=_postgres_engine(url, sizes["write"]),
            read_engine=_postgres_engine(url, sizes["read"]),
            replica_engine=_postgres_engine(
                read_url, sizes["replica"], connect_timeout=REPLICA_CONNECT_TIMEOUT_S,
            ) if read_url else None,
            keys=keys,
            pools=sizes,
        )
    raise ValueError(f"unsupported database URL (sqlite or postgresql+psycopg): {url}")


def pool_sizes(text: str) -> dict[str, tuple[int, int]]:
    """``POOLS`` with the changes ``text`` names (``"write=6+4,replica=20+0"``: pool size and
    overflow of an engine); ``ValueError`` naming ``$POS_MEMBER_SERVER_POOLS`` if malformed."""
    sizes = dict(POOLS)
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, value = item.partition("=")
        size, plus, overflow = value.partition("+")
        if (name.strip() not in POOLS or not plus or not size.strip().isdigit()
                or not overflow.strip().isdigit() or int(size) + int(overflow) < 1):
            raise ValueError(f"${ENV_POOLS}: {item!r} is not write|read|replica=SIZE+OVERFLOW "
                             "(at least one connection)")
        sizes[name.strip()] = (int(size), int(overflow))
    return sizes


def _postgres_engine(url: str, pool: tuple[int, int], **connect_args: object) -> Engine:
    size, overflow = pool
    return create_engine(url, pool_size=size, max_overflow=overflow, pool_pre_ping=True,
                         connect_args=connect_args)


@dataclass
class _ReplicaHealth:
    down_until: float = 0.0  # time.monotonic() until which pulls read the primary


def _sqlite_engine(url: str, *, immediate: bool) -> Engine:
    return sqlite_engine(
        url,
        immediate=immediate,
        pool_size=1 if immediate else 4,
        max_overflow=0 if immediate else 8,
        pragmas=_SQLITE_PRAGMAS,
        timeout=30,
        pool_timeout=60,
    )


def upgrade(db: ServerDatabase, revision: str = "head") -> None:
    """Applies the migrations, then creates the chain's data key if there is none yet, or
    checks that the KEK opens it (``KekMissing``/``KekWrong``/``KekInvalid`` otherwise, and
    nothing is changed).

    Safe to run from several processes at once on PostgreSQL: it holds the write lock.
    The 64-byte personal-data key is kept in ``chain_settings`` wrapped by HQ's KEK
    (``sync.server.keys``); migration 0006 wraps the plain key of an older server.
    """
    from alembic import command
    from alembic.config import Config

    _refuse_newer(schema_revision(db))  # Alembic's "can't locate revision" said no more
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with db.write() as conn:
        cfg.attributes["connection"] = conn
        cfg.attributes["chain_keys"] = db.keys
        command.upgrade(cfg, revision)
        if revision == "head":
            db.keys.data_key(conn)


def migrate(url: str) -> None:
    """Opens the database at ``url``, brings it to head (:func:`upgrade`), and closes it."""
    db = open_server_database(url)
    try:
        upgrade(db)
    finally:
        db.dispose()


def schema_revision(db: ServerDatabase) -> str | None:
    """The applied migration, or None for a fresh database."""
    with db.read() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def require_current_schema(db: ServerDatabase) -> None:
    """Raises ``SchemaNotCurrent`` unless the migrations are applied up to ``SCHEMA_HEAD``."""
    found = schema_revision(db)
    _refuse_newer(found)
    if found != SCHEMA_HEAD:
        raise SchemaNotCurrent(found=found or "none", head=SCHEMA_HEAD)


def _refuse_newer(found: str | None) -> None:
    """``SchemaNewer`` for a schema past this program's (revisions are 4-digit numbers)."""
    if found is not None and is_newer_revision(found, SCHEMA_HEAD):
        raise SchemaNewer(found=found, head=SCHEMA_HEAD)

