"""One welcome bonus per person (issue 13): a person registered at two stores offline and
merged kept both welcome bonuses. The merge reverses the merged-away record's welcome, with the
same entry on every till, whichever order the merge and the welcomes arrive in."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from pos_member.clock import FakeClock
from pos_member.services.members_sync import MERGED
from pos_member.services.points import points_summary
from pos_member.services.pulled_events import apply_page
from pos_member.services.welcome_reversal import WELCOME_REVERSED
from tests.factories import (
    Till,
    as_changes,
    make_till,
    new_data_key,
    new_phone,
    server_event,
    wire_events,
)


def apply(till: Till, events: list[dict[str, Any]], first: int) -> None:
    assert till.app.identity is not None
    apply_page(till.uow, device_id=till.app.identity.device_id,
               changes=as_changes(events, first_position=first), cursor=first + len(events) - 1)


def ledger(t: Till) -> list[tuple[Any, ...]]:
    con = sqlite3.connect(t.path)
    try:
        return con.execute("SELECT id, member_id, kind, points, at FROM points_entries "
                           "ORDER BY id").fetchall()
    finally:
        con.close()


@pytest.fixture
def world(tmp_path: Path) -> dict[str, Any]:
    key = new_data_key()
    a = make_till(tmp_path, store_number=1, data_key=key)
    b = make_till(tmp_path, clock=FakeClock(a.clock.now()), store_number=2, data_key=key)
    b.clock.advance(minutes=1)
    phone = new_phone()
    winner, loser = a.register(phone), b.register(phone)
    merge = server_event(MERGED, {
        "winner_member_id": winner.id, "loser_member_id": loser.id,
        "winner_member_no": winner.member_no, "loser_member_no": loser.member_no})
    return {"a": a, "b": b, "tmp": tmp_path, "key": key, "winner": winner, "loser": loser,
            "from_a": wire_events(a), "from_b": wire_events(b), "merge": merge}


def balance(t: Till, member_id: str) -> int:
    return points_summary(t.uow, member_id=member_id).balance


def test_the_merge_leaves_one_welcome_bonus_on_both_tills(world: dict[str, Any]) -> None:
    a, b, w = world["a"], world["b"], world["winner"]
    welcome = balance(a, w.id)
    assert welcome > 0
    apply(a, [*world["from_b"], world["merge"]], 1)
    apply(b, [*world["from_a"], world["merge"]], 1)
    assert balance(a, w.id) == balance(b, w.id) == welcome  # was twice the welcome
    assert ledger(a) == ledger(b)
    assert [k for _, m, k, _, _ in ledger(a) if k == WELCOME_REVERSED] == [WELCOME_REVERSED]


@pytest.mark.parametrize("order", ["merge_last", "merge_first", "merge_between"])
def test_any_arrival_order_gives_the_same_ledger_as_the_tills(
    world: dict[str, Any], order: str,
) -> None:
    a = world["a"]
    apply(a, [*world["from_b"], world["merge"]], 1)
    c = make_till(world["tmp"] / order, store_number=3, data_key=world["key"])
    fa, fb, merge = world["from_a"], world["from_b"], world["merge"]
    events = {"merge_last": [*fa, *fb, merge], "merge_first": [merge, *fb, *fa],
              "merge_between": [*fa, merge, *fb]}[order]
    apply(c, events, 1)
    assert balance(c, world["winner"].id) == balance(a, world["winner"].id)
    assert ledger(c) == ledger(a)


def test_the_merge_pulled_again_reverses_nothing_more(world: dict[str, Any]) -> None:
    a = world["a"]
    apply(a, [*world["from_b"], world["merge"]], 1)
    before = ledger(a)
    apply(a, [{**world["merge"], "id": "0199aaaa-0000-7000-8000-00000000beef"}], 50)
    assert ledger(a) == before
