"""Staff on enrolled tills, end to end against the real server (SQLite and PostgreSQL): the
first administrator comes with enrolment (only on the store's first till); a store's staff,
their edits, deactivations, new PINs and PIN locks reach every till of that store and no other
store's; a staff number two tills gave out offline ends with the same holder everywhere."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from sqlalchemy import select

from pos_member.crypto import MemoryKeyStore
from pos_member.db.models import Staff
from pos_member.errors import LoginFailed, LoginLocked, WeakSecret
from pos_member.permissions import Role
from pos_member.services.enrolment import FirstAdmin
from pos_member.services.staff import create_staff
from pos_member_app.cli import main
from sync.client import SyncClient
from sync.engine import enrol
from tests.keyrings import DictKeyring
from tests.sync.harness import Central, Till, enrolled_till

PIN = "246810"


@pytest.fixture
def tills(tmp_path: Path, central: Central) -> Iterator[tuple[Till, Till, Till]]:
    """Tills A and B of store 1 (administrator 001, made by A: B finds it and makes none),
    and C of store 2 (003)."""
    a = enrolled_till(central, tmp_path / "a.sqlite", 1, admin=FirstAdmin("001", "Ann", PIN))
    a.sync()
    b = enrolled_till(central, tmp_path / "b.sqlite", 1, admin=FirstAdmin("002", "Bo", PIN))
    c = enrolled_till(central, tmp_path / "c.sqlite", 2, admin=FirstAdmin("003", "Cy", PIN))
    yield a, b, c
    for t in (a, b, c):
        t.close()


def staff_codes(till: Till) -> list[str]:
    with till.app.uow.read() as s:
        return list(s.scalars(select(Staff.code).order_by(Staff.code)))


def test_the_first_administrator_logs_in_right_after_enrolment(
    tills: tuple[Till, Till, Till],
) -> None:
    a, _, _ = tills
    clerk = a.login("001", PIN)
    assert clerk.role is Role.ADMIN
    assert clerk.store_id == a.app.identity.store_id  # type: ignore[union-attr]


def test_colleagues_log_in_on_every_till_of_their_store_and_no_other(
    tills: tuple[Till, Till, Till],
) -> None:
    a, b, c = tills
    admin = a.login("001", PIN)
    create_staff(a.app.uow, clerk=admin, code="101", name="Dee", role=Role.CASHIER,
                 secret="cashier-pw")
    for t in (a, b, c, a, b, c):
        t.sync()
    assert staff_codes(a) == staff_codes(b) == ["001", "101"]
    assert staff_codes(c) == ["003"]
    assert b.login("101", "cashier-pw").store_id == b.app.identity.store_id  # type: ignore[union-attr]
    assert b.login("001", PIN).role is Role.ADMIN
    with pytest.raises(LoginFailed):
        c.login("101", "cashier-pw")
    for t in (a, b, c):  # a second round applies nothing twice
        t.sync()
    assert staff_codes(b) == ["001", "101"]


def test_a_pin_lock_on_one_till_locks_the_colleague_on_the_other(
    tills: tuple[Till, Till, Till],
) -> None:
    a, b, c = tills
    for t in (a, b):
        t.sync()
    for _ in range(5):
        with pytest.raises((LoginFailed, LoginLocked)):
            b.login("001", "999999")
    with pytest.raises(LoginLocked):
        b.login("001", PIN)
    b.sync()
    a.sync()
    c.sync()
    with pytest.raises(LoginLocked):
        a.login("001", PIN)
    a.clock.advance(minutes=16)
    assert a.login("001", PIN).role is Role.ADMIN
    central = a.central
    for t in (a, b, c):
        central.assert_exactly_once(t)


def test_a_lock_from_a_till_whose_clock_runs_ahead_lasts_no_longer_than_the_rule(
    tills: tuple[Till, Till, Till],
) -> None:
    """Five wrong PINs at a till whose clock runs a day ahead lock the administrator until a
    day from now at every till of the store: at B (clock right) the lock ends the rules' 15
    minutes after it is first met there, not a day later."""
    a, b, _ = tills
    for t in (a, b):
        t.sync()
    a.clock.advance(days=1)
    for _ in range(5):
        with pytest.raises((LoginFailed, LoginLocked)):
            a.login("001", "999999")
    a.sync()
    b.sync()
    with pytest.raises(LoginLocked):
        b.login("001", PIN)
    b.clock.advance(minutes=16)
    assert b.login("001", PIN).role is Role.ADMIN


def test_a_second_till_of_the_store_makes_no_administrator_of_its_own(
    tmp_path: Path, central: Central,
) -> None:
    a = enrolled_till(central, tmp_path / "a.sqlite", 1, admin=FirstAdmin("001", "Ann", PIN))
    a.sync()
    b = enrolled_till(central, tmp_path / "b.sqlite", 1,
                      admin=FirstAdmin("001", "Bo", "864209"))
    for t in (a, b, a):
        t.sync()
    assert staff_codes(a) == staff_codes(b) == ["001"]
    assert b.login("001", PIN).name == "Ann"
    with pytest.raises(LoginFailed):
        b.login("001", "864209")
    a.close()
    b.close()


def test_a_weak_admin_pin_is_refused_before_the_code_is_spent(
    tmp_path: Path, central: Central,
) -> None:
    till = Till(tmp_path / "t.sqlite", MemoryKeyStore(), central.clock, central)
    code = central.code(1)
    with SyncClient(central.base_url) as client:
        with pytest.raises(WeakSecret):
            enrol(till.app, client, till.keystore, code=code, device_name="t",
                  server_url=central.base_url, admin=FirstAdmin("001", "Ann", "112233"))
        enrol(till.app, client, till.keystore, code=code, device_name="t",
              server_url=central.base_url, admin=FirstAdmin("001", "Ann", PIN))
    assert till.login("001", PIN).role is Role.ADMIN
    till.close()


def test_the_command_line_enrols_with_an_administrator_or_refuses_without_one(
    tmp_path: Path, central: Central, capsys: pytest.CaptureFixture[str],
) -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(DictKeyring())
    try:
        data = tmp_path / "cli-till"
        base = ["enrol", "--server", central.base_url, "--data-dir", str(data)]
        with pytest.raises(SystemExit) as exit_:
            main([*base, "--code", central.code(1)])  # no terminal, no --admin-pin
        assert exit_.value.code == 2
        assert "--admin-pin" in capsys.readouterr().err
        assert main([*base, "--code", central.code(1), "--admin-pin", "123456"]) == 1
        assert main([*base, "--code", central.code(1), "--admin-code", "700",
                     "--admin-name", "店长", "--admin-pin", PIN]) == 0
        assert "Administrator 700 (店长) can log in." in capsys.readouterr().out
        second = ["enrol", "--server", central.base_url, "--data-dir", str(tmp_path / "t2")]
        assert main([*second, "--code", central.code(1), "--admin-code", "700",
                     "--admin-pin", PIN]) == 0  # the store has 700 already: none made
        assert "No administrator created: the store has one already" in (
            capsys.readouterr().out)
    finally:
        keyring.set_keyring(previous)
