"""Cross-store overdraw of stored value (SPEC §3.3): the server sums every store's ``sv.*``
money events per member, chain-wide; a member whose total goes below zero is flagged once and
blocked with a server event every till pulls, until HQ settles it."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from pos_member.clock import to_ms
from pos_member.hlc import HLCTimestamp
from sync.protocol import WireEvent
from sync.server import balances, services
from sync.server.cli import main
from sync.server.errors import MemberNotFoundAtHq
from tests.server.factories import Device, LiveServer

MEMBER = "0190aaaa-0000-7000-8000-000000000001"


def sv(till: Device, member_id: str, principal: int, bonus: int = 0,
       type: str = "sv.paid") -> WireEvent:
    return till.event(type=type, payload={
        "member_id": member_id, "txn_id": str(uuid.uuid4()),
        "principal_delta_fen": principal, "bonus_delta_fen": bonus,
    })


def server_events(till: Device, type: str) -> list[WireEvent]:
    return [c.event for c in till.pull_all() if c.event.type == type]


def overdraw_flags(server: LiveServer) -> list[services.FlagView]:
    return [f for f in services.list_flags(server.ctx) if f.kind == "overdraw"]


def test_two_stores_spending_the_same_balance_block_the_member_once(server: LiveServer) -> None:
    a, b = server.enrol(), server.enrol()
    a.push([sv(a, MEMBER, 10_000, 2_000, type="sv.topped_up")])  # 100 + 20 bonus
    a.push([sv(a, MEMBER, -8_000, -1_600)])  # store A spends 96 (offline at B)
    assert server_events(a, "member.balance_blocked") == []
    b.push([sv(b, MEMBER, -8_000, -1_600)])  # store B spends the same balance
    [blocked] = server_events(a, "member.balance_blocked")
    assert blocked.store_id == "hq" and blocked.entity_id == MEMBER
    [flag] = overdraw_flags(server)
    assert blocked.payload == {"member_id": MEMBER, "balance_fen": -7_200, "flag_id": flag.id}
    assert flag.resolved_at is None and flag.store_id == b.store_id
    assert flag.detail["balance_fen"] == -7_200
    # Spending further while blocked: still one flag, one block.
    b.push([sv(b, MEMBER, -100)])
    assert len(overdraw_flags(server)) == 1
    assert len(server_events(b, "member.balance_blocked")) == 1
    assert balances.balance_of(server.ctx, MEMBER) == (-7_300, flag.id)


def test_a_retried_push_counts_each_event_once(server: LiveServer) -> None:
    a = server.enrol()
    events = [sv(a, MEMBER, 5_000, type="sv.topped_up"), sv(a, MEMBER, -3_000)]
    a.push(events)
    a.push(events)
    a.push(list(reversed(events)))
    assert balances.balance_of(server.ctx, MEMBER) == (2_000, None)


def test_gapped_events_count_when_the_gap_fills(server: LiveServer) -> None:
    a = server.enrol()
    first, second = sv(a, MEMBER, 1_000, type="sv.topped_up"), sv(a, MEMBER, -3_000)
    assert a.push([second]).held == [second.seq]
    assert balances.balance_of(server.ctx, MEMBER) == (0, None)
    a.push([first])
    balance, flag_id = balances.balance_of(server.ctx, MEMBER)
    assert balance == -2_000 and flag_id is not None


@pytest.mark.parametrize("payload", [
    {"member_id": MEMBER, "txn_id": "t", "principal_delta_fen": -1.5, "bonus_delta_fen": 0},
    {"member_id": MEMBER, "txn_id": "t", "principal_delta_fen": True, "bonus_delta_fen": 0},
    {"member_id": MEMBER, "txn_id": "t", "principal_delta_fen": "-100", "bonus_delta_fen": 0},
    {"member_id": 7, "txn_id": "t", "principal_delta_fen": -100, "bonus_delta_fen": 0},
    {"member_id": MEMBER, "txn_id": "t"},
])
def test_malformed_sv_events_are_refused_at_push_and_not_counted(
    server: LiveServer, payload: dict[str, Any],
) -> None:
    """They were stored and relayed (and left out of the balance); the push is refused now
    (``sync.server.payloads``)."""
    a = server.enrol()
    assert a.push_raw([a.event(type="sv.paid", payload=payload)]).status_code == 422
    assert balances.balance_of(server.ctx, MEMBER) == (0, None)
    assert overdraw_flags(server) == []


def test_an_amount_past_the_bound_is_relayed_but_not_counted(server: LiveServer) -> None:
    a = server.enrol()
    response = a.push([a.event(type="sv.paid", payload={
        "member_id": MEMBER, "txn_id": "t", "principal_delta_fen": -10**13,
        "bonus_delta_fen": 0})])
    assert len(response.stored) == 1
    assert balances.balance_of(server.ctx, MEMBER) == (0, None)
    assert overdraw_flags(server) == []


def test_other_event_types_with_money_fields_are_not_counted(server: LiveServer) -> None:
    a = server.enrol()
    a.push([a.event(type="points.earned", payload={
        "member_id": MEMBER, "principal_delta_fen": -100, "bonus_delta_fen": 0})])
    assert balances.balance_of(server.ctx, MEMBER) == (0, None)


def _registration(till: Device, member_id: str, member_no: str, minutes: int) -> WireEvent:
    hlc = HLCTimestamp(to_ms(till.server.clock.now()) - 60_000 * (10 - minutes), 0).pack()
    return till.event(type="member.registered", hlc=hlc, payload=till.registered({
        "member_id": member_id, "member_no": member_no, "phone_index": "c" * 64}))


def test_a_merged_losers_balance_moves_to_the_winner(server: LiveServer) -> None:
    a, b = server.enrol(), server.enrol()
    winner, loser = str(uuid.uuid4()), str(uuid.uuid4())
    a.push([_registration(a, winner, "0001010000011", minutes=1),
            sv(a, winner, 3_000, type="sv.topped_up")])
    b.push([sv(b, loser, 5_000, type="sv.topped_up")])  # its registration comes later
    assert balances.balance_of(server.ctx, loser) == (5_000, None)
    b.push([_registration(b, loser, "0002010000014", minutes=2)])  # merged: B's is later
    assert balances.balance_of(server.ctx, winner) == (8_000, None)
    assert balances.balance_of(server.ctx, loser) == (8_000, None)  # follows the merge
    b.push([sv(b, loser, -9_000)])  # spent under the loser's number: the winner's balance
    balance, flag_id = balances.balance_of(server.ctx, winner)
    assert balance == -1_000 and flag_id is not None
    [blocked] = server_events(a, "member.balance_blocked")
    assert blocked.payload["member_id"] == winner


def test_a_merge_that_brings_a_debt_blocks_the_winner(server: LiveServer) -> None:
    a, b = server.enrol(), server.enrol()
    winner, loser = str(uuid.uuid4()), str(uuid.uuid4())
    a.push([_registration(a, winner, "0001010000011", minutes=1),
            sv(a, winner, 1_000, type="sv.topped_up")])
    b.push([sv(b, loser, 500, type="sv.topped_up"), sv(b, loser, -2_000)])  # loser blocked
    [first] = server_events(a, "member.balance_blocked")
    assert first.payload["member_id"] == loser
    b.push([_registration(b, loser, "0002010000014", minutes=2)])
    blocks = server_events(a, "member.balance_blocked")
    assert [e.payload["member_id"] for e in blocks] == [loser, winner]
    assert blocks[1].payload["balance_fen"] == -500
    # Settling the winner lifts both blocks (the loser's number scans to the winner).
    result = balances.settle_overdraw(server.ctx, member="0001010000011", note="paid cash")
    assert result.member_id == winner and result.settled_fen == 500
    unblocked = server_events(a, "member.balance_unblocked")
    assert sorted(e.payload["member_id"] for e in unblocked) == sorted([winner, loser])
    assert all(f.resolved_at is not None for f in overdraw_flags(server))


def test_settle_overdraw_unblocks_and_a_new_overdraw_blocks_again(server: LiveServer) -> None:
    a = server.enrol()
    a.push([sv(a, MEMBER, 1_000, type="sv.topped_up"), sv(a, MEMBER, -3_000)])
    [flag] = overdraw_flags(server)
    result = balances.settle_overdraw(server.ctx, member=MEMBER, note="collected 20.00 in cash")
    assert result.settled_fen == 2_000 and result.flag_ids == [flag.id]
    [unblocked] = server_events(a, "member.balance_unblocked")
    assert unblocked.payload == {"member_id": MEMBER, "flag_id": flag.id, "settled_fen": 2_000,
                                 "note": "collected 20.00 in cash"}
    [settled] = overdraw_flags(server)
    assert settled.resolved_at is not None and settled.detail["note"] == "collected 20.00 in cash"
    a.push([sv(a, MEMBER, 500, type="sv.topped_up")])  # settled: no new flag
    assert len(overdraw_flags(server)) == 1
    a.push([sv(a, MEMBER, -600)])  # a new overdraw below the settled line
    assert len(overdraw_flags(server)) == 2
    assert len(server_events(a, "member.balance_blocked")) == 2


def test_settling_refuses_without_an_open_overdraw_and_writes_nothing(
    server: LiveServer,
) -> None:
    a = server.enrol()
    a.push([sv(a, MEMBER, 1_000, type="sv.topped_up")])
    before = server.table_counts()
    with pytest.raises(balances.NoOpenOverdraw):
        balances.settle_overdraw(server.ctx, member=MEMBER, note="x")
    with pytest.raises(MemberNotFoundAtHq):
        balances.settle_overdraw(server.ctx, member="0009990000019", note="x")
    with pytest.raises(balances.BadRequest):
        balances.settle_overdraw(server.ctx, member=MEMBER, note="   ")
    assert server.table_counts() == before


def test_the_settle_overdraw_command(server: LiveServer, capsys: pytest.CaptureFixture[str],
                                     ) -> None:
    a = server.enrol()
    a.push([_registration(a, MEMBER, "0001010000011", minutes=1), sv(a, MEMBER, -250)])
    assert main(["--database", server.url, "settle-overdraw", "0001010000011",
                 "--note", "written off by HQ"]) == 0
    out = capsys.readouterr().out
    assert "0001010000011" in out and "2.50" in out
    assert main(["--database", server.url, "settle-overdraw", "0001010000011",
                 "--note", "again"]) == 1
    assert "no open overdraw" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["--database", server.url, "settle-overdraw", "0001010000011"])
    assert e.value.code == 2


def test_a_merged_losers_number_settles_its_winner(server: LiveServer) -> None:
    a, b = server.enrol(), server.enrol()
    winner, loser = str(uuid.uuid4()), str(uuid.uuid4())
    a.push([_registration(a, winner, "0001010000011", minutes=1)])
    b.push([_registration(b, loser, "0002010000014", minutes=2), sv(b, loser, -300)])
    assert balances.balance_of(server.ctx, winner)[0] == -300
    result = balances.settle_overdraw(server.ctx, member="0002010000014", note="cash")
    assert result.member_id == winner and result.settled_fen == 300
    [unblocked] = server_events(a, "member.balance_unblocked")
    assert unblocked.payload["member_id"] == winner
