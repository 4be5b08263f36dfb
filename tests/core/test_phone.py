from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pos_member.errors import InvalidPhone
from pos_member.phone import looks_like_phone, mask_phone, normalise_phone

valid_phones = st.builds(
    lambda second, rest: f"1{second}{rest}",
    st.sampled_from("3456789"),
    st.text(alphabet="0123456789", min_size=9, max_size=9),
)
_FULL_WIDTH = str.maketrans("0123456789+", "０１２３４５６７８９＋")


@pytest.mark.parametrize(
    "raw",
    [
        "13812345678",
        "+8613812345678",
        "+86 138 1234 5678",
        "+86-138-1234-5678",
        "008613812345678",
        "0086 138 1234 5678",
        "8613812345678",
        "138 1234 5678",
        "138-1234-5678",
        "(138) 1234-5678",
        " 13812345678 ",
        "１３８１２３４５６７８",
        "＋８６ １３８ １２３４ ５６７８",
        "138\u00a01234\u00a05678",
        "138\u20141234\u20145678",
    ],
)
def test_normalise_phone_strips_country_code_separators_and_full_width(raw: str) -> None:
    assert normalise_phone(raw) == "13812345678"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "abc",
        "12812345678",  # second digit 2 is not a mobile range
        "11812345678",
        "23812345678",
        "1381234567",  # 10 digits
        "138123456789",  # 12 digits
        "+8712812345678",
        "+86 12812345678",
        "86138123456",
        "1381234567x",
        "138.1234.5678",
        "+1 13812345678",
    ],
)
def test_normalise_phone_refuses_anything_but_a_mainland_mobile(raw: str) -> None:
    with pytest.raises(InvalidPhone):
        normalise_phone(raw)


@pytest.mark.parametrize("second", "3456789")
def test_every_mobile_range_13_to_19_is_accepted(second: str) -> None:
    assert normalise_phone(f"1{second}012345678") == f"1{second}012345678"


def test_looks_like_phone_tells_a_phone_from_anything_else() -> None:
    assert looks_like_phone("+86 139 0000 0000")
    assert not looks_like_phone("1234")


def test_mask_phone_hides_the_middle_four_digits() -> None:
    assert mask_phone("13812345678") == "138****5678"


def test_mask_phone_hides_everything_of_an_unexpected_length() -> None:
    assert mask_phone("12345") == "*****"


@given(
    valid_phones,
    st.sampled_from(["", "+86", "+86 ", "0086", "0086-", "86", "+86-"]),
    st.lists(st.sampled_from([" ", "-", "", "\u3000", "\u2014"]), min_size=10, max_size=10),
    st.booleans(),
)
def test_any_valid_number_survives_formatting_noise(
    phone: str, prefix: str, gaps: list[str], full_width: bool
) -> None:
    noisy = prefix + "".join(d + g for d, g in zip(phone, [*gaps, ""], strict=True))
    if full_width:
        noisy = noisy.translate(_FULL_WIDTH)
    assert normalise_phone(noisy) == phone


@given(valid_phones)
def test_a_masked_phone_never_shows_the_middle_digits(phone: str) -> None:
    masked = mask_phone(phone)
    assert masked[:3] == phone[:3] and masked[-4:] == phone[-4:]
    assert masked[3:7] == "****"
