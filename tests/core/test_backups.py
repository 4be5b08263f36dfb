"""Daily copies of the till's database: consistent while the till writes, one file each, kept
for their days, put back only when they are a till database (nothing moved otherwise)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from pos_member.bootstrap import bootstrap
from pos_member.db.backups import (
    BackupKeeper,
    backup_database,
    backup_name,
    daily_backup,
    restore_database,
)
from pos_member.db.models import Member
from pos_member.errors import BackupRefused
from tests.factories import Till, make_till

DAY = date(2026, 12, 4)


def members(path: Path) -> int:
    con = sqlite3.connect(path)
    try:
        return con.execute("SELECT count(*) FROM members").fetchone()[0]
    finally:
        con.close()


def test_a_copy_taken_while_the_till_writes_is_one_consistent_file(till: Till,
                                                                     tmp_path: Path) -> None:
    for _ in range(3):
        till.register()
    with till.app.db.write.begin() as conn:  # a write in flight is not in the copy
        conn.execute(Member.__table__.delete())
        copy = backup_database(till.path, tmp_path / "copies" / backup_name(DAY))
    assert members(copy) == 3
    assert not copy.with_name(copy.name + "-wal").exists()
    assert not list(copy.parent.glob("*.part"))
    con = sqlite3.connect(copy)
    try:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        con.close()


def test_copies_are_kept_for_their_days_and_nothing_else_is_touched(till: Till,
                                                                    tmp_path: Path) -> None:
    folder = tmp_path / "copies"
    folder.mkdir()
    for days_ago in (20, 14, *range(1, 14)):
        (folder / backup_name(DAY - timedelta(days=days_ago))).write_bytes(b"old")
    (folder / "notes.txt").write_text("mine", encoding="utf-8")
    made = daily_backup(till.path, folder, today=DAY, keep_days=14)
    assert sorted(p.name for p in folder.iterdir()) == [
        "notes.txt", *(backup_name(DAY - timedelta(days=d)) for d in range(13, 0, -1)),
        made.name]
    assert made.name == "till-2026-12-04.sqlite"


def test_few_copies_are_kept_however_old_they_are(till: Till, tmp_path: Path) -> None:
    """A till not run for weeks keeps what it has: fewer than ``keep_days`` copies stay."""
    folder = tmp_path / "copies"
    folder.mkdir()
    old = folder / backup_name(DAY - timedelta(days=40))
    old.write_bytes(b"old")
    daily_backup(till.path, folder, today=DAY, keep_days=14)
    assert old.exists()


@pytest.mark.parametrize("jump", [365, -365])
def test_a_till_clock_jumping_a_year_never_takes_the_history(till: Till, tmp_path: Path,
                                                             jump: int) -> None:
    folder = tmp_path / "copies"
    folder.mkdir()
    history = [folder / backup_name(DAY - timedelta(days=d)) for d in range(14)]
    for path in history:
        path.write_bytes(b"old")
    made = daily_backup(till.path, folder, today=DAY + timedelta(days=jump), keep_days=14)
    left = {p.name for p in folder.iterdir()}
    assert made.name in left
    # Forward: the newest 14 copies stay (the jumped one and 13 of the history); back: all.
    kept = history[:13] if jump > 0 else history
    assert {p.name for p in kept} <= left
    assert len(left) == (14 if jump > 0 else 15)


@pytest.mark.parametrize("bad", ["missing", "text", "other sqlite"])
def test_restoring_something_that_is_not_a_till_database_moves_nothing(
        till: Till, tmp_path: Path, bad: str) -> None:
    till.register()
    source = tmp_path / "bad.sqlite"
    if bad == "text":
        source.write_text("not a database", encoding="utf-8")
    elif bad == "other sqlite":
        sqlite3.connect(source).execute("CREATE TABLE x (y)").connection.close()
    till.app.close()
    before = till.path.read_bytes()
    with pytest.raises(BackupRefused):
        restore_database(source, till.path, now=datetime(2026, 12, 4, 9, 0, tzinfo=UTC))
    assert till.path.read_bytes() == before
    assert not list(till.path.parent.glob("*.before-restore-*"))


def test_a_restore_puts_the_copy_back_and_keeps_the_database_it_replaced(tmp_path: Path) -> None:
    till = make_till(tmp_path)
    till.register()
    copy = backup_database(till.path, tmp_path / "copies" / backup_name(DAY))
    till.register()
    till.app.close()
    aside = restore_database(copy, till.path, now=datetime(2026, 12, 4, 9, 30, tzinfo=UTC))
    assert aside == till.path.with_name(f"{till.path.name}.before-restore-20261204-093000")
    assert members(till.path) == 1 and members(aside) == 2
    reopened = bootstrap(till.path, keystore=till.keystore, clock=till.clock)
    try:
        assert reopened.identity is not None
        with reopened.uow.read() as s:
            assert s.scalar(select(func.count()).select_from(Member)) == 1
    finally:
        reopened.close()


def test_a_restore_under_a_running_till_is_refused_and_moves_nothing(tmp_path: Path) -> None:
    """The till still open on the database (its window, or the POS link): putting a copy in
    place would pull the file from under it, and everything it recorded after would go to a
    file nobody opens again. Refused, saying to close the till; nothing moved."""
    till = make_till(tmp_path)
    till.register()
    copy = backup_database(till.path, tmp_path / "copies" / backup_name(DAY))
    till.register()
    with pytest.raises(BackupRefused, match="close the till"):
        restore_database(copy, till.path, now=datetime(2026, 12, 4, 9, 30, tzinfo=UTC))
    assert not list(till.path.parent.glob("*.before-restore-*"))
    till.register()  # the till goes on, on its own database
    till.app.close()
    assert members(till.path) == 3


def test_the_keeper_makes_the_days_copy_once_and_a_fresh_one_at_closing(till: Till,
                                                                        tmp_path: Path) -> None:
    folder = tmp_path / "copies"
    keeper = BackupKeeper(till.path, folder, lambda: DAY, every=3600)
    try:
        assert keeper.made.wait(30)
        first = (folder / backup_name(DAY)).stat().st_mtime_ns
        till.register()
        keeper.made.clear()
        assert keeper.closing() == folder / backup_name(DAY)
        assert members(folder / backup_name(DAY)) == 1
        assert (folder / backup_name(DAY)).stat().st_mtime_ns >= first
    finally:
        keeper.stop()
    assert [p.name for p in folder.iterdir()] == [backup_name(DAY)]
