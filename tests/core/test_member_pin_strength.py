"""What makes a member's payment PIN too weak to set (docs/rules.md, "Second factor")."""

from __future__ import annotations

from datetime import date

import pytest

from pos_member.pin_policy import check_member_pin as check_pin_strength
from pos_member.stored_value_errors import WeakMemberPin

PHONE, BIRTHDAY = "13900901111", date(1990, 1, 1)


@pytest.mark.parametrize("pin", [
    "112233", "123321", "110011", "000111", "121211",  # pairs, mirrors, two digits
    "147258", "159753", "520520", "131420",  # keypad lines, sweet numbers
    "199001", "011990", "190101",  # the birthday as YYYYMM, MMYYYY, CCMMDD
])
def test_patterns_people_guess_first_are_refused(pin: str) -> None:
    with pytest.raises(WeakMemberPin):
        check_pin_strength(pin, phone=PHONE, birthday=BIRTHDAY)


@pytest.mark.parametrize("pin", ["739182", "294715", "731946", "580264"])
def test_a_pin_with_no_pattern_is_accepted(pin: str) -> None:
    check_pin_strength(pin, phone=PHONE, birthday=BIRTHDAY)
