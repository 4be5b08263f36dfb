"""Filtered pulls (protocol v2, ``GET /v2/pull``): a till pulls its own store's events, the
server's, the chain's member directory and other stores' events about its members; the whole
log stays on ``/v1/pull`` for tills not yet upgraded; a database of the previous schema gets
the same routes from its stored events."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from sync.protocol import API, API_V2, WireEvent
from sync.server.models import EventRoute, MemberHome
from sync.server.routes import decode_payload, keys_of, member_keys
from tests.server.factories import Device, LiveServer
from tests.server.migrating import upgrade_from

PREVIOUS = "0008"


def _registration(till: Device, *, phone: str | None = None, hlc: str | None = None
                  ) -> tuple[str, WireEvent]:
    member_id = str(uuid.uuid4())
    number = f"{till.enrolment.store_number:04d}{till.enrolment.device_number:02d}" \
             f"{till.next_seq:08d}"
    return member_id, till.event(type="member.registered", hlc=hlc, payload=till.registered({
        "member_id": member_id, "member_no": number, "store_id": till.store_id,
        "phone_index": phone or uuid.uuid4().hex}))


def _sale(till: Device, member_id: str | None, *, referrer: str | None = None) -> WireEvent:
    sale_id = str(uuid.uuid4())
    entries = [{"member_id": referrer, "points": 5}] if referrer else []
    return till.event(type="sale.recorded", payload={
        "sale": {"id": sale_id, "member_id": member_id}, "member_id": member_id,
        "txn_id": sale_id, "entries": entries})


def _ids(changes: list[Any]) -> list[str]:
    return [c.event.id for c in changes]


def _chain(server: LiveServer) -> dict[str, Any]:
    """Stores 1, 2 and 3: a member of each of 1 and 2, sales at both stores about both, a
    referral naming store 3's member, staff events, a merge of one phone registered at 1
    and 2 (the server's event)."""
    a, b, c = server.enrol(1), server.enrol(2), server.enrol(3)
    m_a, reg_a = _registration(a, phone="phone-shared")
    m_b, reg_b = _registration(b)
    m_c, reg_c = _registration(c)
    a.push([reg_a]), b.push([reg_b]), c.push([reg_c])
    ev: dict[str, Any] = {"tills": (a, b, c), "members": (m_a, m_b, m_c)}
    ev["a_about_a"], ev["a_about_b"], ev["a_walk_in"] = _sale(a, m_a), _sale(a, m_b), _sale(a, None)
    ev["a_staff"] = a.event(type="staff.created", payload={
        "id": str(uuid.uuid4()), "code": "001", "name": "x", "role": "cashier"})
    a.push([ev["a_about_a"], ev["a_about_b"], ev["a_walk_in"], ev["a_staff"]])
    ev["b_about_a"], ev["b_walk_in"] = _sale(b, m_a, referrer=m_c), _sale(b, None)
    ev["b_tier_of_a"] = b.event(type="member.tier_changed", payload={
        "member_id": m_a, "to": "gold", "reason": "spend", "at": "2026-01-05T09:00:00+00:00"})
    b.push([ev["b_about_a"], ev["b_walk_in"], ev["b_tier_of_a"]])
    _, dup = _registration(b, phone="phone-shared")  # loses to store 1's: a merge
    b.push([dup])
    ev["regs"], ev["dup"] = (reg_a, reg_b, reg_c), dup
    return ev


def test_each_store_pulls_its_own_the_directory_and_its_members_events(
        server: LiveServer) -> None:
    ev = _chain(server)
    a, b, c = ev["tills"]
    directory = {e.id for e in ev["regs"]} | {ev["dup"].id, ev["b_tier_of_a"].id}
    pulled = {t.store_id: server.enrol(t.enrolment.store_number).pull_all(api=API_V2)
              for t in (a, b, c)}
    a, b, c = a.store_id, b.store_id, c.store_id
    merges = [ch for ch in pulled[a] if ch.event.type == "member.merged"]
    assert len(merges) == 1 and merges[0].event.store_id == "hq"
    for t in (a, b, c):
        assert directory <= set(_ids(pulled[t]))
        assert merges[0].event.id in _ids(pulled[t])
    own_a = {ev[k].id for k in ("a_about_a", "a_about_b", "a_walk_in", "a_staff")}
    own_b = {ev[k].id for k in ("b_about_a", "b_walk_in")}
    # store 1: its own, and store 2's sale about its member (not store 2's walk-in)
    assert set(_ids(pulled[a])) == directory | own_a | {ev["b_about_a"].id, merges[0].event.id}
    # store 2: its own, store 1's sale about its member; not store 1's staff or walk-in
    assert set(_ids(pulled[b])) == directory | own_b | {ev["a_about_b"].id, merges[0].event.id}
    # store 3: the directory, and the referral that names its member
    assert set(_ids(pulled[c])) == directory | {ev["b_about_a"].id, merges[0].event.id}
    positions = [ch.position for ch in pulled[b]]
    assert positions == sorted(set(positions))  # in global order, once each


def test_pages_of_one_pull_the_same_filtered_log_exactly_once(server: LiveServer) -> None:
    ev = _chain(server)
    reader = server.enrol(2)
    whole = reader.pull_all(api=API_V2)
    paged = reader.pull_all(limit=1, api=API_V2)
    assert _ids(paged) == _ids(whole)
    # A till switching from v1 to v2 at its cursor misses nothing after it.
    full = reader.pull_all(api=API)
    cut = full[len(full) // 2].position
    assert _ids(reader.pull_all(cut, api=API_V2)) == [c.event.id for c in whole
                                                        if c.position > cut]
    assert ev["a_staff"].id not in _ids(full)


def test_an_old_protocol_till_still_pulls_the_whole_chain(server: LiveServer) -> None:
    ev = _chain(server)
    old = server.enrol(2).pull_all(api=API)
    everything = {e.id for e in server.events_table() if not (
        e.type.startswith("staff.") and e.store_id != ev["tills"][1].store_id)}
    assert set(_ids(old)) == everything
    assert ev["a_walk_in"].id in _ids(old)


def test_an_older_database_gets_the_routes_ingest_would_have_written(
        server: LiveServer) -> None:
    _chain(server)
    readers = [server.enrol(n) for n in (1, 2, 3)]
    before = [_ids(r.pull_all(api=API_V2)) for r in readers]
    with server.ctx.db.read() as conn:
        routes = sorted(conn.execute(select(EventRoute.store_id, EventRoute.position)).all())
        homes = sorted(conn.execute(select(MemberHome.member_id, MemberHome.store_id)).all())
    upgrade_from(server.url, PREVIOUS)
    with server.ctx.db.read() as conn:
        assert sorted(conn.execute(select(MemberHome.member_id, MemberHome.store_id))
                      .all()) == homes
        assert sorted(conn.execute(select(EventRoute.store_id, EventRoute.position))
                      .all()) == routes
    assert [_ids(r.pull_all(api=API_V2)) for r in readers] == before


def test_a_flat_payloads_members_are_read_at_its_top_level_as_the_whole_decode_finds_them(
) -> None:
    """``routes.keys_of``' short ways (no member named but by the entity, or no object or
    array inside the payload) find the keys ``member_keys`` finds in the decoded payload;
    any other payload is decoded whole."""
    payloads = [
        '{"member_id":"m1","points":5}',
        '{"winner_member_id":"w","loser_member_id":"l","member_id":""}',
        '{"member_id":7,"loser_member_id":null}',  # not ids: no key
        '{"member_id":"m1","member_id":"m2"}',  # the last one, as the decoders keep
        '{"note":"a {brace} and [list]","member_id":"m3"}',  # read whole
        '{"sale":{"member_id":"m4"},"lines":[{"member_id":"m5"}],"member_id":"m6"}',
        '{ "member_id" : "m7" }',
        '{"points":5}', '{"member_id":"e1","points":5}', '{"member_id": "e1"}',  # not decoded
        '{"member_id":"e1x"}', '{"note":"member_id","member_id":"e1"}',
        '{"lines":[{"member_id":"e1"}],"loser_member_id":"m8"}',
        '{"member\\u005fid":"m9"}', '{"note":"\\"member_id\\":\\"e1\\"","member_id":"m10"}',
        '{"member_id":"二"}', '{"member_id":"e1","x":"a"}', '{"member_id":"e1\\"","x":"a"}',
        '{"note":"\\"member_id\\":\\"二\\"","member_id":"m11"}',
    ]
    # entity ids: plain, none, not ASCII, one holding a quote (a crafted one that would find
    # itself across two strings of the text: ``"member_id":"e1","x":"a"``)
    for entity_id in ("e1", None, "二", 'e1","x":"a', "e 1"):
        for text in payloads:
            assert set(keys_of(entity_id, text)) \
                == member_keys(entity_id, decode_payload(text)), (entity_id, text)
    assert set(keys_of(None, payloads[0])) == {"m1"}
    assert set(keys_of("e1", '{"member_id":"e1"}')) == {"e1"}
