"""Pushed payloads are checked against their declarations (``sync.server.payloads``): a push
holding one that is not as declared is refused whole (422 naming the events and fields,
nothing stored) and HQ is told once per till (a ``payload_refused`` flag); older versions,
types or versions this server does not know pass as before."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import select

from sync.protocol import API
from sync.server.models import Flag
from tests.server.factories import Device, LiveServer

TOPUP = {"member_id": "m-1", "txn_id": "t-1", "principal_delta_fen": 10_000,
         "bonus_delta_fen": 1_000}


def _body(till: Device, events: list[Any], payloads: list[str]) -> bytes:
    """The push's JSON with each event's payload written as the raw text given (NaN, 1e400:
    what a JSON library would not write)."""
    wire = [e.model_dump(mode="json") | {"payload": f"@@{i}@@"} for i, e in enumerate(events)]
    text = json.dumps({"device_id": till.id, "events": wire})
    for i, raw in enumerate(payloads):
        text = text.replace(f'"@@{i}@@"', raw)
    return text.encode()


def test_a_payload_not_as_declared_refuses_the_push_and_flags_the_till_once(
        server: LiveServer) -> None:
    till = server.enrol()
    good = till.event(type="sv.topped_up", payload=TOPUP)
    bad = [till.event(type="sv.topped_up", payload=TOPUP) for _ in range(7)]
    raws = [json.dumps(TOPUP),
            '{"member_id": "m-1", "txn_id": "t", "principal_delta_fen": 1e400, '
            '"bonus_delta_fen": 0}',  # infinity to a JSON parser
            '{"member_id": "m-1", "txn_id": "t", "principal_delta_fen": "100", '
            '"bonus_delta_fen": 0}',  # a string for an integer
            '{"member_id": "m-1", "txn_id": "t", "principal_delta_fen": 1.5, '
            '"bonus_delta_fen": 0}',
            '{"member_id": "m-1", "txn_id": "t", "principal_delta_fen": true, '
            '"bonus_delta_fen": 0}',
            '{"member_id": 5, "txn_id": "t", "principal_delta_fen": 1, "bonus_delta_fen": 0}',
            '{"member_id": "m-1", "txn_id": "t", "bonus_delta_fen": 0}',  # a field missing
            '{"member_id": "m-1", "txn_id": "t", "principal_delta_fen": 1180591620717411303424, '
            '"bonus_delta_fen": 0}']  # 2**70: no database integer holds it
    before = server.table_counts()
    for _ in range(2):  # the till retries: refused again, still one flag
        answer = server.http.post(f"{API}/push", content=_body(till, [good, *bad], raws),
                                  headers={**till.headers, "Content-Type": "application/json"})
        assert answer.status_code == 422 and answer.json()["code"] == "bad_request"
        message = answer.json()["message"]
        assert "7 payloads are not as declared" in message and good.id not in message
        assert all(e.id in message for e in bad)
        assert "principal_delta_fen" in message and "member_id" in message
    assert server.table_counts() == {**before, "flags": before["flags"] + 1}  # nothing stored
    with server.ctx.db.read() as conn:
        [detail] = conn.execute(select(Flag.detail).where(Flag.kind == "payload_refused")
                                ).scalars().all()
    assert detail["device_id"] == till.id and detail["count"] == 7
    assert [e["id"] for e in detail["events"]] == [e.id for e in bad]
    assert till.push([good]).acked_through == 1  # the good one alone goes through


def test_older_versions_unknown_types_and_newer_versions_pass_as_before(
        server: LiveServer) -> None:
    till = server.enrol()
    v1 = till.event(type="member.registered", payload=till.registered({  # clear gender (v1)
        "member_id": str(uuid.uuid4()), "member_no": "M000000000001", "phone_index": "a" * 64,
        "gender": "f", "birthday": "1990-01-02"}))
    unknown = till.event(type="test.happened", payload={"n": 1e300})
    newer = till.event(type="sv.topped_up", payload={"whatever": "a newer till wrote"})
    newer = newer.model_copy(update={"payload_version": 2})
    assert till.push([v1, unknown, newer]).acked_through == 3


def test_nan_and_infinity_are_refused_where_any_value_goes_too(server: LiveServer) -> None:
    """They reached the log as null (pydantic reads them; its JSON wrote them as null)."""
    till = server.enrol()
    before = server.table_counts()
    for number in ("NaN", "Infinity", "-Infinity"):
        event = till.event(type="test.happened", payload={"n": 1}, seq=1)
        answer = server.http.post(f"{API}/push", content=_body(till, [event], [
            f'{{"n": {number}}}']), headers={**till.headers, "Content-Type": "application/json"})
        assert answer.status_code == 422, answer.text
        assert "NaN and Infinity are not JSON numbers" in answer.json()["message"]
    assert server.table_counts() == before


def test_a_store_scoped_event_naming_another_store_is_refused_and_nothing_stored(
        server: LiveServer) -> None:
    """A store-1 till cannot set store 2's targets, rosters, splits or staff through a payload
    naming store 2 (docs/rules.md, "Store-scoped events"); a registration naming another home
    store is legitimate and passes."""
    one, two = server.enrol(), server.enrol()
    assert one.store_id != two.store_id
    own = one.event(type="kpi.target_set", payload={
        "store_id": one.store_id, "month": "2026-11", "target": 10})
    forged = [one.event(type=kind, payload=payload | {"store_id": two.store_id}) for kind, payload
              in (("kpi.target_set", {"month": "2026-11", "target": 999}),
                  ("kpi.roster_set", {"days": {"2026-11-02": []}}),
                  ("kpi.split_adjusted", {"day": "2026-11-02", "targets": {}}),
                  ("staff.deactivated", {"staff_id": "s-1"}))]
    before = server.table_counts()
    answer = server.http.post(f"{API}/push", content=_body(
        one, [own, *forged], [json.dumps(e.payload) for e in [own, *forged]]),
        headers={**one.headers, "Content-Type": "application/json"})
    assert answer.status_code == 422, answer.text
    message = answer.json()["message"]
    assert "4 payloads are not as declared" in message and own.id not in message
    assert all(e.id in message and two.store_id in message for e in forged)
    assert server.table_counts() == {**before, "flags": before["flags"] + 1}
    home_elsewhere = one.event(seq=2, type="member.registered", payload=one.registered({
        "member_id": str(uuid.uuid4()), "member_no": "M000000000002", "phone_index": "b" * 64,
        "store_id": two.store_id}))
    assert one.push([own, home_elsewhere]).acked_through == 2


def test_a_number_not_finite_is_refused_in_a_field_the_declaration_does_not_name(
        server: LiveServer) -> None:
    """The typed decode skips an undeclared field unread: the check reads the whole payload
    (docs/rules.md, "Pushed payloads not as their declaration says"); a finite number there,
    in exponent form too, passes."""
    till = server.enrol()
    head = '{"member_id": "m-1", "txn_id": "t", "principal_delta_fen": 1, "bonus_delta_fen": 0'
    raws = [head + ', "extra": 1e400}', head + ', "extra": -1E400}',
            head + ', "extra": {"deep": [0, 1e+309]}}',
            head + ', "extra": 1.' + "0" * 20 + 'e400}',  # a long run of digits too
            head + ', "extra": 9223372036854775808}']  # 2**63
    bad = [till.event(type="sv.topped_up", payload=TOPUP) for _ in raws]
    before = server.table_counts()
    answer = server.http.post(f"{API}/push", content=_body(till, bad, raws),
                              headers={**till.headers, "Content-Type": "application/json"})
    assert answer.status_code == 422, answer.text
    message = answer.json()["message"]
    assert "5 payloads are not as declared" in message and all(e.id in message for e in bad)
    assert server.table_counts() == {**before, "flags": before["flags"] + 1}  # nothing stored
    fine = till.event(type="sv.topped_up", payload=TOPUP)
    answer = server.http.post(f"{API}/push", content=_body(till, [fine], [
        head + ', "extra": [1.5e3, 2E-400, "1e400"]}']),
        headers={**till.headers, "Content-Type": "application/json"})
    assert answer.status_code == 200, answer.text
