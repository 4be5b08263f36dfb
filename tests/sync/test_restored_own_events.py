"""A till restored from an older copy of its data folder, synced before it records anything:
HQ answers its unsent events as duplicates, and its pull brings back what it had recorded and
sent since the copy (found by the chain simulation, seed 2 with the fork recovery: before,
those events were skipped as "own" for ever and the till disagreed with the chain)."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import select

from pos_member.db.models import Member
from pos_member.services.outbox import pending_count
from tests.sync.harness import Central, Till, assert_ledgers, enrolled_till, points_and_balances


def _files(till: Till) -> list[Path]:
    return [till.path, *(till.path.with_name(till.path.name + s) for s in ("-wal", "-shm"))]


def _copy(till: Till, to: Path) -> None:
    till.app.close()
    to.mkdir()
    for f in _files(till):
        if f.exists():
            shutil.copy2(f, to / f.name)
    till.reopen()


def _put_back(till: Till, copy: Path) -> None:
    till.app.close()
    for f in _files(till):
        f.unlink(missing_ok=True)
        if (copy / f.name).exists():
            shutil.copy2(copy / f.name, f)
    till.reopen()


def _members(till: Till) -> list[tuple[str, str]]:
    with till.app.uow.read() as s:
        return [tuple(r) for r in s.execute(  # type: ignore[misc]
            select(Member.id, Member.member_no).order_by(Member.id))]


def test_a_restored_till_gets_back_from_hq_what_it_sent_after_the_copy(
    tmp_path: Path, central: Central,
) -> None:
    till = enrolled_till(central, tmp_path / "till.sqlite", 1)
    other = enrolled_till(central, tmp_path / "other.sqlite", 1)  # the store's 2nd
    try:
        till.visit(1)
        till.sync()
        _copy(till, tmp_path / "copy")
        till.visit(1)  # recorded and sent after the copy
        till.register(1)
        till.sync()
        before = _members(till)
        _put_back(till, tmp_path / "copy")
        assert len(_members(till)) == 1

        till.sync()  # nothing new at the till: no fork; its own lost events come back
        other.sync()
        assert _members(till) == before == _members(other)
        assert points_and_balances(till.app) == points_and_balances(other.app)
        assert_ledgers(till.app)
        central.assert_till_agrees(till)

        [card] = till.register(1)  # the next number is one it never gave, the next seq new
        assert card.member_no not in {n for _, n in before}
        report = till.sync()
        assert (report.pushed, report.pending) == (report.pushed, 0) and report.pushed >= 1
        assert pending_count(till.app.uow, device_id=till.device_id) == 0
        assert central.flags("fork") == []
        other.sync()
        assert _members(till) == _members(other)
        central.assert_balances()
    finally:
        till.close()
        other.close()
