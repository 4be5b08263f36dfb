"""Pull: pages of the chain's changes after a cursor, every event once, in position order."""

from __future__ import annotations

from sync.server import services
from sync.server.models import SERVER_DEVICE_ID
from tests.server.factories import LiveServer


def test_pages_return_every_event_once_in_position_order(server: LiveServer) -> None:
    a, b = server.enrol(), server.enrol()
    stored = []
    for _ in range(3):
        stored += [s.position for s in a.push(a.events(4)).stored]
        stored += [s.position for s in b.push(b.events(3)).stored]
    seen = []
    cursor, pages = 0, 0
    while True:
        page = a.pull(cursor, limit=5)
        pages += 1
        seen.extend(c.position for c in page.changes)
        assert len(page.changes) <= 5
        cursor = page.cursor
        if not page.more:
            break
    assert seen == stored == sorted(stored)  # gapless 1..21 on SQLite only: not the point
    assert len(set(seen)) == 21
    assert pages == 5


def test_a_page_says_more_only_when_rows_follow(server: LiveServer) -> None:
    till = server.enrol()
    till.push(till.events(4))
    assert till.pull(0, limit=4).more is False
    assert till.pull(0, limit=3).more is True


def test_an_empty_pull_keeps_the_cursor(server: LiveServer) -> None:
    till = server.enrol()
    last = till.push(till.events(2)).stored[-1].position
    page = till.pull(last)
    assert page.changes == [] and page.cursor == last and page.more is False


def test_pull_includes_other_stores_events_as_pushed(server: LiveServer) -> None:
    mine, theirs = server.enrol(), server.enrol()
    sent = theirs.event(payload={"member": "m-1", "points": 120})
    theirs.push([sent])
    [change] = mine.pull().changes
    assert change.event == sent


def test_pulling_a_page_twice_gives_the_same_page(server: LiveServer) -> None:
    till = server.enrol()
    till.push(till.events(3))
    assert till.pull(1, limit=2) == till.pull(1, limit=2)


def test_changes_encoded_before_are_served_as_read_from_the_database(
    server: LiveServer,
) -> None:
    """``pull_json`` keeps each change's JSON by position (a stored row never changes): a
    page partly encoded before, partly new, is the page a process without them answers."""
    from sync.server.pulled_rows import PulledRows

    a, b = server.enrol(), server.enrol()
    a.push(a.events(3))
    identity = services.authenticate(server.ctx, token=b.enrolment.token)
    first = services.pull_json(server.ctx, device=identity, cursor=0, limit=2)
    b.push(b.events(2))
    whole = services.pull_json(server.ctx, device=identity, cursor=0, limit=10)
    assert len(server.ctx.db.pulled) == 5
    object.__setattr__(server.ctx.db, "pulled", PulledRows())  # a process that encoded none
    assert services.pull_json(server.ctx, device=identity, cursor=0, limit=10) == whole
    assert services.pull_json(server.ctx, device=identity, cursor=0, limit=2) == first
    assert b.pull(0) == services.pull(server.ctx, device=identity, cursor=0, limit=1000)
    tiny = PulledRows(max_bytes=6)  # the least recently pulled go first
    tiny.put([(1, b"{1}"), (2, b"{2}")])
    assert tiny.get_many([1, 3]) == [b"{1}", None]
    tiny.put([(3, b"{3}")])
    assert tiny.get_many([1, 2, 3]) == [b"{1}", None, b"{3}"]


def test_held_events_are_not_pulled_until_stored(server: LiveServer) -> None:
    till = server.enrol()
    e1, e2 = till.events(2)
    till.push([e2])
    assert till.pull().changes == []
    till.push([e1])
    assert [c.event.seq for c in till.pull().changes] == [1, 2]


def test_published_rules_reach_every_till_through_pull(server: LiveServer, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from pos_member.rules_config import default_rules_path

    till = server.enrol()
    source = default_rules_path().read_text(encoding="utf-8").replace(
        'version = "2026.1"', 'version = "2026.2"'
    )
    path = tmp_path / "rules.toml"
    path.write_text(source, encoding="utf-8")
    assert services.publish_rules(server.ctx, path=path) == "2026.2"
    [change] = till.pull().changes
    assert change.event.type == "rules.published"
    assert change.event.device_id == SERVER_DEVICE_ID
    assert change.event.rules_version == "2026.2"
    assert change.event.payload["version"] == "2026.2"
    assert change.event.payload["source"] == source


def test_staff_events_stay_within_their_store(server: LiveServer) -> None:
    """Staff events carry argon2 hashes of colleagues' PINs: only their own store pulls them."""
    till_a1, till_a2, other_store = server.enrol(1), server.enrol(1), server.enrol(2)
    staff = till_a1.event(type="staff.created", payload={
        "id": "s-1", "code": "001", "name": "x", "role": "cashier",
        "secret_hash": "$argon2id$..."})
    member = till_a1.event(type="member.registered", payload=till_a1.registered({
        "member_id": "m-1", "member_no": "M000000000001", "phone_index": "a" * 64}))
    till_a1.push([staff, member])
    assert [c.event.type for c in till_a2.pull().changes] == ["staff.created",
                                                               "member.registered"]
    assert [c.event.type for c in other_store.pull().changes] == ["member.registered"]
