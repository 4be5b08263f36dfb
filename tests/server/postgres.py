"""A private PostgreSQL server for the tests, started from Debian's ``postgresql`` binaries.

PostgreSQL refuses to run as root, so as root it runs as the ``postgres`` system user (which
the Debian package creates) in a temporary folder that user owns. It listens on a free port
on 127.0.0.1 (and a unix socket in that folder), trusts local connections, and skips fsync.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

REQUIRE_ENV = "POS_MEMBER_REQUIRE_POSTGRES"


def find_bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


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

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A fresh empty database; returns its SQLAlchemy URL."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def _run(self, *args: str) -> None:
        subprocess.run([*self.as_user, *args], check=True, capture_output=True, timeout=120)

    @classmethod
    def start(cls, bin_dir: Path) -> PostgresServer:
        base = Path(tempfile.mkdtemp(prefix="posm-pg-"))
        as_user: list[str] = []
        if os.geteuid() == 0:
            pg = pwd.getpwnam("postgres")
            os.chown(base, pg.pw_uid, pg.pw_gid)
            as_user = ["runuser", "-u", "postgres", "--"]
        server = cls(bin_dir=bin_dir, base=base, port=free_port(), as_user=as_user)
        data = base / "data"
        server._run(str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres",
                    "--auth=trust", "-E", "UTF8", "--no-sync")
        options = (
            f"-p {server.port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
        )
        server._run(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(base / "log"),
                    "-w", "-t", "60", "-o", options, "start")
        return server

    def stop(self) -> None:
        try:
            self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.base / "data"),
                      "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.base, ignore_errors=True)
