"""A push's projections kept for its end (``sync.server.later``): written at ``flush`` — one
statement on PostgreSQL — the same rows as written one by one, a home stored before winning
over this push's, and nothing before the flush."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import Connection, select

from sync.server import balances
from sync.server.db import open_server_database
from sync.server.later import Later
from sync.server.models import DeviceProgress, EventRoute, MemberHome, MemberIndex
from tests.server.factories import LiveServer

OLD, NEW, NONE = "m-old", "m-new", "m-none"


def _tables(conn: Connection) -> dict[str, Any]:
    return {
        "homes": sorted(conn.execute(select(MemberHome.member_id, MemberHome.store_id)).all()),
        "routes": sorted(conn.execute(select(EventRoute.store_id, EventRoute.position)).all()),
        "index": conn.execute(select(MemberIndex.phone_index, MemberIndex.member_id)).all(),
        "progress": conn.execute(select(DeviceProgress.device_id,
                                        DeviceProgress.acked_through)).all(),
    }


def test_kept_writes_land_at_the_flush_as_written_one_by_one(database_url: str) -> None:
    db = open_server_database(database_url)
    try:
        with db.write() as conn:
            conn.execute(MemberHome.__table__.insert(), [{"member_id": OLD, "store_id": "s1"}])
            later = Later(conn, keep=True)
            # OLD is registered again (a restored till's copy): its first home stays
            later.add_routes({NEW: "s2", OLD: "s3"}, [("*", 1)],
                             [(2, "s1", OLD), (2, "s1", NEW), (2, "s1", NONE), (3, "s2", NEW),
                              (4, "s3", OLD)])
            later.add_index([("p" * 64, NEW, "0002010000011", "h", "e")])
            later.add_progress("d1", 4, existed=False)
            assert _tables(conn)["routes"] == [] and _tables(conn)["progress"] == []
            later.flush()
            later.flush()  # nothing kept: nothing written twice
            assert _tables(conn) == {
                "homes": [(NEW, "s2"), (OLD, "s1")],
                # 2: NEW's home s2 (OLD's is its own s1, NONE has none); 3: NEW is at home;
                # 4: OLD's home is s1, not the s3 this push would have given it
                "routes": [("*", 1), ("s1", 4), ("s2", 2)],
                "index": [("p" * 64, NEW)],
                "progress": [("d1", 4)],
            }
            later.add_progress("d1", 6, existed=True)
            later.flush()
            assert _tables(conn)["progress"] == [("d1", 6)]
    finally:
        db.dispose()


def test_texts_holding_the_separator_are_written_whole(database_url: str) -> None:
    """PostgreSQL binds a column of texts as one text split at ``chr(31)``; a column one of
    whose texts holds it (or that is one empty text) goes as an array: the same rows."""
    odd, home = "m\x1fodd", "s\x1f9"
    db = open_server_database(database_url)
    try:
        with db.write() as conn:
            conn.execute(MemberHome.__table__.insert(), [{"member_id": odd, "store_id": home}])
            later = Later(conn, keep=True)
            later.add_routes({NEW: "s2", "": "s4"}, [("*", 1), ("\x1f", 5)],
                             [(2, "s1", odd), (2, "s1", NEW), (3, "s\x1f2", NEW)])
            later.add_index([("p" * 64, NEW, "0002\x1f", "h", "e")])
            later.flush()
            tables = _tables(conn)
            number = conn.execute(select(MemberIndex.member_no)).scalar_one()
    finally:
        db.dispose()
    assert tables["homes"] == sorted([("", "s4"), (NEW, "s2"), (odd, home)])
    assert tables["routes"] == sorted([("*", 1), ("\x1f", 5), (home, 2), ("s2", 2), ("s2", 3)])
    assert tables["index"] == [("p" * 64, NEW)] and number == "0002\x1f"


def test_a_push_writes_its_end_statement_before_the_member_rows(
        server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A push's end statement (its routes, homes, ``member_index``, progress and a
    registrations-only push's cards) is written before the balances' upsert, whose rows
    other pushes wait on until this push commits (docs/scale.md, "Pushes at once"); nothing
    is left to write at the end."""
    order: list[str] = []
    flush, add = Later.flush, balances.after_store

    def flushed(self: Later) -> None:
        if self.homes or self.fixed or self.wanted or self.index or self.progress or self.cards:
            order.append("end statement" + (" with cards" if self.cards else ""))
        flush(self)

    def added(log: Any, conn: Connection, stored: Any) -> None:
        order.append("balances")
        add(log, conn, stored)

    monkeypatch.setattr(Later, "flush", flushed)
    monkeypatch.setattr(balances, "after_store", added)
    till = server.enrol()
    member_id = str(uuid.uuid4())
    registered = till.event(type="member.registered", payload=till.registered({
        "member_id": member_id, "member_no": f"{till.enrolment.store_number:04d}01"
        f"{till.next_seq:08d}", "store_id": till.store_id, "phone_index": uuid.uuid4().hex}))
    topped = till.event(type="sv.topped_up", payload={
        "member_id": member_id, "txn_id": str(uuid.uuid4()), "principal_delta_fen": 5_000,
        "bonus_delta_fen": 0})
    assert till.push([registered, topped]).acked_through == 2
    assert order == ["end statement with cards", "balances"]
