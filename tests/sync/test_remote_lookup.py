"""Another store's member at this till (issue 14): a scan that finds nobody here asks HQ
online and shows the member's card with chain-wide balances, cached with what HQ's answer
reflects; offline the cache answers, and a balance payment for such a member is capped at the
balance HQ last reported less what this till paid since (docs/rules.md)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from pos_member.db.models import Event, RemoteMember, SvLedgerEntry
from pos_member.errors import MemberNotFound
from pos_member.services import member_cards, member_directory
from pos_member.stored_value_errors import RemoteBalanceCapReached
from sync.client import SyncClient
from sync.errors import ServerRefused
from sync.remote_lookup import find_remote
from sync.server import lookup_limits
from tests.sync.harness import (
    Central,
    Customer,
    Till,
    enrolled_till,
    new_customer,
    pay,
    top_up,
)


def _lookup(till: Till, code: str, *, online: bool = True) -> member_cards.MemberCard:
    if not online:
        return find_remote(till.app.uow, clerk=till.clerk, code=code, hq=None)
    with till.client() as hq:
        return find_remote(till.app.uow, clerk=till.clerk, code=code, hq=hq)


def _registered_and_topped_up_at(a: Till) -> tuple[Customer, member_cards.MemberCard]:
    customer = new_customer(a.app, a.clerk, a.clock, "13912345670")
    top_up(a.app, a.clerk, customer)  # ¥100, +¥10 bonus
    a.sync()
    card = member_cards.get_member(a.app.uow, clerk=a.clerk, member_id=customer.member_id)
    return customer, card


def test_a_member_registered_and_topped_up_at_a_shows_a_s_balance_at_b(
        tills: tuple[Till, Till], central: Central) -> None:
    a, b = tills
    _, at_a = _registered_and_topped_up_at(a)
    with pytest.raises(MemberNotFound):  # B has not pulled A's member
        member_cards.find_member(b.app.uow, clerk=b.clerk, code=at_a.member_no)
    card = _lookup(b, at_a.qr_payload)
    assert (card.id, card.member_no, card.phone_masked) == (at_a.id, at_a.member_no,
                                                            "139****5670")
    assert card.hq is not None and card.hq.fresh
    assert (card.hq.balance_fen, card.hq.points, card.hq.blocked) == (
        11_000, 100, False)  # the top-up with its bonus; the welcome points
    assert card.store_name == "store 1" and card.tier == at_a.tier
    by_phone = _lookup(b, "13912345670")
    assert by_phone.id == at_a.id
    with b.app.uow.read() as s:
        [row] = s.execute(select(RemoteMember.__table__)).all()
    assert row.hq_position > 0 and row.balance_fen == 11_000
    assert "13912345670" not in str(row.card)


def test_offline_the_cached_card_answers_and_an_unknown_member_is_not_found(
        tills: tuple[Till, Till], central: Central) -> None:
    a, b = tills
    _, at_a = _registered_and_topped_up_at(a)
    _lookup(b, "13912345670")  # by phone: the cache answers its number and its phone
    cached = _lookup(b, at_a.member_no, online=False)
    assert cached.hq is not None and not cached.hq.fresh
    assert cached.hq.balance_fen == 11_000
    assert _lookup(b, "13912345670", online=False).id == at_a.id
    with SyncClient("http://127.0.0.1:9", "token", timeout=2) as unreachable:
        got = find_remote(b.app.uow, clerk=b.clerk, code=at_a.member_no, hq=unreachable)
    assert got.id == at_a.id and got.hq is not None and not got.hq.fresh
    with pytest.raises(MemberNotFound):
        _lookup(b, "13900000000")  # HQ knows no such member
    with pytest.raises(MemberNotFound):
        _lookup(b, "13900000001", online=False)  # nothing cached


def test_a_member_first_looked_up_by_number_is_found_offline_by_phone(
        tills: tuple[Till, Till], central: Central) -> None:
    a, b = tills
    _, at_a = _registered_and_topped_up_at(a)
    b.sync()  # the directory holds A's member and the blind index of their phone
    _lookup(b, at_a.member_no)  # asked HQ by number only
    by_phone = _lookup(b, "13912345670", online=False)
    assert by_phone.id == at_a.id and by_phone.hq is not None
    assert by_phone.hq.balance_fen == 11_000 and not by_phone.hq.fresh
    with pytest.raises(MemberNotFound):
        _lookup(b, "13900000001", online=False)  # another phone: nothing cached


def test_past_hq_s_lookup_limit_the_cache_answers_else_the_refusal_says_why(
        tills: tuple[Till, Till], central: Central, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lookup_limits, "PER_WINDOW", 2)
    a, b = tills
    _, at_a = _registered_and_topped_up_at(a)
    _lookup(b, at_a.member_no)
    _lookup(b, "13912345670")  # the second: HQ's limit reached
    limited = _lookup(b, at_a.member_no)  # HQ refuses (429): what this till cached
    assert limited.id == at_a.id and limited.hq is not None and not limited.hq.fresh
    with pytest.raises(ServerRefused, match="Too many member lookups") as refused:
        _lookup(b, "13900000000")  # nothing cached: the cashier is told why
    assert refused.value.status == 429


def _written(till: Till) -> tuple[int, int]:
    with till.app.uow.read() as s:
        return (int(s.scalar(select(func.count()).select_from(Event)) or 0),
                int(s.scalar(select(func.count()).select_from(SvLedgerEntry)) or 0))


def test_offline_b_spends_at_most_the_balance_hq_last_reported(
        tills: tuple[Till, Till], central: Central, monkeypatch: pytest.MonkeyPatch) -> None:
    """B is a till from before the member directory (it pulled the whole chain's log, every
    member in full) that kept its copy when it was upgraded: that copy stops moving, and
    HQ's last report caps what it spends. (A till of this version holds another store's
    member in its directory only: paying from their balance there is the look-up's part.)"""
    a, b = tills
    customer, at_a = _registered_and_topped_up_at(a)
    with monkeypatch.context() as before_the_directory:
        before_the_directory.setattr("sync.client.API_V2", "/v1")  # the whole chain's log
        before_the_directory.setattr(member_directory, "full_too", lambda *args: True)
        b.sync()  # B holds the member now (its own copy of the balance: ¥110)
    pay(a.app, a.clerk, a.clock, customer, 8_000)  # store A spends ¥80 ...
    a.sync()  # ... and HQ knows; B has not pulled it
    assert _lookup(b, at_a.member_no).hq.balance_fen == 3_000  # type: ignore[union-attr]
    before = _written(b)
    with pytest.raises(RemoteBalanceCapReached) as refused:
        pay(b.app, b.clerk, b.clock, customer, 5_000)  # offline: B's own copy says ¥110
    assert "¥30.00" in refused.value.text() and _written(b) == before  # nothing written
    pay(b.app, b.clerk, b.clock, customer, 2_000)  # within what HQ reported
    with pytest.raises(RemoteBalanceCapReached) as again:
        pay(b.app, b.clerk, b.clock, customer, 1_500)  # ¥30 less ¥20 paid here since
    assert "¥10.00" in again.value.text()
    pay(b.app, b.clerk, b.clock, customer, 1_000)
    b.sync()
    central.assert_balances()


def test_a_member_of_this_tills_own_store_has_no_cap(
        tills: tuple[Till, Till], central: Central, tmp_path: Path) -> None:
    """Scanned before this till pulled it (registered at another till of the store), the
    member was looked up at HQ; once pulled, this till's ledgers are the member's own."""
    a, _ = tills
    sibling = enrolled_till(central, tmp_path / "sibling.sqlite", 1)  # store 1, as ``a``
    try:
        customer, at_a = _registered_and_topped_up_at(a)
        assert _lookup(sibling, at_a.member_no).hq is not None  # HQ: ¥110
        top_up(a.app, a.clerk, customer)  # ¥110 more, after HQ's answer
        a.sync()
        sibling.sync()
        pay(sibling.app, sibling.clerk, sibling.clock, customer, 15_000)  # offline, over ¥110
    finally:
        sibling.close()


def test_a_directory_card_asks_hq_and_a_card_with_hq_figures_does_not() -> None:
    """The chain's directory marks another store's member ``remote`` (a card with number,
    tier and store only); such a card asks HQ for the rest, the till's own cards never."""
    from types import SimpleNamespace

    from pos_member.services.remote_members import from_directory

    assert from_directory(SimpleNamespace(hq=None, remote=True))  # type: ignore[arg-type]
    assert not from_directory(SimpleNamespace(hq=None))  # type: ignore[arg-type]
    assert not from_directory(SimpleNamespace(hq=object(), remote=True))  # type: ignore[arg-type]
