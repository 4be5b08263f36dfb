from __future__ import annotations

import pytest

from pos_member.errors import ConsentRequired, DuplicatePhone, InvalidPhone
from pos_member.services.members import find_member
from tests.factories import Till


def test_registration_needs_only_a_phone_and_consent(till: Till) -> None:
    card = till.register("+86 138-1234-5678")
    assert card.phone_masked == "138****5678"
    assert find_member(till.uow, clerk=till.cashier, code=card.qr_payload).id == card.id


def test_duplicate_phone_is_refused_and_names_the_existing_member(till: Till) -> None:
    first = till.register("13812345678")
    before = till.table_counts()
    with pytest.raises(DuplicatePhone) as refused:
        till.register("138 1234 5678")
    assert refused.value.member_id == first.id
    assert till.table_counts() == before


@pytest.mark.parametrize("phone", ["12812345678", "1381234567", "abc", ""])
def test_invalid_phone_changes_nothing(till: Till, phone: str) -> None:
    before = till.table_counts()
    with pytest.raises(InvalidPhone):
        till.register(phone)
    assert till.table_counts() == before


def test_missing_consent_changes_nothing(till: Till) -> None:
    before = till.table_counts()
    with pytest.raises(ConsentRequired):
        till.register(privacy_consent=False)
    assert till.table_counts() == before
