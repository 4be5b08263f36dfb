"""A glance at a till database with bare sqlite3, for start-up: the login window can show the
store's name before SQLAlchemy and the migrations are even imported."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from pos_member.db.sqlite_uri import sqlite_uri


def peek_store_name(path: Path) -> str | None:
    """The store this till is set up for, or None when there is no database or no store yet."""
    if not path.exists():
        return None
    try:
        con = sqlite3.connect(sqlite_uri(path.resolve(), mode="ro"), uri=True)
    except sqlite3.Error:
        return None
    try:
        row = con.execute(
            "SELECT s.name FROM settings AS k JOIN devices AS d ON d.id = k.value "
            "JOIN stores AS s ON s.id = d.store_id WHERE k.key = 'device_id'"
        ).fetchone()
    except sqlite3.Error:
        return None
    finally:
        con.close()
    return row[0] if row else None
