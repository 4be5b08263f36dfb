"""The scan routing rule (docs/rules.md, "Scanning"), without a display."""

from __future__ import annotations

import pytest

from pos_member.errors import MalformedCode
from pos_member.member_code import make_member_no
from pos_member.scan_route import RouteKind, first_routable, reading_order, route

MEMBER_NO = make_member_no(store_no=1, device_no=1, seq=1)


@pytest.mark.parametrize("raw", [f"PM1:{MEMBER_NO}", MEMBER_NO, "13812345678",
                                 "+86 138-1234-5678", f" {MEMBER_NO}\r"])
def test_member_codes_numbers_and_phones_route_to_the_card(raw: str) -> None:
    assert route(raw).kind is RouteKind.MEMBER


@pytest.mark.parametrize("raw", ["123456", "000000", "１２３４５６", " 654321 "])
def test_six_digits_are_a_payment_code(raw: str) -> None:
    found = route(raw)
    assert found.kind is RouteKind.PAYMENT_CODE
    assert found.code.isascii() and len(found.code) == 6


def test_a_payment_code_never_shows_in_a_repr() -> None:
    assert "123456" not in repr(route("123456"))


@pytest.mark.parametrize("raw", ["CP1:W7X2-99QK", "CP2:abc"])
def test_coupon_payloads_route_to_coupons(raw: str) -> None:
    assert route(raw).kind is RouteKind.COUPON


@pytest.mark.parametrize("raw", ["", "12345", "1234567", "hello!", "王", "CP1:", "CP:abc",
                                 "PM2:" + MEMBER_NO, MEMBER_NO[:-1] + "0" if MEMBER_NO[-1] != "0"
                                 else MEMBER_NO[:-1] + "1", "\x00\x01\x02", "https://x.cn/a"])
def test_anything_else_is_malformed(raw: str) -> None:
    with pytest.raises(MalformedCode):
        route(raw)


@pytest.mark.parametrize("raw", ["5678", "王芳", "欧阳 娜娜", "Anna Li", " 李娜 "])
def test_a_name_or_the_last_four_digits_of_a_phone_route_to_a_search(raw: str) -> None:
    assert route(raw).kind is RouteKind.SEARCH


def test_the_first_member_or_payment_code_wins_coupons_and_garbage_are_passed_over() -> None:
    found = first_routable(["https://example.com", "CP1:X", "123456", f"PM1:{MEMBER_NO}"])
    assert found is not None and found.kind is RouteKind.PAYMENT_CODE
    assert first_routable(["CP1:X", "nonsense"]) is None
    assert first_routable([]) is None


def test_reading_order_is_rows_from_the_top_then_left_to_right() -> None:
    # Two codes on one (slightly uneven) row, one below: the upper row first, left before right.
    centres = [(300.0, 105.0), (100.0, 100.0), (120.0, 400.0)]
    assert reading_order(centres, row_height=50) == [1, 0, 2]
    assert reading_order([], row_height=50) == []
