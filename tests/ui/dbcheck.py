"""Reading the till's database from UI tests: what was written, and nothing else."""

from __future__ import annotations

import sqlite3

from tests.factories import Till


def added(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """Rows added per table between two ``Till.table_counts()``; unchanged tables left out."""
    return {t: after[t] - before.get(t, 0) for t in after if after[t] != before.get(t, 0)}


def count_events(till: Till, type_: str) -> int:
    return _count(till, "SELECT count(*) FROM events WHERE type = ?", type_)


def count_audit(till: Till, action: str) -> int:
    return _count(till, "SELECT count(*) FROM audit_log WHERE action = ?", action)


def staff_code(till: Till, staff_id: str | None) -> str:
    con = sqlite3.connect(till.path)
    try:
        return con.execute("SELECT code FROM staff WHERE id = ?", (staff_id,)).fetchone()[0]
    finally:
        con.close()


def _count(till: Till, sql: str, arg: str) -> int:
    con = sqlite3.connect(till.path)
    try:
        return con.execute(sql, (arg,)).fetchone()[0]
    finally:
        con.close()
