"""Found by tests/sync/test_two_stores_stateful.py with independent till clocks: a profile edit
made at a till *after* it pulled an edit from a till whose clock is more than 5 minutes ahead
gets an older hybrid timestamp (the far-ahead one is not folded in: ``pulled_events.MAX_DRIFT_MS``),
so the local edit shows here but loses everywhere else: the tills disagree for good.

Fixed: a local edit is stamped after the version of the fields it overwrites
(``field_versions.newest_version``), so it wins everywhere, as it does here."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from pos_member.db.models import Member
from pos_member.errors import EditedAheadElsewhere
from pos_member.services import member_privacy, member_service
from pos_member.services.member_auth import provision_totp, set_member_pin
from pos_member.services.member_cards import Gender
from pos_member.services.members import register_member, update_profile
from pos_member.services.profile_seal import opened
from pos_member.services.stored_value import PinFactor, pay, top_up
from pos_member.services.stored_value_ledger import get_balance
from pos_member.services.stored_value_standing import set_frozen
from pos_member.stored_value_errors import MemberPinLocked, WrongMemberPin
from tests.factories import dump_database, new_phone
from tests.sync.harness import Central, Till, enrolled_till


@pytest.fixture
def tills(tmp_path: Path) -> Iterator[tuple[Till, Till]]:
    central = Central(f"sqlite:///{tmp_path / 'server.sqlite'}")
    a = enrolled_till(central, tmp_path / "a.sqlite", 1)
    b = enrolled_till(central, tmp_path / "b.sqlite", 1)  # the store's 2nd: it holds A's members
    yield a, b
    a.close()
    b.close()
    central.stop()


def gender(till: Till, member_id: str) -> str | None:
    with till.app.uow.read() as s:
        blob = s.scalar(select(Member.gender_enc).where(Member.id == member_id))
    return opened(till.app.uow.cipher, blob, None, None).gender  # sealed at rest (issue 20)


def test_an_edit_after_pulling_a_far_ahead_edit_converges(tills: tuple[Till, Till]) -> None:
    a, b = tills
    a.clock.advance(minutes=6)  # A's clock runs 6 minutes ahead of B's
    card = register_member(a.app.uow, clerk=a.clerk, phone=new_phone(), privacy_consent=True)
    update_profile(a.app.uow, clerk=a.clerk, member_id=card.id, gender=Gender.FEMALE)
    a.sync()
    b.sync()
    b.clock.advance(seconds=30)
    with pytest.raises(EditedAheadElsewhere):
        update_profile(b.app.uow, clerk=b.clerk, member_id=card.id, gender=Gender.MALE)
    update_profile(b.app.uow, clerk=b.clerk, member_id=card.id, name="乙")  # other fields: fine
    b.sync()
    a.sync()
    assert gender(a, card.id) == gender(b, card.id) == "F"


def test_a_freeze_or_status_after_a_far_ahead_one_is_refused_not_lost(
        tills: tuple[Till, Till]) -> None:
    """A till whose clock runs a day ahead froze a member's stored value and blacklisted them.
    Unfreezing or clearing the status at the store's other till (clock right) would write an
    event that loses at every other till while this one shows it done — the tills would
    disagree for good on whether the balance may be spent. Refused, nothing written."""
    a, b = tills
    a.clock.advance(days=1)
    card = register_member(a.app.uow, clerk=a.clerk, phone=new_phone(), privacy_consent=True)
    set_frozen(a.app.uow, clerk=a.clerk, member_id=card.id, frozen=True, reason="lost phone")
    member_service.set_status(a.app.uow, clerk=a.clerk, member_id=card.id,
                              status="blacklisted", reason="fraud")
    a.sync()
    b.sync()
    before = dump_database(b.path)
    with pytest.raises(EditedAheadElsewhere):
        set_frozen(b.app.uow, clerk=b.clerk, member_id=card.id, frozen=False, reason="found")
    with pytest.raises(EditedAheadElsewhere):
        member_service.set_status(b.app.uow, clerk=b.clerk, member_id=card.id,
                                  status="normal", reason="cleared")
    assert dump_database(b.path) == before
    assert get_balance(b.app.uow, card.id).frozen


def test_a_new_member_pin_or_code_after_a_far_ahead_one_is_refused_not_lost(
        tills: tuple[Till, Till]) -> None:
    """The member's PIN (or authenticator) was set at a till whose clock runs a day ahead; the
    member, fearing it seen, asks for a new one at the store's other till: taken there, it
    would lose at every other till, where the old PIN kept paying. Refused, nothing written."""
    a, b = tills
    a.clock.advance(days=1)
    card = register_member(a.app.uow, clerk=a.clerk, phone=new_phone(), privacy_consent=True)
    set_member_pin(a.app.uow, clerk=a.clerk, approver=a.clerk, member_id=card.id,
                   pin="739182")
    provision_totp(a.app.uow, clerk=a.clerk, approver=a.clerk, member_id=card.id)
    a.sync()
    b.sync()
    before = dump_database(b.path)
    with pytest.raises(EditedAheadElsewhere):
        set_member_pin(b.app.uow, clerk=b.clerk, approver=b.clerk, member_id=card.id,
                       pin="582047")
    with pytest.raises(EditedAheadElsewhere):
        provision_totp(b.app.uow, clerk=b.clerk, approver=b.clerk, member_id=card.id)
    assert dump_database(b.path) == before


def test_a_phone_change_after_a_far_ahead_one_is_refused_not_lost(
        tills: tuple[Till, Till]) -> None:
    """A phone changed at a till whose clock runs a day ahead, then again at the store's other
    till: the second change would not even show here, and lose everywhere (the old number
    keeps getting the member's SMS codes). Refused, nothing but the PIN check written."""
    a, b = tills
    a.clock.advance(days=1)
    card = register_member(a.app.uow, clerk=a.clerk, phone=new_phone(), privacy_consent=True)
    set_member_pin(a.app.uow, clerk=a.clerk, approver=a.clerk, member_id=card.id,
                   pin="739182")
    member_privacy.change_phone(a.app.uow, clerk=a.clerk, member_id=card.id,
                                new_phone=new_phone(), factor=PinFactor("739182"),
                                approver=a.clerk, online=False)
    a.sync()
    b.sync()
    events_before = b.events()
    with pytest.raises(EditedAheadElsewhere):
        member_privacy.change_phone(b.app.uow, clerk=b.clerk, member_id=card.id,
                                    new_phone=new_phone(), factor=PinFactor("739182"),
                                    approver=b.clerk, online=False)
    assert b.events() == events_before


def test_a_member_pin_lock_from_a_till_whose_clock_runs_ahead_lasts_no_longer_than_the_rule(
        tills: tuple[Till, Till]) -> None:
    """Five wrong PINs at a till whose clock runs a day ahead lock the member's PIN "until"
    tomorrow at every till: at the store's other till (clock right) the lock ends the rules'
    30 minutes after it is first met there."""
    a, b = tills
    card = register_member(a.app.uow, clerk=a.clerk, phone=new_phone(), privacy_consent=True)
    set_member_pin(a.app.uow, clerk=a.clerk, approver=a.clerk, member_id=card.id,
                   pin="739182")
    top_up(a.app.uow, clerk=a.clerk, member_id=card.id, amount_fen=10_000, method="cash",
           txn_id="t-1")
    a.clock.advance(days=1)
    for i in range(5):
        with pytest.raises((WrongMemberPin, MemberPinLocked)):
            pay(a.app.uow, clerk=a.clerk, member_id=card.id, amount_fen=100, txn_id=f"w-{i}",
                factor=PinFactor("000000"), online=False)
    a.sync()
    b.sync()
    with pytest.raises(MemberPinLocked):
        pay(b.app.uow, clerk=b.clerk, member_id=card.id, amount_fen=100, txn_id="p-1",
            factor=PinFactor("739182"), online=False)
    b.clock.advance(minutes=31)
    pay(b.app.uow, clerk=b.clerk, member_id=card.id, amount_fen=100, txn_id="p-2",
        factor=PinFactor("739182"), online=False)
