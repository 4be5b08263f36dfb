"""SQLite URIs for awkward paths: a folder named with ``#``, ``?``, ``%``, spaces or Chinese
opens (the checkpoint thread and the start-up glance at the store's name use them), and a
Windows drive or share path becomes the URI SQLite expects."""

from __future__ import annotations

import sqlite3
from pathlib import Path, PureWindowsPath

import pytest

from pos_member.db.engine import Checkpointer
from pos_member.db.sqlite_uri import sqlite_uri
from pos_member.db.store_name import peek_store_name

AWKWARD = ("门店 #1", "a?b", "100%", "x%20y")


@pytest.mark.parametrize("folder", AWKWARD)
def test_a_database_in_an_awkward_folder_opens_read_only(tmp_path: Path, folder: str) -> None:
    path = tmp_path / folder / "till.sqlite"
    path.parent.mkdir()
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE t (x)")
        con.execute("INSERT INTO t VALUES (42)")
    con = sqlite3.connect(sqlite_uri(path, mode="ro"), uri=True)
    try:
        assert con.execute("SELECT x FROM t").fetchone() == (42,)
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            con.execute("INSERT INTO t VALUES (1)")
    finally:
        con.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == [folder]  # nothing made beside it


def test_mode_rw_never_creates_a_database(tmp_path: Path) -> None:
    path = tmp_path / "门店 #1" / "till.sqlite"
    path.parent.mkdir()
    with pytest.raises(sqlite3.OperationalError):
        sqlite3.connect(sqlite_uri(path, mode="rw"), uri=True).execute("SELECT 1")
    assert not path.exists()


def test_the_checkpointer_and_the_store_name_glance_open_an_awkward_path(tmp_path: Path) -> None:
    path = tmp_path / "门店 #1?" / "till.sqlite"
    path.parent.mkdir()
    with sqlite3.connect(path) as con:
        con.execute("PRAGMA journal_mode=WAL")
        con.executescript(
            "CREATE TABLE settings (key, value); CREATE TABLE devices (id, store_id);"
            "CREATE TABLE stores (id, name); INSERT INTO settings VALUES ('device_id', 'd');"
            "INSERT INTO devices VALUES ('d', 's'); INSERT INTO stores VALUES ('s', '门店1');"
        )
    thread = Checkpointer(path, every=3600)
    try:
        busy, _, _ = thread.checkpoint()
        assert busy == 0
    finally:
        thread.stop()
    assert peek_store_name(path) == "门店1"
    assert not (tmp_path / "门店 #1").exists()


@pytest.mark.parametrize(("path", "uri"), [
    (r"C:\Users\店长\pos member\till.sqlite",
     "file:///C:/Users/%E5%BA%97%E9%95%BF/pos%20member/till.sqlite?mode=rw"),
    (r"\\nas\pos\till #2.sqlite", "file:////nas/pos/till%20%232.sqlite?mode=rw"),
])
def test_windows_paths_become_uris_with_an_empty_authority(path: str, uri: str) -> None:
    assert sqlite_uri(PureWindowsPath(path), mode="rw") == uri
