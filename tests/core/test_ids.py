from __future__ import annotations

import uuid
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pos_member import ids
from pos_member.ids import uuid7, uuid7_str

T0 = 1_767_603_600_000  # 2026-01-05 09:00 UTC in ms


@pytest.fixture(autouse=True)
def fresh_generator(monkeypatch: pytest.MonkeyPatch) -> None:
    """uuid7 remembers the last millisecond it used in the process; start each test afresh so
    one test's clock does not decide another's timestamps."""
    monkeypatch.setattr(ids, "_last_ms", -1)
    monkeypatch.setattr(ids, "_counter", 0)


def test_uuid7_has_version_7_and_the_rfc_variant() -> None:
    u = uuid7(lambda: T0)
    assert u.version == 7
    assert u.variant == uuid.RFC_4122


def test_uuid7_carries_the_millisecond_in_its_first_48_bits() -> None:
    u = uuid7(lambda: T0)
    assert u.int >> 80 == T0


def test_uuid7_str_is_the_canonical_text_form() -> None:
    text = uuid7_str(lambda: T0)
    assert str(uuid.UUID(text)) == text
    assert text[14] == "7"


def test_ids_made_in_one_millisecond_sort_in_creation_order() -> None:
    made = [uuid7_str(lambda: T0) for _ in range(10_000)]  # more than the 12-bit counter holds
    assert made == sorted(made)
    assert len(set(made)) == len(made)


def test_ids_sort_in_creation_order_when_the_clock_goes_back() -> None:
    first = uuid7_str(lambda: T0)
    later = uuid7_str(lambda: T0 - 60_000)
    assert first < later


def test_ids_follow_the_clock_forward() -> None:
    first = uuid7(lambda: T0)
    second = uuid7(lambda: T0 + 5)
    assert second.int >> 80 == T0 + 5
    assert first < second


@settings(max_examples=50)
@given(st.lists(st.integers(min_value=T0 - 10**7, max_value=T0 + 10**7), min_size=2,
                max_size=300))
def test_ids_sort_in_creation_order_whatever_the_clock_does(readings: list[int]) -> None:
    ids._last_ms, ids._counter = -1, 0  # each example is a fresh process
    made = [uuid7_str(lambda ms=ms: ms) for ms in readings]
    assert all(a < b for a, b in pairwise(made))
    assert all(uuid.UUID(u).version == 7 for u in made)


def test_uuid7_many_continues_the_one_by_one_order_across_the_counter_s_end() -> None:
    before = [uuid7_str(lambda: T0) for _ in range(3)]
    many = ids.uuid7_many(lambda: T0, 5000)  # past 4,096 in one millisecond: the next one
    after = [uuid7_str(lambda: T0 - 5) for _ in range(3)]  # a clock gone back counts on
    made = before + many + after
    assert made == sorted(made) and len(set(made)) == len(made)
    for text in (many[0], many[-1]):
        u = uuid.UUID(text)
        assert (u.version, u.variant, str(u)) == (7, uuid.RFC_4122, text)
    assert uuid.UUID(many[-1]).int >> 80 == T0 + 1
