"""The top-up quote the till previews is the bonus the top-up then books."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest

from pos_member.errors import MemberNotFound
from pos_member.services.stored_value import quote_topup, top_up
from pos_member.stored_value_errors import InvalidAmount
from tests.factories import Till, make_till


@pytest.fixture
def till(tmp_path: Path) -> Till:
    till = make_till(tmp_path)
    sv = dataclasses.replace(till.uow.rules.stored_value, first_topup_bonus_fen=500,
                             birthday_month_bonus_fen=300)
    till.uow.rules = dataclasses.replace(till.uow.rules, stored_value=sv)
    return till


def _birthday_this_month(till: Till) -> date:
    return date(1990, till.clock.local().month, 3)


def test_the_quote_is_what_the_top_up_books(till: Till) -> None:
    m = till.register(birthday=_birthday_this_month(till))
    for txn in ("a", "b"):
        quote = quote_topup(till.uow, member_id=m.id, amount_fen=10000)
        booked = top_up(till.uow, clerk=till.cashier, member_id=m.id, amount_fen=10000,
                        method="cash", txn_id=txn)
        assert quote.bonus_fen == booked.bonus_delta_fen
    assert quote.bonus_fen == 1000 + 300 and not quote.first and quote.birthday_month


def test_the_first_top_up_quotes_its_extra(till: Till) -> None:
    m = till.register()
    quote = quote_topup(till.uow, member_id=m.id, amount_fen=50000)
    assert (quote.bonus_fen, quote.first, quote.birthday_month) == (6000 + 500, True, False)


def test_a_quote_moves_nothing(till: Till) -> None:
    m = till.register()
    counts = till.table_counts()
    quote_topup(till.uow, member_id=m.id, amount_fen=10000)
    assert till.table_counts() == counts


def test_a_quote_refuses_what_the_top_up_refuses(till: Till) -> None:
    m = till.register()
    with pytest.raises(InvalidAmount):
        quote_topup(till.uow, member_id=m.id, amount_fen=0)
    with pytest.raises(MemberNotFound):
        quote_topup(till.uow, member_id="no-such-member", amount_fen=10000)
