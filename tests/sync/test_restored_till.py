"""A till restored from a backup, a cloned till, a revoked till: nothing it recorded is lost,
nothing is doubled (issue 13), on the real server on loopback, SQLite and PostgreSQL.

The scenario of the issue: enrol, sync, copy the data folder; register P1 and sync; put the
copy back, register P2 and sync. HQ refuses P2's push as a fork; the till takes a new identity
on its own, moves its unsent events there (P2 with a new member number: P1 holds its old one),
and both members reach HQ with distinct numbers.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from pos_member.crypto import MemoryKeyStore
from pos_member.db.backups import backup_database, restore_database
from pos_member.db.models import Member, NotificationOutbox
from pos_member.errors import TillReidentified, TillStillEnrolled
from pos_member.services.members import register_member
from pos_member.services.outbox import pending_count
from sync.client import SyncClient
from sync.engine import close_day, sync_once
from sync.errors import ServerRefused, ServerUnavailable
from sync.recovery import reenrol, reidentify
from sync.server import services
from sync.server.identities import reinstate_device
from sync.server.models import Device, Event
from tests.factories import new_phone
from tests.sync.harness import Central, Fault, Proxy, Till, enrolled_till, no_keepalive


def _copy(path: Path) -> Path:
    backup = path.with_suffix(".backup")
    shutil.copyfile(path, backup)
    return backup


def _restore(till: Till, backup: Path) -> None:
    """Puts the copy back in place of the till's database, as an IT person would."""
    till.close()
    for extra in ("-wal", "-shm"):
        Path(f"{till.path}{extra}").unlink(missing_ok=True)
    shutil.copyfile(backup, till.path)
    till.reopen()


def _registrations_at_hq(central: Central) -> dict[str, str]:
    """member id → member number of every member.registered HQ stores."""
    rows = central.query(lambda c: c.execute(
        select(Event.payload).where(Event.type == "member.registered")).scalars().all())
    return {p["member_id"]: p["member_no"] for p in rows}


def _sync(till: Till) -> Any:
    with till.client() as client:
        return sync_once(till.app, client, keystore=till.keystore)


def _numbers(till: Till) -> dict[str, str]:
    with till.app.uow.read() as s:
        return dict(s.execute(select(Member.id, Member.member_no)).all())


def _all_stored_once(central: Central) -> None:
    ids = central.query(lambda c: c.execute(select(Event.id)).scalars().all())
    assert len(ids) == len(set(ids))


def test_a_till_restored_from_a_backup_keeps_what_it_recorded_after_the_copy(
    tmp_path: Path, central: Central,
) -> None:
    till = enrolled_till(central, tmp_path / "till.sqlite", 1)
    _sync(till)
    till.close()
    backup = _copy(till.path)
    till.reopen()
    p1 = till.register()[0]
    _sync(till)
    _restore(till, backup)
    old_device = till.device_id
    p2 = till.register()[0]
    assert p2.member_no == p1.member_no  # the restored till hands out the same number again

    report = _sync(till)

    assert report.reidentity is not None
    line = report.reidentity.line()
    assert "till 2 (was till 1)" in line and "Nothing was lost" in line
    assert report.reidentity.renumbered == 1
    assert report.pending == 0 and till.device_id != old_device
    at_hq = _registrations_at_hq(central)
    assert set(at_hq) >= {p1.id, p2.id}
    assert at_hq[p1.id] == p1.member_no
    assert at_hq[p2.id] != p1.member_no
    assert len(set(at_hq.values())) == len(at_hq)  # unique chain-wide
    numbers = _numbers(till)  # the restored till has P1 now (pulled) and P2 renumbered
    assert numbers[p1.id] == p1.member_no and numbers[p2.id] == at_hq[p2.id]
    forks = central.flags("fork")
    assert [f["device_id"] for f in forks] == [old_device]
    assert central.flags("device_reidentified")[0]["device_id"] == till.device_id
    with till.app.uow.read() as s:
        told = s.execute(select(NotificationOutbox.member_id, NotificationOutbox.params)
                         .where(NotificationOutbox.kind == "member.renumbered")).all()
    assert [(m, p["new_no"]) for m, p in told] == [(p2.id, at_hq[p2.id])]
    _all_stored_once(central)

    again = _sync(till)  # settled: nothing more to move, no new identity
    assert again.reidentity is None and again.pushed == 0 and again.pending == 0
    assert len(central.flags("device_reidentified")) == 1


def test_events_the_original_sent_after_the_copy_are_not_sent_or_applied_twice(
    tmp_path: Path, central: Central,
) -> None:
    till = enrolled_till(central, tmp_path / "till.sqlite", 1)
    _sync(till)
    shared = till.register()[0]  # recorded before the copy, sent only after it
    till.close()
    backup = _copy(till.path)
    till.reopen()
    _sync(till)
    till.register()
    _sync(till)
    _restore(till, backup)
    mine = till.register()[0]
    report = _sync(till)
    # + its points and its welcome pack's two coupons
    assert report.reidentity is not None and report.reidentity.stored == 4
    at_hq = _registrations_at_hq(central)
    assert shared.id in at_hq and mine.id in at_hq
    assert len(set(at_hq.values())) == len(at_hq) == 3
    assert len(_numbers(till)) == 3
    _all_stored_once(central)
    assert pending_count(till.app.uow, device_id=till.device_id) == 0


def test_both_copies_of_a_cloned_till_keep_their_members(tmp_path: Path,
                                                         central: Central) -> None:
    original = enrolled_till(central, tmp_path / "a.sqlite", 1)
    _sync(original)
    original.close()
    shutil.copyfile(original.path, tmp_path / "b.sqlite")
    original.reopen()
    keys = MemoryKeyStore()
    keys._values.update(original.keystore._values)  # the clone's OS has the same credentials
    clone = Till(tmp_path / "b.sqlite", keys, original.clock, central)
    a1 = original.register()[0]
    _sync(original)
    b1 = clone.register()[0]
    assert _sync(clone).reidentity is not None
    a2 = original.register()[0]
    report = _sync(original)  # its device was retired by the clone's recovery
    assert report.reidentity is not None and report.reidentity.device_number == 3
    _sync(clone)
    _sync(original)
    at_hq = _registrations_at_hq(central)
    assert {a1.id, a2.id, b1.id} <= set(at_hq)
    assert len(set(at_hq.values())) == len(at_hq)
    assert _numbers(original) == _numbers(clone) == at_hq
    _all_stored_once(central)
    clone.close()


def test_a_clerk_logged_in_before_the_new_identity_is_asked_to_log_in_again(
    tmp_path: Path, central: Central,
) -> None:
    till = enrolled_till(central, tmp_path / "till.sqlite", 1)
    _sync(till)
    till.close()
    backup = _copy(till.path)
    till.reopen()
    till.register()
    _sync(till)
    _restore(till, backup)
    stale = till.clerk
    till.register()
    _sync(till)
    with pytest.raises(TillReidentified):
        register_member(till.app.uow, clerk=stale, phone=new_phone(), privacy_consent=True)
    assert pending_count(till.app.uow, device_id=till.device_id) == 0


def test_a_revoked_till_enrolled_again_in_place_sends_what_it_recorded(
    tmp_path: Path, central: Central,
) -> None:
    till = enrolled_till(central, tmp_path / "till.sqlite", 1)
    _sync(till)
    services.revoke_device(central.ctx, device_id=till.device_id)
    waiting = till.register(2)
    with pytest.raises(ServerRefused):
        _sync(till)
    with till.client() as client:
        day = close_day(till.app, client, keystore=till.keystore)
    # two registrations, their welcome points and their welcome packs' two coupons
    assert not day.ok and day.pending == 8
    verdict = day.lines()[-1]
    assert "revoked" in verdict and "8 event(s) wait" in verdict
    with SyncClient(central.base_url) as client:
        notice = reenrol(till.app, client, till.keystore, code=central.code(1),
                         device_name="front till")
    assert notice.moved == 8 and notice.renumbered == 0
    report = _sync(till)
    assert report.pushed == 9 and report.pending == 0  # device.set_up + the eight moved
    at_hq = _registrations_at_hq(central)
    assert {m.id for m in waiting} <= set(at_hq)
    _all_stored_once(central)


def test_a_till_hq_still_accepts_is_not_enrolled_again_and_its_code_stays_unused(
    tmp_path: Path, central: Central,
) -> None:
    till = enrolled_till(central, tmp_path / "till.sqlite", 1)
    _sync(till)
    code = central.code(1)
    with SyncClient(central.base_url) as client, pytest.raises(TillStillEnrolled):
        reenrol(till.app, client, till.keystore, code=code, device_name="front till")
    assert till.app.identity is not None
    assert till.app.identity.device_id == till.device_id
    assert _sync(till).pending == 0
    fresh = enrolled_till(central, tmp_path / "fresh.sqlite", 1, code=code)
    assert fresh.device_id != till.device_id


def test_a_revoked_till_with_nothing_waiting_says_one_thing_at_closing(
    tmp_path: Path, central: Central,
) -> None:
    till = enrolled_till(central, tmp_path / "till.sqlite", 1)
    _sync(till)
    services.revoke_device(central.ctx, device_id=till.device_id)
    with till.client() as client:
        day = close_day(till.app, client, keystore=till.keystore)
    lines = day.lines()
    assert "Unacknowledged events: 0" in lines
    assert "events remain unacknowledged" not in "\n".join(lines)
    assert "revoked" in lines[-1] and "nothing waits to be sent" in lines[-1]


def test_hq_reinstates_a_revoked_till_and_it_sends_what_waits(
    tmp_path: Path, central: Central,
) -> None:
    till = enrolled_till(central, tmp_path / "till.sqlite", 1)
    _sync(till)
    services.revoke_device(central.ctx, device_id=till.device_id)
    member = till.register()[0]
    with pytest.raises(ServerRefused):
        _sync(till)
    reinstate_device(central.ctx, device_id=till.device_id)
    report = _sync(till)
    assert report.pending == 0 and report.reidentity is None
    assert member.id in _registrations_at_hq(central)
    central.assert_exactly_once(till)


def test_a_till_restored_twice_keeps_what_it_moved_the_first_time(
    tmp_path: Path, central: Central,
) -> None:
    till = enrolled_till(central, tmp_path / "till.sqlite", 1)
    _sync(till)
    till.close()
    first = _copy(till.path)
    till.reopen()
    p1 = till.register()[0]
    _sync(till)
    _restore(till, first)
    p2 = till.register()[0]
    with till.client() as client:  # the new identity taken, nothing pushed yet
        reidentify(till.app, client, till.keystore)
    till.close()
    second = _copy(till.path)
    till.reopen()
    _sync(till)
    p3 = till.register()[0]
    _sync(till)
    _restore(till, second)  # moved events waiting again, and its member seq behind HQ's
    p4 = till.register()[0]
    report = _sync(till)
    assert report.reidentity is not None and report.reidentity.device_number == 3
    assert report.pending == 0
    at_hq = _registrations_at_hq(central)
    assert {p1.id, p2.id, p3.id, p4.id} <= set(at_hq)
    assert len(set(at_hq.values())) == len(at_hq)
    assert _numbers(till) == at_hq
    _all_stored_once(central)


def test_a_copy_from_before_a_lost_reidentify_answer_gets_a_device_of_its_own(
    tmp_path: Path, central: Central,
) -> None:
    """The copy holds the request id whose new device the till took into use since: HQ gives
    it a device of its own (it answered 409 for ever), and the member the till moved the first
    time keeps the number HQ stores."""
    from pos_member.services.reidentity import request_id
    from sync.protocol import ReidentifyRequest

    till = enrolled_till(central, tmp_path / "till.sqlite", 1)
    _sync(till)
    till.close()
    first = _copy(till.path)
    till.reopen()
    p1 = till.register()[0]
    _sync(till)
    _restore(till, first)
    p2 = till.register()[0]  # p1's number again: a fork
    with till.client() as client:  # HQ makes the new device; its answer is lost
        client.reidentify(ReidentifyRequest(
            device_id=till.device_id, request_id=request_id(till.app.uow,
                                                            device_id=till.device_id)))
    till.close()
    second = _copy(till.path)  # holds that request id, and p2 under its first number
    till.reopen()
    assert _sync(till).reidentity is not None  # asked again: the same device, p2 renumbered
    moved = _numbers(till)[p2.id]
    _restore(till, second)
    p3 = till.register()[0]
    report = _sync(till)
    assert report.reidentity is not None and report.reidentity.device_number == 3
    assert report.pending == 0
    at_hq = _registrations_at_hq(central)
    assert {p1.id, p2.id, p3.id} <= set(at_hq) and at_hq[p2.id] == moved
    assert len(set(at_hq.values())) == len(at_hq)
    assert _numbers(till) == at_hq
    _all_stored_once(central)


def test_a_till_restored_with_db_restore_from_its_daily_copy_loses_and_doubles_nothing(
    tmp_path: Path, central: Central,
) -> None:
    """The till's own backups (pos_member.db.backups), taken while it runs and put back with
    ``db restore``: what it recorded after the copy comes back from HQ, nothing twice."""
    till = enrolled_till(central, tmp_path / "till.sqlite", 1)
    _sync(till)
    copy = backup_database(till.path, tmp_path / "copies" / "till-2026-12-04.sqlite")
    p1 = till.register()[0]
    _sync(till)
    till.close()
    aside = restore_database(copy, till.path, now=datetime(2026, 12, 4, 18, tzinfo=UTC))
    till.reopen()
    assert p1.id not in _numbers(till)  # the copy predates P1
    p2 = till.register()[0]

    report = _sync(till)

    assert report.reidentity is not None and report.pending == 0
    at_hq = _registrations_at_hq(central)
    assert set(at_hq) >= {p1.id, p2.id}
    assert len(set(at_hq.values())) == len(at_hq)
    numbers = _numbers(till)
    assert numbers[p1.id] == p1.member_no and numbers[p2.id] == at_hq[p2.id]
    _all_stored_once(central)
    assert aside.exists()


def test_a_restored_till_issuing_a_birthday_coupon_again_before_it_syncs_makes_no_second(
    tmp_path: Path, central: Central,
) -> None:
    """The coupon jobs ran yesterday (the coupon reached HQ), the till is put back from the
    backup taken before, and its jobs run again before it syncs: the coupon it issues again
    is the same coupon (its key derived from member, rule and period: docs/rules.md, "Coupons:
    triggers") — one at HQ, one at the till, none lost."""
    from datetime import timedelta

    from pos_member.services import coupons
    from pos_member.services.coupon_triggers import run_triggers
    from sync.server.models import CouponTerms

    till = enrolled_till(central, tmp_path / "till.sqlite", 1)
    soon = till.clock.today() + timedelta(days=3)
    m = register_member(till.app.uow, clerk=till.clerk, phone=new_phone(),
                        privacy_consent=True, birthday=soon.replace(year=1990))
    _sync(till)
    till.close()
    backup = _copy(till.path)
    till.reopen()
    assert run_triggers(till.app.uow, clerk=till.clerk).birthday == 1
    _sync(till)
    _restore(till, backup)
    assert run_triggers(till.app.uow, clerk=till.clerk).birthday == 1  # it forgot it

    _sync(till)

    at_hq = central.query(lambda c: c.execute(select(CouponTerms.key).where(
        CouponTerms.member_id == m.id, CouponTerms.coupon["source"].as_string() == "birthday"
    )).scalars().all())
    held = [c.key for c in coupons.usable(till.app.uow, member_id=m.id)
            if c.name == "生日满200减30"]
    assert len(at_hq) == 1 and held == at_hq


def test_a_revoked_till_enrolled_again_whose_answer_was_lost_retries_with_the_same_code(
    tmp_path: Path, central: Central,
) -> None:
    """The enrolment's request id (docs/sync.md, "Enrolment and tokens") in place too: the
    retry gets the device the lost answer named, with a fresh token; HQ keeps no unused one."""
    till = enrolled_till(central, tmp_path / "till.sqlite", 1)
    _sync(till)
    services.revoke_device(central.ctx, device_id=till.device_id)
    waiting = till.register(1)
    code = central.code(1)

    def devices() -> list[str]:
        return central.query(lambda conn: list(conn.scalars(
            select(Device.id).order_by(Device.number))))

    # connection 0: the old token asked (refused, revoked); 1: the enrolment, answer lost
    with Proxy(lambda: central.base_url, {1: Fault(drop_answer=True)}) as proxy, \
            SyncClient(proxy.base_url, transport=no_keepalive()) as client:
        with pytest.raises(ServerUnavailable):
            reenrol(till.app, client, till.keystore, code=code, device_name="front till")
        [old, lost] = devices()
        assert till.device_id == old
        notice = reenrol(till.app, client, till.keystore, code=code, device_name="front till")
    assert devices() == [old, lost] and till.device_id == lost
    assert notice.moved == 4  # the registration, its welcome points and its pack's coupons
    assert _sync(till).pending == 0
    assert {m.id for m in waiting} <= set(_registrations_at_hq(central))
    _all_stored_once(central)
