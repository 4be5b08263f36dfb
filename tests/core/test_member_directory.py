"""The chain-wide member directory (issue 14): a till holds another store's members as slim
directory rows, not in ``members``; a scan recognises them offline, a sale may name them, the
directory's events keep them current; and a row stays under 200 bytes with its indexes."""

from __future__ import annotations

import os
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from pos_member.db.models import DirectoryEntry, Member, PointsEntry
from pos_member.member_code import make_member_no
from pos_member.services import member_directory, sales
from pos_member.services.member_cards import find_member, get_member
from pos_member.services.outbox import pending_events
from tests.factories import Till, make_till, new_phone, server_event, wire_events
from tests.factories import apply_pulled as apply

MAX_BYTES_PER_MEMBER = 200


def _members(till: Till) -> set[str]:
    with till.uow.read() as s:
        return set(s.scalars(select(Member.id)))


def _pull_registration(a: Till, b: Till, phone: str) -> Any:
    card = a.register(phone)
    apply(b, [e for e in wire_events(a) if e["type"] == "member.registered"])
    return card


def test_another_stores_member_is_in_the_directory_not_in_members(a: Till, other: Till) -> None:
    phone = new_phone()
    card = _pull_registration(a, other, phone)
    assert card.id not in _members(other)
    by_number = find_member(other.uow, clerk=other.cashier, code=card.member_no)
    by_qr = find_member(other.uow, clerk=other.cashier, code=card.qr_payload)
    by_phone = find_member(other.uow, clerk=other.cashier, code=phone)
    for found in (by_number, by_qr, by_phone):
        assert (found.id, found.member_no, found.remote) == (card.id, card.member_no, True)
        assert found.store_name.endswith("0001") or found.store_name == "门店1"
        assert found.name_masked is None and found.tier == "regular"
    assert by_phone.phone_masked == card.phone_masked
    assert get_member(other.uow, clerk=other.cashier, member_id=card.id).remote
    # The till's own members stay in full, and in the directory too.
    own = other.register(new_phone())
    assert not find_member(other.uow, clerk=other.cashier, code=own.member_no).remote
    assert _directory(other, own.id) is not None


def _directory(till: Till, member_id: str) -> member_directory.DirectoryMember | None:
    with till.uow.read() as s:
        return member_directory.by_id(s.connection(), member_id)


def test_the_directory_follows_tier_blocks_freezes_and_merges(a: Till, other: Till) -> None:
    card = _pull_registration(a, other, new_phone())
    apply(other, [server_event("member.tier_changed", {
        "member_id": card.id, "from": "regular", "to": "gold", "reason": "upgrade",
        "at": "2026-01-05T12:00:00+00:00"}, hlc="001767600000001-000000")], first=10)
    apply(other, [server_event("member.tier_changed", {  # older: loses
        "member_id": card.id, "from": "regular", "to": "silver", "reason": "upgrade",
        "at": "2026-01-05T11:00:00+00:00"}, hlc="001767500000000-000000")], first=11)
    apply(other, [server_event("member.balance_blocked", {
        "member_id": card.id, "flag_id": "7", "balance_fen": -100}),
        server_event("sv.frozen", {"member_id": card.id, "reason": "lost card"})], first=12)
    found = find_member(other.uow, clerk=other.cashier, code=card.member_no)
    assert found.tier == "gold"
    d = _directory(other, card.id)
    assert d is not None and d.blocked and d.frozen
    apply(other, [server_event("member.balance_unblocked", {"member_id": card.id, "flag_id": "7"}),
              server_event("sv.unfrozen", {"member_id": card.id, "reason": "found"})], first=14)
    d = _directory(other, card.id)
    assert d is not None and not d.blocked and not d.frozen
    # Merged into other's own member: the number scans to the winner, held here in full.
    winner = other.register(new_phone())
    apply(other, [server_event("member.merged", {
        "winner_member_id": winner.id, "loser_member_id": card.id,
        "winner_member_no": winner.member_no, "loser_member_no": card.member_no})], first=16)
    scanned = find_member(other.uow, clerk=other.cashier, code=card.member_no)
    assert (scanned.id, scanned.remote) == (winner.id, False)
    assert card.id not in _members(other)


def test_a_tier_change_made_here_updates_this_tills_directory_row(a: Till) -> None:
    own = a.register(new_phone())
    result = sales.record_sale(a.uow, a.cashier, txn_id=str(uuid.uuid4()), bill_no="B-1",
                               amount_fen=500_000, member_id=own.id)
    assert result.tier_after == "silver"
    d = _directory(a, own.id)  # its own event never comes back in a pull
    assert d is not None and d.tier == "silver"


def test_a_sale_to_another_stores_member_earns_points_and_is_sent(a: Till, other: Till) -> None:
    card = _pull_registration(a, other, new_phone())
    result = sales.record_sale(other.uow, other.cashier, txn_id=str(uuid.uuid4()), bill_no="B-1",
                               amount_fen=10_000, member_id=card.id)
    assert result.earn is not None and result.earn.earned > 0
    assert result.tier_after == "regular"
    sale = [e for e in pending_events(other.uow, device_id=other.app.identity.device_id, limit=100)
            if e["type"] == "sale.recorded"]
    assert len(sale) == 1 and sale[0]["payload"]["member_id"] == card.id
    with other.uow.read() as s:
        earned = s.scalar(select(func.sum(PointsEntry.points))
                          .where(PointsEntry.member_id == card.id))
    assert earned == result.earn.earned
    assert card.id not in _members(other)


def test_a_directory_row_is_under_200_bytes_with_its_indexes(tmp_path: Path) -> None:
    """Measured: the database's pages before and after 20,000 members of other stores, with
    realistic values (UUIDv7 ids, 14-digit numbers, 32-byte blind indexes, a few tiers)."""
    till = make_till(tmp_path, store_number=9)
    n = 20_000
    rows = [{
        "member_no": int(make_member_no(store_no=1 + i % 997, device_no=1 + i % 7, seq=i + 1)),
        "member_id": uuid.UUID(bytes=os.urandom(16)).bytes, "phone": os.urandom(32),
        "status": "active", "tier": ("regular", "silver", "gold")[i % 3],
        "tier_at": 1_767_600_000_000_000_000 + i if i % 3 else 0, "flags": 0,
        "store_no": 1 + i % 997} for i in range(n)]
    path = till.path
    till.app.close()
    before = _used_bytes(path)
    from sqlalchemy import create_engine

    eng = create_engine(f"sqlite:///{path}")
    with eng.begin() as conn:
        conn.execute(insert(DirectoryEntry.__table__), rows)
    eng.dispose()
    per_member = (_used_bytes(path) - before) / n
    print(f"member_directory: {per_member:.1f} bytes per member")
    assert per_member <= MAX_BYTES_PER_MEMBER


def _used_bytes(path: Path) -> int:
    con = sqlite3.connect(path)
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        con.execute("VACUUM")
        pages = con.execute("PRAGMA page_count").fetchone()[0]
        free = con.execute("PRAGMA freelist_count").fetchone()[0]
        size = con.execute("PRAGMA page_size").fetchone()[0]
        return int((pages - free) * size)
    finally:
        con.close()


def test_migration_0014_fills_the_directory_from_the_members_a_till_holds(
        a: Till, other: Till, monkeypatch: pytest.MonkeyPatch) -> None:
    """A till of 0013 held every member of the chain in full: each gets its directory row,
    with its tier, block and freeze; nothing else changes."""
    from pos_member.bootstrap import bootstrap
    from pos_member.db import engine
    from pos_member.db.engine import schema_version
    from tests.core.test_till_migrations import downgrade, rows, same_columns

    own, theirs = a.register(), other.register()
    monkeypatch.setattr(member_directory, "full_too", lambda *args: True)  # as before 0014
    apply(a, wire_events(other))
    apply(a, [server_event("member.tier_changed", {
        "member_id": theirs.id, "from": "regular", "to": "silver", "reason": "upgrade",
        "at": "2026-01-05T12:00:00+00:00"}, hlc="001767600000001-000000"),
        server_event("member.balance_blocked", {"member_id": own.id, "flag_id": "3",
                                                "balance_fen": -5})], first=100)
    a.app.close()
    downgrade(a.path, "0013")
    assert schema_version(a.path) == "0013"
    before = rows(a.path)
    assert "member_directory" not in before
    app = bootstrap(a.path, keystore=a.keystore, clock=a.clock)  # the newer till opens it
    try:
        assert schema_version(a.path) == engine.SCHEMA_HEAD
        for table, (columns, old_rows) in before.items():
            assert same_columns(a.path, table, columns) == old_rows, table
        with app.uow.read() as s:
            conn = s.connection()
            mine, stranger = (member_directory.by_id(conn, own.id),
                              member_directory.by_id(conn, theirs.id))
        assert mine is not None and stranger is not None
        assert (mine.member_no, mine.store_no, mine.blocked, mine.tier) == (
            own.member_no, 1, True, "regular")
        assert (stranger.member_no, stranger.store_no, stranger.tier) == (
            theirs.member_no, 2, "silver")
    finally:
        app.close()


def test_a_snapshot_adds_the_rows_not_here_in_one_transaction(a: Till) -> None:
    """``load_snapshot`` writes through the driver: the rows as HQ sent them, those already
    here kept, and a failing row (an id held under another number) leaves nothing written."""
    from sqlalchemy.exc import IntegrityError

    from pos_member.db.models import Setting

    store = str(uuid.uuid4())
    numbers = [make_member_no(store_no=2, device_no=1, seq=i) for i in range(1, 5)]
    ids = [str(uuid.uuid4()) for _ in numbers[:3]] + ["legacy-7"]
    snap = [(no, mid, f"{i:064x}", 2) for i, (no, mid) in enumerate(zip(numbers, ids, strict=True))]
    snap[1] = (numbers[1], ids[1], None, 2)  # a placeholder phone: no index

    def position() -> str | None:
        with a.uow.read() as s:
            return s.scalar(select(Setting.value).where(
                Setting.key == member_directory.SNAPSHOT_POSITION))

    def count() -> int:
        with a.uow.read() as s:
            return int(s.scalar(select(func.count()).select_from(DirectoryEntry)) or 0)

    kw = {"stores": [(store, 2)]}
    assert member_directory.load_snapshot(a.uow, position=7, members=snap[:3], **kw) == 3
    assert member_directory.load_snapshot(a.uow, position=9, members=snap, **kw) == 1
    assert (position(), count()) == ("9", 4)
    found = [_directory(a, mid) for mid in ids]
    assert [(m.member_no, m.store_no, m.status, m.tier) for m in found if m] == [
        (no, 2, "active", "regular") for no in numbers]
    with a.uow.read() as s:
        phones = dict(s.execute(select(DirectoryEntry.member_no, DirectoryEntry.phone)).all())
    assert phones[int(numbers[0])] == bytes(32) and phones[int(numbers[1])] is None
    clash = [(make_member_no(store_no=2, device_no=1, seq=9), str(uuid.uuid4()), None, 2),
             (make_member_no(store_no=2, device_no=1, seq=8), ids[0], None, 2)]
    with pytest.raises(IntegrityError):
        member_directory.load_snapshot(a.uow, position=11, members=clash, **kw)
    assert (position(), count()) == ("9", 4)
