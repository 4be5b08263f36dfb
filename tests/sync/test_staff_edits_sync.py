"""A manager's staff changes on one till of a store reach the store's other till through the
real server (SQLite and PostgreSQL): a new guide logs in there, a deactivated one is refused
there (at login, and at the next action when already logged in), a new PIN replaces the old,
concurrent edits end alike (last writer wins per field), a staff number both tills gave
out offline ends with the same holder on both, an alert until the other is renumbered; and
HQ lists a store's staff and deactivates one on its tills."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from pos_member.db.models import Flag, Staff
from pos_member.errors import (
    ClerkNoLongerActive,
    EditedAheadElsewhere,
    LoginFailed,
    LoginLocked,
)
from pos_member.permissions import Clerk, Role
from pos_member.services.enrolment import FirstAdmin
from pos_member.services.members import register_member
from pos_member.services.staff import create_staff
from pos_member.services.staff_admin import (
    reset_staff_pin,
    set_staff_active,
    staff_roster,
    update_staff,
)
from pos_member.services.staff_fields import CLASH_FLAG
from sync.server.cli import main as server_main
from sync.server.errors import StaffNotFoundAtHq
from sync.server.models import Event as ServerEvent
from sync.server.staff import deactivate_store_staff, list_store_staff
from tests.factories import dump_database, new_phone
from tests.sync.harness import Central, Till, enrolled_till

PIN = "246810"
GUIDE_PIN = "135792"


@pytest.fixture
def store(tmp_path: Path, central: Central) -> Iterator[tuple[Till, Till, Clerk]]:
    """Tills A and B of store 1, in step; the administrator logged in at A."""
    a = enrolled_till(central, tmp_path / "a.sqlite", 1, admin=FirstAdmin("001", "Ann", PIN))
    a.sync()
    b = enrolled_till(central, tmp_path / "b.sqlite", 1, admin=FirstAdmin("001", "Ann", PIN))
    yield a, b, a.login("001", PIN)
    a.close()
    b.close()


def in_step(*tills: Till) -> None:
    for t in (*tills, *tills):
        t.sync()


def test_a_guide_added_at_one_till_logs_in_at_the_other(
    store: tuple[Till, Till, Clerk],
) -> None:
    a, b, admin = store
    with pytest.raises(LoginFailed):
        b.login("201", GUIDE_PIN)
    create_staff(a.app.uow, clerk=admin, code="201", name="Gu", role=Role.GUIDE,
                 secret=GUIDE_PIN)
    in_step(a, b)
    assert b.login("201", GUIDE_PIN).role is Role.GUIDE


def test_a_deactivated_guide_is_refused_at_the_other_till_even_when_logged_in(
    store: tuple[Till, Till, Clerk],
) -> None:
    a, b, admin = store
    guide = create_staff(a.app.uow, clerk=admin, code="201", name="Gu", role=Role.GUIDE,
                         secret=GUIDE_PIN)
    in_step(a, b)
    at_b = b.login("201", GUIDE_PIN)
    set_staff_active(a.app.uow, clerk=admin, staff_id=guide.id, active=False)
    in_step(a, b)
    with pytest.raises(LoginFailed):
        b.login("201", GUIDE_PIN)
    with pytest.raises(ClerkNoLongerActive):
        register_member(b.app.uow, phone=new_phone(), privacy_consent=True, clerk=at_b)
    set_staff_active(a.app.uow, clerk=admin, staff_id=guide.id, active=True)
    in_step(a, b)
    register_member(b.app.uow, phone=new_phone(), privacy_consent=True,
                    clerk=b.login("201", GUIDE_PIN))


def test_a_new_pin_replaces_the_forgotten_one_on_every_till(
    store: tuple[Till, Till, Clerk],
) -> None:
    a, b, admin = store
    guide = create_staff(a.app.uow, clerk=admin, code="201", name="Gu", role=Role.GUIDE,
                         secret=GUIDE_PIN)
    in_step(a, b)
    reset_staff_pin(a.app.uow, clerk=admin, staff_id=guide.id, secret="975312")
    in_step(a, b)
    with pytest.raises(LoginFailed):
        b.login("201", GUIDE_PIN)
    assert b.login("201", "975312").staff_id == guide.id


def test_two_offline_edits_of_one_colleague_end_alike_on_both_tills(
    store: tuple[Till, Till, Clerk],
) -> None:
    a, b, admin = store
    guide = create_staff(a.app.uow, clerk=admin, code="201", name="Gu", role=Role.GUIDE,
                         secret=GUIDE_PIN)
    in_step(a, b)
    admin_b = b.login("001", PIN)
    b.clock.advance(minutes=1)  # B's edit of the name is the later one
    update_staff(b.app.uow, clerk=admin_b, staff_id=guide.id, name="Gu B")
    update_staff(a.app.uow, clerk=admin, staff_id=guide.id, name="Gu A", role=Role.CASHIER)
    in_step(a, b)
    rows = [{r.code: (r.name, r.role) for r in staff_roster(t.app.uow, clerk=c)}
            for t, c in ((a, admin), (b, admin_b))]
    assert rows[0] == rows[1]
    assert rows[0]["201"] == ("Gu B", Role.CASHIER)


def open_clash_flags(till: Till) -> list[dict[str, object]]:
    with till.app.uow.read() as s:
        return [dict(f.detail) for f in s.scalars(
            select(Flag).where(Flag.kind == CLASH_FLAG, Flag.resolved_at.is_(None)))]


def test_a_number_both_tills_gave_out_offline_is_held_by_the_first_on_both(
    store: tuple[Till, Till, Clerk],
) -> None:
    a, b, admin = store
    admin_b = b.login("001", PIN)
    first = create_staff(a.app.uow, clerk=admin, code="201", name="Early", role=Role.GUIDE,
                         secret=GUIDE_PIN)
    b.clock.advance(minutes=1)
    later = create_staff(b.app.uow, clerk=admin_b, code="201", name="Late", role=Role.GUIDE,
                         secret="864209")
    in_step(b, a)
    for till in (a, b):
        with till.app.uow.read() as s:
            assert set(s.scalars(select(Staff.id).where(Staff.code == "201"))) == {
                first.id, later.id}
        assert till.login("201", GUIDE_PIN).staff_id == first.id
        with pytest.raises(LoginFailed):
            till.login("201", "864209")
        assert open_clash_flags(till) == [
            {"code": "201", "holder_id": first.id, "waiting_ids": [later.id]}]
    update_staff(a.app.uow, clerk=admin, staff_id=later.id, code="202")
    in_step(a, b)
    for till in (a, b):
        assert open_clash_flags(till) == []
        assert till.login("202", "864209").staff_id == later.id


def test_hq_lists_a_stores_staff_and_deactivates_one_on_its_tills(
    store: tuple[Till, Till, Clerk], central: Central, capsys: pytest.CaptureFixture[str],
) -> None:
    a, b, admin = store
    create_staff(a.app.uow, clerk=admin, code="201", name="Gu", role=Role.GUIDE,
                 secret=GUIDE_PIN)
    in_step(a, b)
    listed = list_store_staff(central.ctx, store_number=1)
    assert [(s.code, s.role, s.active) for s in listed] == [
        ("001", "admin", True), ("201", "guide", True)]
    assert list_store_staff(central.ctx, store_number=2) == []
    with pytest.raises(StaffNotFoundAtHq):
        deactivate_store_staff(central.ctx, store_number=1, code="999")
    assert server_main(["--database", central.url, "deactivate-staff", "--store", "1",
                        "--code", "201"]) == 0
    assert "staff 201 deactivated" in capsys.readouterr().out
    in_step(a, b)
    for till in (a, b):
        with pytest.raises(LoginFailed):
            till.login("201", GUIDE_PIN)
    assert server_main(["--database", central.url, "list-staff", "--store", "1"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "001\tAnn\tadmin\tactive", "201\tGu\tguide\tinactive"]
    with pytest.raises(StaffNotFoundAtHq):  # already inactive: nothing written
        deactivate_store_staff(central.ctx, store_number=1, code="201")


def test_a_deactivation_after_a_far_ahead_staff_change_is_not_silently_lost(
    store: tuple[Till, Till, Clerk], central: Central,
) -> None:
    """A colleague added at a till whose clock runs a day ahead: a manager deactivating them
    at the store's other till (its clock right) is told it cannot take effect there, instead
    of an event that loses everywhere by last writer wins while the colleague keeps logging
    in; HQ's deactivation, the chain's authority, takes effect on every till."""
    a, b, admin = store
    a.clock.advance(days=1)  # A's clock jumped a day ahead
    guide = create_staff(a.app.uow, clerk=admin, code="201", name="Gu", role=Role.GUIDE,
                         secret=GUIDE_PIN)
    in_step(a, b)
    at_b = b.login("001", PIN)
    before = dump_database(b.path)
    with pytest.raises(EditedAheadElsewhere):
        set_staff_active(b.app.uow, clerk=at_b, staff_id=guide.id, active=False)
    assert dump_database(b.path) == before  # no event that would lose everywhere
    deactivate_store_staff(central.ctx, store_number=1, code="201")  # HQ's clock: right
    in_step(a, b)
    for till in (a, b):
        with pytest.raises(LoginFailed):
            till.login("201", GUIDE_PIN)
    assert [(s.code, s.active) for s in list_store_staff(central.ctx, store_number=1)] == [
        ("001", True), ("201", False)]


def test_hq_gives_a_locked_out_administrator_a_new_pin_on_every_till(
    store: tuple[Till, Till, Clerk], central: Central, capsys: pytest.CaptureFixture[str],
) -> None:
    """SPEC §2.9, "HQ can do the same for any store": the store's only administrator forgot
    their PIN (no manager there may reset an administrator's) and locked themself out trying;
    HQ gives a new one, checked as the till checks an approver's, and the store's tills take it
    at their next sync, the lock lifted. A weak PIN or an unknown number writes nothing."""
    a, b, _admin = store
    for _ in range(5):
        with pytest.raises((LoginFailed, LoginLocked)):
            a.login("001", "975310")
    in_step(a, b)
    events_before = central.query(lambda c: c.execute(select(func.count()).select_from(
        ServerEvent)).scalar())
    for args, why in ((["--code", "001", "--pin", "123456"], "PIN"),
                      (["--code", "999", "--pin", "583920"], "999")):
        assert server_main(["--database", central.url, "reset-staff-pin", "--store", "1",
                            *args]) == 1
        assert why in capsys.readouterr().err
    assert central.query(lambda c: c.execute(select(func.count()).select_from(
        ServerEvent)).scalar()) == events_before
    assert server_main(["--database", central.url, "reset-staff-pin", "--store", "1",
                        "--code", "001", "--pin", "583920"]) == 0
    assert "583920" not in capsys.readouterr().out
    in_step(a, b)
    for till in (a, b):
        with pytest.raises(LoginFailed):
            till.login("001", PIN)
        assert till.login("001", "583920").role is Role.ADMIN


def test_hq_reactivates_an_administrator_deactivated_by_mistake(
    store: tuple[Till, Till, Clerk], central: Central, capsys: pytest.CaptureFixture[str],
) -> None:
    """No manager may reactivate an administrator: HQ can (SPEC §2.9). An active colleague or
    an unknown number is refused and nothing is written."""
    a, b, _admin = store
    deactivate_store_staff(central.ctx, store_number=1, code="001")
    in_step(a, b)
    with pytest.raises(LoginFailed):
        b.login("001", PIN)
    assert server_main(["--database", central.url, "reactivate-staff", "--store", "1",
                        "--code", "001"]) == 0
    assert "staff 001 reactivated" in capsys.readouterr().out
    assert server_main(["--database", central.url, "reactivate-staff", "--store", "1",
                        "--code", "001"]) == 1  # active already
    assert "No inactive staff number 001" in capsys.readouterr().err
    in_step(a, b)
    for till in (a, b):
        assert till.login("001", PIN).role is Role.ADMIN


def test_hq_adds_a_manager_who_logs_in_at_the_stores_tills(
    store: tuple[Till, Till, Clerk], central: Central, capsys: pytest.CaptureFixture[str],
) -> None:
    """SPEC §2.9: HQ adds staff to a store as its managers do. A taken number, a bad role, a
    weak approver's PIN or a name with a line break is refused and nothing is written."""
    a, b, _admin = store
    in_step(a, b)
    count = lambda: central.query(  # noqa: E731
        lambda c: c.execute(select(func.count()).select_from(ServerEvent)).scalar())
    before = count()
    for args, why in ((["--code", "001", "--name", "X", "--role", "cashier"], "001"),
                      (["--code", "301", "--name", "X", "--role", "boss"], "role"),
                      (["--code", "301", "--name", "X", "--role", "manager",
                        "--pin", "112233"], "PIN"),
                      (["--code", "301", "--name", "X\nY", "--role", "cashier"], "one line")):
        pin = [] if "--pin" in args else ["--pin", "583920"]
        assert server_main(["--database", central.url, "add-staff", "--store", "1", *args,
                            *pin]) == 1
        assert why in capsys.readouterr().err
    assert count() == before
    assert server_main(["--database", central.url, "add-staff", "--store", "1", "--code",
                        "301", "--name", "Mo", "--role", "manager", "--pin", "583920"]) == 0
    assert "583920" not in capsys.readouterr().out
    in_step(a, b)
    for till in (a, b):
        assert till.login("301", "583920").role is Role.MANAGER
    assert [(s.code, s.role) for s in list_store_staff(central.ctx, store_number=1)] == [
        ("001", "admin"), ("301", "manager")]
