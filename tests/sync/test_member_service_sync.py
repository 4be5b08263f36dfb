"""Member service through the real server (SQLite and PostgreSQL; issue 20): a status, a
re-issued card and a phone change at store 1 reach store 2's till after sync; HQ moves the
phone in ``member_index`` (the old phone registers anew at store 2 with no merge) and an
erasure drops the member's phone and card values at HQ."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from pos_member.db.models import Member, MemberFieldVersion
from pos_member.errors import MemberNotFound
from pos_member.member_service_errors import CardReplaced, MemberBlacklisted
from pos_member.services import member_privacy, member_service, sales
from pos_member.services.member_auth import set_member_pin
from pos_member.services.member_cards import find_member
from pos_member.services.members import register_member, update_profile
from pos_member.services.stored_value import PinFactor
from sync.server.models import MemberCardRow, MemberIndex
from tests.factories import new_phone
from tests.sync.harness import Central, Till, enrolled_till

PIN = "739182"


def test_status_card_and_phone_reach_the_other_store_and_hq(
        central: Central, tills: tuple[Till, Till]) -> None:
    one, two = tills
    old, new = new_phone(), new_phone()
    card = register_member(one.app.uow, clerk=one.clerk, phone=old, privacy_consent=True)
    set_member_pin(one.app.uow, clerk=one.clerk, approver=one.clerk, member_id=card.id,
                   pin=PIN)
    one.sync()
    member_service.set_status(one.app.uow, clerk=one.clerk, member_id=card.id,
                              status="blacklisted", reason="fraud")
    reissued = member_service.reissue_card(one.app.uow, clerk=one.clerk, member_id=card.id,
                                           reason="lost")
    member_privacy.change_phone(one.app.uow, clerk=one.clerk, member_id=card.id,
                                new_phone=new, factor=PinFactor(PIN), approver=one.clerk,
                                online=False)
    one.sync()
    two.sync()
    with pytest.raises(CardReplaced):
        find_member(two.app.uow, clerk=two.clerk, code=card.qr_payload)
    with pytest.raises(MemberNotFound):
        find_member(two.app.uow, clerk=two.clerk, code=old)
    found = find_member(two.app.uow, clerk=two.clerk, code=new)
    assert (found.id, found.standing, found.qr_payload) == (card.id, "blacklisted",
                                                             reissued.card_code)
    with pytest.raises(MemberBlacklisted):
        sales.record_sale(two.app.uow, two.clerk, txn_id="s-1", bill_no="B-1",
                          amount_fen=1_000, member_id=card.id)
    owners = central.query(lambda c: dict(c.execute(
        select(MemberIndex.phone_index, MemberIndex.member_id)
        .where(MemberIndex.member_id == card.id)).all()))
    assert list(owners.values()) == [card.id]
    assert list(owners) == [member_privacy.phone_index_of(one.app.uow, new)]
    # The old phone is free chain-wide: store 2 registers it, HQ merges nothing.
    fresh = register_member(two.app.uow, clerk=two.clerk, phone=old, privacy_consent=True)
    two.sync()
    one.sync()
    assert central.flags("member_merged") == []
    assert find_member(one.app.uow, clerk=one.clerk, code=old).id == fresh.id


def test_an_erasure_reaches_hq_and_the_other_store(central: Central,
                                                  tills: tuple[Till, Till]) -> None:
    one, two = tills
    phone = new_phone()
    card = register_member(one.app.uow, clerk=one.clerk, phone=phone, privacy_consent=True,
                           name="王小明")
    one.sync()
    _erase(one, card.id)
    one.sync()
    two.sync()
    with pytest.raises(MemberNotFound):
        find_member(two.app.uow, clerk=two.clerk, code=phone)
    row = central.query(lambda c: c.execute(
        select(MemberCardRow.status, MemberCardRow.profile)
        .where(MemberCardRow.member_id == card.id)).one())
    assert row.status == "erased"
    assert not {"phone_enc", "name_enc", "gender", "birthday", "tags"} & set(row.profile)
    assert central.query(lambda c: c.execute(select(MemberIndex.phone_index).where(
        MemberIndex.member_id == card.id)).all()) == []


def test_an_edit_pushed_after_the_erasure_brings_no_personal_data_back_to_hq(
        central: Central, tills: tuple[Till, Till], tmp_path: Path) -> None:
    one, _ = tills
    late = enrolled_till(central, tmp_path / "late.sqlite", 1)  # store 1's second till
    card = register_member(one.app.uow, clerk=one.clerk, phone=new_phone(),
                           privacy_consent=True, name="王小明")
    one.sync()
    late.sync()
    _erase(one, card.id)
    one.sync()
    late.clock.advance(minutes=5)  # offline at the erasure: its edit is the newer one
    update_profile(late.app.uow, clerk=late.clerk, member_id=card.id, name="张三",
                   tags=("vip",))
    late.sync()
    row = central.query(lambda c: c.execute(
        select(MemberCardRow.status, MemberCardRow.profile)
        .where(MemberCardRow.member_id == card.id)).one())
    assert row.status == "erased"
    assert not {"phone_enc", "name_enc", "gender", "birthday", "tags", "tags_enc"} \
        & set(row.profile)
    late.close()


def test_an_erasure_also_empties_the_record_merged_into_the_member(
        central: Central, tills: tuple[Till, Till]) -> None:
    """One phone registered at both stores while apart is one person (merged: the earlier
    registration wins); erasing them leaves no phone or name on the merged-away record either,
    at the store that registered it nor at HQ."""
    from sync.server.models import MemberRedirect

    one, two = tills
    phone = new_phone()
    card = register_member(one.app.uow, clerk=one.clerk, phone=phone, privacy_consent=True,
                           name="王小明")
    two.clock.advance(minutes=1)
    loser = register_member(two.app.uow, clerk=two.clerk, phone=phone, privacy_consent=True,
                            name="王小明", tags=("vip",))
    one.sync()
    two.sync()
    assert central.query(lambda c: c.execute(select(MemberRedirect.winner_member_id).where(
        MemberRedirect.loser_member_id == loser.id)).scalar()) == card.id
    _erase(one, card.id)
    one.sync()
    two.sync()
    for till in (one, two):
        with pytest.raises(MemberNotFound):
            find_member(till.app.uow, clerk=till.clerk, code=phone)
    with two.app.uow.read() as s:
        row = s.execute(select(Member.phone_enc, Member.name_enc, Member.tags_enc)
                        .where(Member.id == loser.id)).one()
        assert not any(row)
        assert s.scalars(select(MemberFieldVersion).where(
            MemberFieldVersion.member_id == loser.id)).all() == []
    cards = central.query(lambda c: c.execute(
        select(MemberCardRow.member_id, MemberCardRow.profile)
        .where(MemberCardRow.member_id.in_([card.id, loser.id]))).all())
    for member_id, profile in cards:
        assert not {"phone_enc", "name_enc", "gender", "birthday", "tags", "tags_enc"} \
            & set(profile), member_id


def test_a_phone_change_pushed_after_the_erasure_brings_no_phone_back_to_hq(
        central: Central, tills: tuple[Till, Till], tmp_path: Path) -> None:
    one, _ = tills
    late = enrolled_till(central, tmp_path / "late.sqlite", 1)  # store 1's second till
    card = register_member(one.app.uow, clerk=one.clerk, phone=new_phone(),
                           privacy_consent=True)
    set_member_pin(one.app.uow, clerk=one.clerk, approver=one.clerk, member_id=card.id,
                   pin=PIN)
    one.sync()
    late.sync()
    _erase(one, card.id)
    one.sync()
    late.clock.advance(minutes=5)  # offline at the erasure: it still holds the PIN
    member_privacy.change_phone(late.app.uow, clerk=late.clerk, member_id=card.id,
                                new_phone=new_phone(), factor=PinFactor(PIN),
                                approver=late.clerk, online=False)
    late.sync()
    row = central.query(lambda c: c.execute(
        select(MemberCardRow.status, MemberCardRow.profile)
        .where(MemberCardRow.member_id == card.id)).one())
    assert row.status == "erased" and "phone_enc" not in row.profile
    assert central.query(lambda c: c.execute(select(MemberIndex.phone_index).where(
        MemberIndex.member_id == card.id)).all()) == []
    late.close()


def _erase(till: Till, member_id: str) -> None:
    """The erasure as the till's dialog makes it online: HQ's chain-wide balance asked."""
    from sync.remote_lookup import HqChainBalance

    with till.client() as client:
        member_privacy.erase(till.app.uow, clerk=till.clerk, member_id=member_id,
                             hq=HqChainBalance(client))


def test_an_erasure_is_refused_while_hq_holds_money_another_till_took(
        central: Central, tills: tuple[Till, Till], tmp_path: Path) -> None:
    """A top-up at the store's other till reached HQ, not this till: its own balance is 0, the
    chain's is not — refused, nothing written (docs/rules.md, "Erasure")."""
    from pos_member.member_service_errors import BalanceNotSettled, BalanceNotSettledAtHq
    from pos_member.services.stored_value import top_up

    one, _ = tills
    other = enrolled_till(central, tmp_path / "other.sqlite", 1)  # store 1's second till
    card = register_member(one.app.uow, clerk=one.clerk, phone=new_phone(),
                           privacy_consent=True)
    one.sync()
    other.sync()
    top_up(other.app.uow, clerk=other.clerk, member_id=card.id, amount_fen=10_000,
           method="cash", txn_id="t-other")
    other.sync()
    events = one.events()
    with pytest.raises(BalanceNotSettledAtHq):
        _erase(one, card.id)
    assert one.events() == events
    one.sync()  # the top-up arrives: now this till refuses by its own balance too
    with pytest.raises(BalanceNotSettled):
        _erase(one, card.id)

