from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pos_member.hlc import ZERO, HLCTimestamp, HybridClock

wall_times = st.integers(min_value=0, max_value=10**13)
timestamps = st.builds(
    HLCTimestamp,
    st.integers(min_value=0, max_value=10**15 - 1),
    st.integers(min_value=0, max_value=10**6 - 1),
)


class WallClock:
    """Physical time read from a script: each read returns the next value."""

    def __init__(self, readings: list[int]) -> None:
        self._readings = iter(readings)

    def __call__(self) -> int:
        return next(self._readings)


@given(st.lists(wall_times, min_size=2, max_size=200))
def test_now_is_strictly_monotonic_whatever_the_wall_clock_does(readings: list[int]) -> None:
    clock = HybridClock(WallClock(readings))
    issued = [clock.now() for _ in readings]
    assert all(a < b for a, b in pairwise(issued))


@given(st.lists(wall_times, min_size=1, max_size=200))
def test_now_never_lags_the_largest_wall_time_seen(readings: list[int]) -> None:
    clock = HybridClock(WallClock(readings))
    for i in range(len(readings)):
        assert clock.now().wall_ms == max(readings[: i + 1])


@given(timestamps, st.lists(wall_times, min_size=1, max_size=50))
def test_a_clock_resumed_from_a_persisted_timestamp_never_goes_back(
    last: HLCTimestamp, readings: list[int]
) -> None:
    clock = HybridClock(WallClock(readings), last)
    assert clock.now() > last


def test_now_follows_the_wall_clock_when_it_moves_forward() -> None:
    clock = HybridClock(WallClock([1000, 2000]))
    assert clock.now() == HLCTimestamp(1000, 0)
    assert clock.now() == HLCTimestamp(2000, 0)


def test_now_counts_on_while_the_wall_clock_stands_or_goes_back() -> None:
    clock = HybridClock(WallClock([5000, 5000, 3000, 5001]))
    assert [clock.now() for _ in range(4)] == [
        HLCTimestamp(5000, 0),
        HLCTimestamp(5000, 1),
        HLCTimestamp(5000, 2),
        HLCTimestamp(5001, 0),
    ]


@given(timestamps, timestamps, wall_times)
def test_observe_returns_a_time_after_both_local_and_remote(
    local: HLCTimestamp, remote: HLCTimestamp, physical: int
) -> None:
    clock = HybridClock(lambda: physical, local)
    received = clock.observe(remote)
    assert received > local
    assert received > remote
    assert received.wall_ms >= physical
    assert clock.last == received


@given(timestamps, timestamps, st.lists(wall_times, min_size=2, max_size=20))
def test_now_after_observe_stays_after_the_remote_time(
    local: HLCTimestamp, remote: HLCTimestamp, readings: list[int]
) -> None:
    clock = HybridClock(WallClock(readings), local)
    clock.observe(remote)
    assert clock.now() > remote


@given(timestamps, timestamps)
def test_packed_text_sorts_like_the_timestamp(a: HLCTimestamp, b: HLCTimestamp) -> None:
    assert (a < b) == (a.pack() < b.pack())
    assert (a == b) == (a.pack() == b.pack())


@given(timestamps)
def test_unpack_gives_back_the_packed_timestamp(ts: HLCTimestamp) -> None:
    assert HLCTimestamp.unpack(ts.pack()) == ts


def test_pack_is_fixed_width() -> None:
    assert ZERO.pack() == "000000000000000-000000"
    assert HLCTimestamp(1_767_603_600_000, 7).pack() == "001767603600000-000007"


@pytest.mark.parametrize("text", ["", "abc", "123", "12-ab", "-5", "1.5-2"])
def test_unpack_refuses_what_is_not_a_packed_timestamp(text: str) -> None:
    with pytest.raises(ValueError):
        HLCTimestamp.unpack(text)
