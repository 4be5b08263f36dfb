from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pos_member.errors import InvalidMoney
from pos_member.money import fen, format_yuan, parse_yuan, points

MAX_FEN = 999_999_999_99  # the largest amount parse_yuan accepts: 999,999,999.99 yuan


@pytest.mark.parametrize("value", [1.0, 0.5, 12.34, True, False])
def test_fen_refuses_floats_and_bools(value: object) -> None:
    with pytest.raises(TypeError):
        fen(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [1.0, 100.0, True, False])
def test_points_refuse_floats_and_bools(value: object) -> None:
    with pytest.raises(TypeError):
        points(value)  # type: ignore[arg-type]


def test_fen_and_points_keep_integers_unchanged() -> None:
    assert fen(12345) == 12345
    assert points(-7) == -7


def test_format_yuan_refuses_a_float() -> None:
    with pytest.raises(TypeError):
        format_yuan(12.5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (0, "¥0.00"),
        (5, "¥0.05"),
        (12345, "¥123.45"),
        (123456789, "¥1,234,567.89"),
        (-100, "-¥1.00"),
    ],
)
def test_format_yuan_shows_yuan_with_two_decimals(amount: int, text: str) -> None:
    assert format_yuan(amount) == text


def test_format_yuan_without_symbol() -> None:
    assert format_yuan(12345, symbol=False) == "123.45"


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("¥123.45", 12345),
        ("￥123.45", 12345),
        ("123.4", 12340),
        ("123", 12300),
        (" ¥ 0.05 ", 5),
        ("1,234.50", 123450),
    ],
)
def test_parse_yuan_reads_amounts_as_integer_fen(text: str, amount: int) -> None:
    parsed = parse_yuan(text)
    assert parsed == amount
    assert type(parsed) is int


@pytest.mark.parametrize(
    "text",
    ["", "abc", "-1.00", "1.234", "1.", ".5", "1e3", "¥", "12,34.00", "1 000", "NaN", "1.0.0",
     "1234567890"],
)
def test_parse_yuan_refuses_bad_amounts(text: str) -> None:
    with pytest.raises(InvalidMoney):
        parse_yuan(text)


def test_invalid_money_names_the_amount() -> None:
    with pytest.raises(InvalidMoney) as refused:
        parse_yuan("12.345")
    assert "12.345" in refused.value.text()


@given(st.integers(min_value=0, max_value=MAX_FEN), st.booleans())
def test_format_then_parse_gives_back_the_amount(amount: int, symbol: bool) -> None:
    assert parse_yuan(format_yuan(amount, symbol=symbol)) == amount


@given(st.integers(min_value=0, max_value=999_999_999), st.integers(min_value=0, max_value=99))
def test_parse_then_format_gives_back_the_canonical_text(yuan: int, cents: int) -> None:
    text = f"{yuan}.{cents:02d}"
    assert format_yuan(parse_yuan(text), symbol=False).replace(",", "") == text
