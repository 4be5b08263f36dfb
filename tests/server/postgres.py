"""A private PostgreSQL server for the tests, started from Debian's ``postgresql`` binaries.

PostgreSQL refuses to run as root, so as root it runs as the ``postgres`` system user (which
the Debian package creates) in a temporary folder that user owns. It listens on a free port
on 127.0.0.1 (and a unix socket in that folder), trusts local connections, and skips fsync.

``Replication.start`` adds a hot standby: a primary of its own (``wal_level=replica``), a copy
taken with ``pg_basebackup -R`` (from the ``postgresql-client`` package that ``postgresql``
depends on) and started on another port, streaming from the primary over loopback.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

REQUIRE_ENV = "POS_MEMBER_REQUIRE_POSTGRES"


def find_bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def required_bin_dir() -> Path:
    """``find_bin_dir`` for a script (the benchmarks): without the binaries it exits 1 saying
    so."""
    found = find_bin_dir()
    if found is None:
        raise SystemExit("PostgreSQL binaries not installed (/usr/lib/postgresql/*/bin)")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PostgresServer:
    bin_dir: Path
    base: Path
    port: int
    as_user: list[str]
    # Databases at the server's newest schema to copy, by key-encryption key.
    templates: dict[str | None, str] = field(default_factory=dict)

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, *, migrated: bool = False) -> str:
        """A fresh database; returns its SQLAlchemy URL. ``migrated``: at the server's newest
        schema, a copy of a template the real migrations built once on this server (one for
        each key-encryption key: the chain's data key in it is wrapped with the environment's),
        which costs half of creating a database and migrating it."""
        import psycopg

        template = ""
        if migrated:
            kek = os.environ.get("POS_MEMBER_SERVER_KEK")
            if kek not in self.templates:
                from sync.server.db import migrate

                url = self.create_database()
                migrate(url)
                self.templates[kek] = url.rsplit("/", 1)[1]
            template = f' TEMPLATE "{self.templates[kek]}"'
        name = f"t_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"{template}')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Drops a database :meth:`create_database` made, closing whatever still uses it: each
        is a copy of ``template1`` (~8 MB), and a run that kept them all wrote gigabytes,
        slowing every later one and the server's removal at the end."""
        import psycopg

        name = url.rsplit("/", 1)[1]
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _run(self, *args: str) -> None:
        subprocess.run([*self.as_user, *args], check=True, capture_output=True, timeout=120)

    @classmethod
    def start(cls, bin_dir: Path, *, primary: bool = False, settings: str = "") -> PostgresServer:
        """A new server; ``primary``: one that a standby can stream from (every commit's WAL
        sent at once, full-page writes kept for the base backup). ``settings``: more ``-c``
        options (a benchmark's ``pg_stat_statements``)."""
        server = cls._new(bin_dir)
        server._run(str(bin_dir / "initdb"), "-D", str(server.data), "-U", "postgres",
                    "--auth=trust", "-E", "UTF8", "--no-sync")
        server._pg_ctl_start(
            "-c wal_level=replica -c max_wal_senders=4 -c synchronous_commit=on" if primary
            else f"-c synchronous_commit=off -c full_page_writes=off {settings}")
        return server

    @classmethod
    def start_copy(cls, bin_dir: Path, data: Path, settings: str) -> PostgresServer:
        """A new server on a copy of the data folder ``data`` (a stopped server's, as the
        benchmarks cache their fixtures), owned by the user it runs as."""
        server = cls._new(bin_dir)
        shutil.copytree(data, server.data)
        if server.as_user:
            subprocess.run(["chown", "-R", "postgres:postgres", str(server.data)], check=True)
        server.data.chmod(0o700)
        server._pg_ctl_start(settings)
        return server

    @classmethod
    def _new(cls, bin_dir: Path) -> PostgresServer:
        base = Path(tempfile.mkdtemp(prefix="posm-pg-"))
        as_user: list[str] = []
        if os.geteuid() == 0:
            pg = pwd.getpwnam("postgres")
            os.chown(base, pg.pw_uid, pg.pw_gid)
            as_user = ["runuser", "-u", "postgres", "--"]
        return cls(bin_dir=bin_dir, base=base, port=free_port(), as_user=as_user)

    @property
    def data(self) -> Path:
        return self.base / "data"

    def _pg_ctl_start(self, settings: str) -> None:
        options = (f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off "
                   f"-c max_connections=300 {settings}")
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-l",
                  str(self.base / "log"), "-w", "-t", "60", "-o", options, "start")

    def scalar(self, sql: str, *params: object) -> object:
        """One value of one statement, in autocommit, on the ``postgres`` database."""
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            row = conn.execute(sql, params).fetchone()
        return row[0] if row else None

    def stop(self) -> None:
        try:
            self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.base / "data"),
                      "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.base, ignore_errors=True)


@dataclass
class Replication:
    """A primary and a hot standby streaming from it (trust auth on loopback, as above)."""

    primary: PostgresServer
    standby: PostgresServer

    @classmethod
    def start(cls, bin_dir: Path) -> Replication:
        primary = PostgresServer.start(bin_dir, primary=True)
        try:
            standby = PostgresServer._new(bin_dir)
            try:
                standby._run(str(bin_dir / "pg_basebackup"), "-h", "127.0.0.1",
                             "-p", str(primary.port), "-U", "postgres", "-D", str(standby.data),
                             "-R", "-X", "stream", "-c", "fast", "--no-sync")
                standby._pg_ctl_start("-c hot_standby=on -c synchronous_commit=off")
            except BaseException:
                shutil.rmtree(standby.base, ignore_errors=True)
                raise
        except BaseException:
            primary.stop()
            raise
        return cls(primary=primary, standby=standby)

    def create_database(self) -> tuple[str, str]:
        """A fresh empty database on the primary, once the standby has it too: its URLs on
        the primary and on the standby."""
        url = self.primary.create_database()
        self.wait_replayed()
        return url, self.standby.url(url.rsplit("/", 1)[1])

    def wait_replayed(self, timeout: float = 60) -> None:
        """Returns once the standby has replayed everything the primary has written so far:
        polls ``pg_last_wal_replay_lsn()`` up to the primary's ``pg_current_wal_lsn()``."""
        import psycopg

        target = self.primary.scalar("SELECT pg_current_wal_lsn()::text")
        deadline = time.monotonic() + timeout
        with psycopg.connect(self.standby.admin_url, autocommit=True) as conn:
            while True:
                row = conn.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn",
                                   (target,)).fetchone()
                if row and row[0]:
                    return
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the standby did not replay up to {target}")
                time.sleep(0.005)

    def pause_replay(self, timeout: float = 60) -> None:
        """Stops the standby applying WAL (it still receives it); returns once it has stopped:
        from then on it answers as of the moment it paused, a replica lagging behind."""
        self.standby.scalar("SELECT pg_wal_replay_pause()")
        deadline = time.monotonic() + timeout
        while self.standby.scalar("SELECT pg_get_wal_replay_pause_state()") != "paused":
            if time.monotonic() > deadline:
                raise TimeoutError("the standby did not pause replay")
            time.sleep(0.005)

    def resume_replay(self) -> None:
        self.standby.scalar("SELECT pg_wal_replay_resume()")

    def stop(self) -> None:
        try:
            self.standby.stop()
        finally:
            self.primary.stop()
