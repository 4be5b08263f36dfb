"""HQ's remote member lookup (issue 14): a till of another store asks HQ for a member's card
and chain-wide balances, by number, member code or the phone's blind index; HQ's points
projection counts each entry once, follows merges and reverses a merged-away welcome; the
migration fills the new tables from the events of a database of the previous version."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from pos_member.crypto import PiiCipher
from pos_member.events import BIRTHDAY_CTX, GENDER_CTX, NAME_CTX, PHONE_CTX, TAGS_CTX
from pos_member.points_lots import expiry_entry_id
from sync.member_lookup import MemberLookupResponse
from sync.protocol import API, WireEvent
from sync.server.db import open_server_database
from sync.server.models import MemberCardRow, MemberPoints, PointsKeyedEntry
from tests.server.factories import Device, LiveServer
from tests.server.migrating import upgrade_from

LOOKUP = f"{API}/members/lookup"


def _cipher(till: Device) -> PiiCipher:
    return PiiCipher(base64.b64decode(till.enrolment.data_key))


def _seal(till: Device, value: str, context: str) -> str:
    return base64.b64encode(_cipher(till).encrypt(value, context=context)).decode()


def register(till: Device, member_no: str, phone: str, *, name: str = "王小明",
             hlc: str | None = None) -> tuple[str, WireEvent]:
    """A ``member.registered`` event as a till writes it (version 2, personal data sealed)."""
    member_id = str(uuid.uuid4())
    ev = till.event(type="member.registered", hlc=hlc, payload={
        "member_id": member_id, "member_no": member_no,
        "phone_index": _cipher(till).blind_index(phone, context=PHONE_CTX),
        "phone_enc": _seal(till, phone, PHONE_CTX), "name_enc": _seal(till, name, NAME_CTX),
        "gender_enc": _seal(till, "F", GENDER_CTX),
        "birthday_enc": _seal(till, "1990-05-17", BIRTHDAY_CTX),
        "tags": ["vip"], "source_channel": "walk_in", "store_id": till.store_id,
        "registered_at": "2026-12-01T02:00:00+00:00", "privacy_policy_version": "2026.1",
        "privacy_consent_at": "2026-12-01T02:00:00+00:00", "marketing_consent": True})
    return member_id, ev


def entry(member_id: str, kind: str, points: int, entry_id: str | None = None
          ) -> dict[str, Any]:
    return {"id": entry_id or str(uuid.uuid4()), "member_id": member_id, "kind": kind,
            "points": points, "at": "2026-12-01T02:00:00+00:00"}


def points_event(till: Device, type: str, member_id: str, *entries: dict[str, Any]
                 ) -> WireEvent:
    return till.event(type=type, payload={"member_id": member_id, "entries": list(entries)})


def sale(till: Device, member_id: str, earned: int) -> WireEvent:
    return till.event(type="sale.recorded", payload={
        "sale": {"id": str(uuid.uuid4())}, "member_id": member_id, "txn_id": str(uuid.uuid4()),
        "entries": [entry(member_id, "earn", earned)]})


def sv(till: Device, member_id: str, fen: int, type: str = "sv.topped_up") -> WireEvent:
    return till.event(type=type, payload={"member_id": member_id, "txn_id": str(uuid.uuid4()),
                                          "principal_delta_fen": fen, "bonus_delta_fen": 0})


def lookup(server: LiveServer, till: Device, **params: str) -> MemberLookupResponse:
    answer = server.http.get(LOOKUP, params=params, headers=till.headers)
    assert answer.status_code == 200, answer.text
    return MemberLookupResponse.model_validate_json(answer.content)


def test_another_store_sees_the_card_masked_and_the_chain_wide_balances(
        server: LiveServer) -> None:
    a, b = server.enrol(), server.enrol()
    member_id, reg = register(a, "00010100000016", "13812345678")
    a.push([reg, sv(a, member_id, 10_000),
            points_event(a, "points.welcome", member_id, entry(member_id, "welcome", 100)),
            sale(a, member_id, 37)])
    b.push([sv(b, member_id, -2_500, "sv.paid"), sale(b, member_id, 5),
            b.event(type="member.tier_changed", payload={
                "member_id": member_id, "to": "gold", "reason": "spend",
                "at": "2026-12-02T00:00:00+00:00"}),
            b.event(type="member.profile_updated", payload={
                "member_id": member_id, "fields": {  # version 3: the tags sealed too
                    "name_enc": _seal(b, "李四", NAME_CTX),
                    "tags_enc": _seal(b, '["vip", "孕婴"]', TAGS_CTX)}})])
    by_no = lookup(server, b, member_no="00010100000016")
    card = by_no.card
    assert (card.member_id, card.member_no, card.phone_masked, card.name_masked) == (
        member_id, "00010100000016", "138****5678", "李*")
    assert (card.gender, card.birthday_month, card.tags, card.tier, card.status) == (
        "F", 5, ["vip", "孕婴"], "gold", "active")
    assert card.store_id == a.store_id and card.store_name.startswith("store ")
    assert (by_no.balance_fen, by_no.points, by_no.blocked) == (7_500, 142, False)
    assert by_no.position == max(c.position for c in b.pull_all())
    assert "13812345678" not in server.http.get(
        LOOKUP, params={"member_no": "PM1:00010100000016"}, headers=b.headers).text
    assert lookup(server, b, member_no="PM1:00010100000016").card.member_id == member_id
    index = _cipher(b).blind_index("13812345678", context=PHONE_CTX)
    assert lookup(server, b, phone_index=index).card.member_id == member_id


def test_a_merged_number_scans_to_the_winner_with_its_points_and_no_second_welcome(
        server: LiveServer) -> None:
    a, b = server.enrol(), server.enrol()
    winner, first = register(a, "00010100000024", "13900000001", hlc="000000000000001-000000")
    loser, second = register(b, "00020100000015", "13900000001", hlc="000000000000002-000000")
    a.push([first, points_event(a, "points.welcome", winner, entry(winner, "welcome", 100)),
            sv(a, winner, 1_000)])
    b.push([second, points_event(b, "points.welcome", loser, entry(loser, "welcome", 100)),
            sale(b, loser, 20), sv(b, loser, 500)])
    got = lookup(server, a, member_no="00020100000015")
    assert got.card.member_id == winner and got.card.member_no == "00010100000024"
    assert (got.points, got.balance_fen) == (120, 1_500)  # the loser's welcome is reversed
    # A late welcome for the loser (pushed after the merge) is reversed at once.
    b.push([points_event(b, "points.welcome", loser, entry(loser, "welcome", 50))])
    assert lookup(server, a, member_no="00010100000024").points == 120


def test_an_expiry_two_tills_post_counts_once(server: LiveServer) -> None:
    a, b = server.enrol(), server.enrol()
    member_id, reg = register(a, "00010100000032", "13900000002")
    lot = str(uuid.uuid4())
    a.push([reg, points_event(a, "points.adjusted", member_id,
                              entry(member_id, "adjust", 80, entry_id=lot))])
    expiry = entry(member_id, "expire", -80, entry_id=expiry_entry_id(lot))
    a.push([points_event(a, "points.expired", member_id, expiry)])
    b.push([points_event(b, "points.expired", member_id, expiry)])
    assert lookup(server, b, member_no="00010100000032").points == 0


@pytest.mark.parametrize(("params", "status"), [
    ({"member_no": "00019900000019"}, 404),  # a well-formed number nobody registered
    ({"phone_index": "ab" * 32}, 404),
    ({}, 422),
    ({"member_no": "00010100000016", "phone_index": "ab" * 32}, 422),
    ({"member_no": "13812345678"}, 422),  # a phone: the till sends its blind index
    ({"member_no": "hello"}, 422),
    ({"member_no": "PM9:x"}, 422),
    ({"member_no": "1" * 65}, 422),
    ({"phone_index": "AB" * 32}, 422),
    ({"phone_index": "ab"}, 422),
])
def test_bad_or_unknown_keys_are_clear_refusals(server: LiveServer, params: dict[str, str],
                                                status: int) -> None:
    till = server.enrol()
    answer = server.http.get(LOOKUP, params=params, headers=till.headers)
    assert answer.status_code == status, answer.text
    assert answer.json()["code"] == ("not_found" if status == 404 else "bad_request")


def test_the_lookup_needs_a_device_token(server: LiveServer) -> None:
    assert server.http.get(LOOKUP, params={"member_no": "00010100000016"}).status_code == 401
    answer = server.http.get(LOOKUP, params={"member_no": "00010100000016"},
                             headers={"Authorization": "Bearer nope"})
    assert answer.status_code == 401


def _projections(url: str) -> dict[str, list[tuple[Any, ...]]]:
    db = open_server_database(url)
    try:
        with db.read() as conn:
            return {
                "points": [tuple(r) for r in conn.execute(
                    select(MemberPoints.member_id, MemberPoints.points)
                    .where(MemberPoints.points != 0)  # no row and 0 mean the same
                    .order_by(MemberPoints.member_id))],
                "keyed": [tuple(r) for r in conn.execute(
                    select(PointsKeyedEntry.entry_id, PointsKeyedEntry.member_id,
                           PointsKeyedEntry.kind, PointsKeyedEntry.points)
                    .order_by(PointsKeyedEntry.entry_id))],
                "cards": [(r.member_id, r.member_no, r.store_id, r.status, r.tier, r.tier_hlc,
                           r.profile, r.profile_hlc) for r in conn.execute(
                    select(MemberCardRow).order_by(MemberCardRow.member_id))],
            }
    finally:
        db.dispose()


def test_migration_0008_fills_points_and_cards_from_the_stored_events(
        server: LiveServer) -> None:
    """Events stored by real pushes; the schema taken back to 0007 (the new tables gone);
    the upgrade's backfill gives what ingest gave."""
    test_a_merged_number_scans_to_the_winner_with_its_points_and_no_second_welcome(server)
    test_an_expiry_two_tills_post_counts_once(server)
    test_another_store_sees_the_card_masked_and_the_chain_wide_balances(server)
    by_ingest = _projections(server.url)
    assert len(by_ingest["cards"]) == 4 and len(by_ingest["points"]) == 2
    upgrade_from(server.url, "0007")
    assert _projections(server.url) == by_ingest
