"""Statements run by the driver (``sync.server.driver``): the same rows as through SQLAlchemy,
and a database error raised as SQLAlchemy raises it (the push's conflict handling and the
retry on deadlocks read SQLAlchemy's classes), on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import bindparam, select, text
from sqlalchemy.exc import IntegrityError

from sync.server.db import open_server_database
from sync.server.driver import Statement
from sync.server.models import MemberHome

_HOME = Statement(select(MemberHome.member_id, MemberHome.store_id)
                  .where(MemberHome.member_id == bindparam("m")))
_ADD = Statement(text("INSERT INTO member_homes (member_id, store_id) VALUES (:m, :s)"))


def test_rows_and_errors_as_through_sqlalchemy(database_url: str) -> None:
    db = open_server_database(database_url)
    try:
        with db.write() as conn:
            assert _ADD.rows(conn, {"m": "m1", "s": "100% s1"}) == []  # a % is no placeholder
            rows = _HOME.rows(conn, {"m": "m1"})
            assert [(r.member_id, r.store_id) for r in rows] == [("m1", "100% s1")]
            assert _HOME.rows(conn, {"m": "m2"}) == []
        with pytest.raises(IntegrityError), db.write() as conn:
            _ADD.rows(conn, {"m": "m1", "s": "s2"})
        with db.read() as conn:  # the failed transaction rolled back, the first stays
            assert [tuple(r) for r in _HOME.rows(conn, {"m": "m1"})] == [("m1", "100% s1")]
    finally:
        db.dispose()
