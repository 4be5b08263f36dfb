"""Consistent copies of the till's database, and putting one back.

A copy is made with SQLite's online backup API from a read connection, in one step: it is the
database as of one committed moment, WAL included, taken while the till keeps working (a copy
of the file could catch a commit halfway). Copies are single files (journal mode DELETE, no
-wal beside them) named ``till-YYYY-MM-DD.sqlite`` by the store's date; the till keeps one a day
(:func:`daily_backup`: at start and at every closing, the later one of a day replacing the
earlier), the newest ``keep_days`` of them always kept (:func:`prune`), and
``pos-member db backup`` makes one on demand.

``pos-member db restore FILE`` puts a copy back: the file must be a till database (its schema
is checked before anything moves); the current database is kept beside it as
``till.sqlite.before-restore-<time>``, never deleted. A restored till rejoins the chain on its
next sync without losing or doubling anything: HQ sees its later sequence numbers stored under
other events, the till takes a new identity and pulls back what it had lost
(``sync.recovery``, ``services.own_events``).

Personal data stay sealed in a copy, under the data key in the OS credential store: a copy is
only readable where that key is (docs/deploy.md, "Backups").
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import threading
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from pos_member.db.sqlite_uri import sqlite_uri
from pos_member.errors import BackupRefused

log = logging.getLogger(__name__)

KEEP_DAYS = 14
PREFIX = "till-"
_NAME = re.compile(r"^till-(\d{4}-\d{2}-\d{2})(?:-\d{6})?\.sqlite$")
CHECK_EVERY_S = 3600.0  # the keeper looks whether the store's day changed this often


def backup_name(day: date, at: datetime | None = None) -> str:
    """``till-2026-12-04.sqlite`` (a daily copy), or with the time for an on-demand one."""
    stamp = day.isoformat() if at is None else f"{day.isoformat()}-{at:%H%M%S}"
    return f"{PREFIX}{stamp}.sqlite"


def backup_database(db_path: Path, target: Path) -> Path:
    """Copies the database at ``db_path`` to ``target`` (replaced atomically): one consistent
    snapshot through the backup API, checked before it replaces anything."""
    if not db_path.exists():
        raise BackupRefused(problem=f"there is no database at {db_path}")
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    part.unlink(missing_ok=True)
    source = sqlite3.connect(sqlite_uri(db_path.resolve(), mode="ro"), uri=True, timeout=30)
    try:
        copy = sqlite3.connect(part)
        try:
            source.backup(copy)  # pages=-1: the whole database in one step, one snapshot
            copy.execute("PRAGMA journal_mode=DELETE")
            if copy.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise BackupRefused(problem="the copy did not pass SQLite's check")
        finally:
            copy.close()
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    finally:
        source.close()
    with part.open("rb") as f:
        os.fsync(f.fileno())
    part.replace(target)
    return target


def daily_backup(db_path: Path, folder: Path, *, today: date,
                 keep_days: int = KEEP_DAYS) -> Path:
    """Today's copy in ``folder`` (made now, replacing an earlier one of today), then the
    old copies pruned (:func:`prune`). Returns the copy."""
    made = backup_database(db_path, folder / backup_name(today))
    prune(folder, today=today, keep_days=keep_days, made=made)
    return made


def prune(folder: Path, *, today: date, keep_days: int, made: Path | None = None
          ) -> list[Path]:
    """Removes the copies that are both out of the newest ``keep_days`` copies and
    ``keep_days`` days or more older than the newest copy and than ``today``; returns them.
    ``made`` (the copy just taken) is always kept. A till clock jumping forward (a year) or
    back can therefore never take the history: the newest ``keep_days`` copies stay whatever
    the dates say (docs/rules.md, "Backups"). Files not named as copies are never touched."""
    copies = []
    for path in folder.glob(f"{PREFIX}*.sqlite"):
        found = _NAME.match(path.name)
        if found:
            copies.append((date.fromisoformat(found.group(1)), path.name, path))
    if not copies:
        return []
    copies.sort(reverse=True)  # newest first: by the name's date, then an on-demand copy's time
    judged_at = min(today, copies[0][0])
    removed = []
    for day, _, path in copies[keep_days:]:
        if path != made and (judged_at - day).days >= keep_days:
            path.unlink()
            removed.append(path)
    return removed


def has_backup(folder: Path, day: date) -> bool:
    return (folder / backup_name(day)).exists()


def restore_database(backup: Path, db_path: Path, *, now: datetime) -> Path:
    """Puts ``backup`` in place of the database at ``db_path``; returns where the current one
    was moved (``…before-restore-<time>``). ``BackupRefused``, with nothing moved, for a file
    that is not a till database. Run with the till closed."""
    problem = _not_a_till_database(backup)
    if problem is not None:
        raise BackupRefused(problem=problem)
    if db_path.exists() and _in_use(db_path):
        raise BackupRefused(problem=f"{db_path} is open in a running till: close the till "
                                    "(its window and the POS link) first")
    db_path.parent.mkdir(parents=True, exist_ok=True)
    aside = db_path.with_name(f"{db_path.name}.before-restore-{now:%Y%m%d-%H%M%S}")
    if db_path.exists():
        backup_database(db_path, aside)  # the WAL's commits included: whole on its own
    backup_database(backup, db_path.with_name(db_path.name + ".restoring"))
    for suffix in ("-wal", "-shm"):
        db_path.with_name(db_path.name + suffix).unlink(missing_ok=True)
    db_path.with_name(db_path.name + ".restoring").replace(db_path)
    return aside


def _in_use(path: Path) -> bool:
    """Whether another connection has the database open (a running till, in this process or
    another): an exclusive lock in SQLite's exclusive locking mode is refused while any
    connection holds the WAL database open, idle or not; released at once when got."""
    try:
        con = sqlite3.connect(sqlite_uri(path.resolve(), mode="rw"), uri=True, timeout=0,
                              isolation_level=None)
    except sqlite3.Error:
        return False  # not openable: the restore's own steps say why
    try:
        con.execute("PRAGMA locking_mode=EXCLUSIVE")
        con.execute("BEGIN EXCLUSIVE")
        con.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError as e:
        return "locked" in str(e) or "busy" in str(e)
    finally:
        con.close()


def _not_a_till_database(path: Path) -> str | None:
    if not path.is_file():
        return f"no file {path}"
    try:
        con = sqlite3.connect(sqlite_uri(path.resolve(), mode="ro"), uri=True)
    except sqlite3.Error as e:
        return f"{path} cannot be opened: {e}"
    try:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not {"alembic_version", "settings", "events", "members"} <= tables:
            return f"{path} is not a till database"
        if con.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            return f"{path} is damaged (SQLite's check failed)"
    except sqlite3.Error:
        return f"{path} is not a till database"
    finally:
        con.close()
    return None


class BackupKeeper:
    """Makes the day's copy on a thread of its own: once now if there is none for today, then
    whenever the store's date changes (checked hourly) — a till left running overnight still
    gets one a day. :meth:`closing` makes a fresh one at closing time. A failed copy is logged
    and tried again next time; the till never waits for a copy."""

    def __init__(self, db_path: Path, folder: Path, today: Callable[[], date], *,
                 keep_days: int = KEEP_DAYS, every: float = CHECK_EVERY_S) -> None:
        self.db_path, self.folder, self.keep_days = db_path, folder, keep_days
        self._today, self._every = today, every
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.last: Path | None = None
        self.made = threading.Event()  # set after every copy (tests wait on it)
        self._thread = threading.Thread(target=self._run, name="daily-backup", daemon=True)
        self._thread.start()

    def closing(self) -> Path | None:
        """A fresh copy of the day at closing time (replacing the morning's)."""
        return self._copy(force=True)

    def _copy(self, *, force: bool) -> Path | None:
        with self._lock:
            today = self._today()
            if not force and has_backup(self.folder, today):
                return None
            try:
                self.last = daily_backup(self.db_path, self.folder, today=today,
                                         keep_days=self.keep_days)
            except (sqlite3.Error, OSError, BackupRefused) as e:
                log.warning("the day's backup failed: %s", e)
                return None
            log.info("backup made: %s", self.last.name)
            self.made.set()
            return self.last

    def _run(self) -> None:
        while True:
            self._copy(force=False)
            if self._stop.wait(self._every):
                return

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
