"""Applying pulled pages: two tills sharing the chain's data key, no server needed.

Till A's real events are turned into wire dicts (as pushed) and applied to till B, and the other
way round; server events (merges, rules) are built by ``server_event``.
"""

from __future__ import annotations

import base64
import json
import shutil
import sqlite3
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from pos_member.bootstrap import bootstrap
from pos_member.clock import FakeClock, to_ms
from pos_member.crypto import MemoryKeyStore, PiiCipher
from pos_member.db.models import DeviceCounter, Staff
from pos_member.errors import EditedAheadElsewhere, MemberNotFound
from pos_member.rules_config import default_rules_path
from pos_member.services.field_versions import open_value
from pos_member.services.member_cards import Gender, find_member, reveal_personal_data
from pos_member.services.members import update_profile
from pos_member.services.members_sync import MERGED
from pos_member.services.outbox import sync_cursor
from pos_member.services.pulled_events import MAX_DRIFT_MS, apply_page
from pos_member.services.rules_sync import RULES_PUBLISHED
from pos_member.services.staff import _hasher
from tests.factories import (
    Till,
    as_changes,
    make_till,
    new_data_key,
    new_phone,
    server_event,
    wire_events,
)
from tests.factories import apply_pulled as apply


def merge_event(winner: Any, loser: Any) -> dict[str, Any]:
    return server_event(MERGED, {
        "winner_member_id": winner.id, "loser_member_id": loser.id,
        "winner_member_no": winner.member_no, "loser_member_no": loser.member_no})


# --- registrations -------------------------------------------------------------------------


def test_a_member_registered_at_the_stores_other_till_scans_here(a: Till, b: Till) -> None:
    card = a.register(name="王小明")
    apply(b, wire_events(a))
    found = find_member(b.uow, clerk=b.cashier, code=card.member_no)
    assert (found.id, found.name_masked, found.phone_masked) == (card.id, "王*明",
                                                                   card.phone_masked)
    assert not found.remote


def test_a_member_registered_at_another_store_scans_from_the_directory(
        a: Till, other: Till) -> None:
    card = a.register(name="王小明")
    apply(other, wire_events(a))
    found = find_member(other.uow, clerk=other.cashier, code=card.member_no)
    assert (found.id, found.name_masked, found.remote) == (card.id, None, True)


def test_a_member_of_the_store_is_found_by_phone_with_the_chain_key(a: Till, b: Till) -> None:
    phone = new_phone()
    card = a.register(phone)
    apply(b, wire_events(a))
    assert find_member(b.uow, clerk=b.cashier, code=phone).id == card.id
    assert reveal_personal_data(b.uow, clerk=b.manager, member_id=card.id).phone == phone


def test_the_other_store_appears_under_its_number_until_the_server_names_it(
    a: Till, other: Till,
) -> None:
    card = a.register()
    apply(other, wire_events(a))
    assert find_member(other.uow, clerk=other.cashier, code=card.member_no).store_name == "#0001"


def test_the_recruiting_guide_is_kept_by_id(a: Till, b: Till) -> None:
    card = a.register(channel="guide", guide_id=a.guide.staff_id)
    apply(b, wire_events(a))
    with b.uow.read() as s:
        from pos_member.db.models import Member
        assert s.get(Member, card.id).guide_id == a.guide.staff_id  # type: ignore[union-attr]


def test_applying_a_page_twice_changes_nothing(a: Till, b: Till) -> None:
    a.register()
    apply(b, wire_events(a))
    before = b.table_counts()
    apply(b, wire_events(a))
    assert b.table_counts() == before


def test_applying_writes_no_events_so_nothing_echoes_back(a: Till, b: Till) -> None:
    a.register()
    events_before = b.table_counts()["events"]
    apply(b, wire_events(a))
    assert b.table_counts()["events"] == events_before


def test_own_events_coming_back_are_skipped(a: Till) -> None:
    a.register()
    before = a.table_counts()
    apply(a, wire_events(a))
    after = a.table_counts()
    changed = {t: n - before[t] for t, n in after.items() if n != before[t]}
    assert changed == {"settings": 1}  # the cursor


def test_the_cursor_moves_with_the_page_and_never_back(a: Till, b: Till) -> None:
    a.register()
    assert b.app.identity is not None
    apply_page(b.uow, device_id=b.app.identity.device_id, changes=[], cursor=40)
    apply_page(b.uow, device_id=b.app.identity.device_id, changes=[], cursor=12)
    assert sync_cursor(b.uow) == 40


def test_unknown_event_types_are_held_not_kept_as_applied(b: Till) -> None:
    """Issue 13: recorded as applied, they were lost for good (tests/core/test_quarantine.py)."""
    before = b.table_counts()
    apply(b, [server_event("coupon.issued_in_2030", {"whatever": 1})])
    after = b.table_counts()
    assert after["applied_events"] == before["applied_events"]
    assert after["quarantined_events"] == before["quarantined_events"] + 1
    assert after["members"] == before["members"]


def test_a_local_edit_after_a_pull_sorts_after_the_pulled_events(a: Till, b: Till) -> None:
    card = a.register()
    a.clock.advance(minutes=4)  # A's clock runs ahead of B's, within the allowed drift
    update_profile(a.uow, clerk=a.manager, member_id=card.id, name="甲")
    apply(b, wire_events(a))
    update_profile(b.uow, clerk=b.manager, member_id=card.id, name="乙")
    apply(a, wire_events(b))
    assert find_member(a.uow, clerk=a.cashier, code=card.member_no).name_masked == "乙"


def test_a_clock_far_ahead_does_not_drag_the_pulling_tills_clock(a: Till, b: Till) -> None:
    """A till more than MAX_DRIFT_MS ahead (the server flags it: clock_ahead) is applied but
    not folded into the puller's clock; its edits win until its clock is put right, and an edit
here that would lose to one is refused rather than shown here and lost elsewhere."""
    card = a.register()
    a.clock.advance(days=1)
    update_profile(a.uow, clerk=a.manager, member_id=card.id, name="甲")
    apply(b, wire_events(a))
    with pytest.raises(EditedAheadElsewhere):  # it would sort before A's and lose everywhere
        update_profile(b.uow, clerk=b.manager, member_id=card.id, name="乙")
    update_profile(b.uow, clerk=b.manager, member_id=card.id, gender=Gender.MALE)
    with b.uow.read() as s:
        wall = s.scalar(select(DeviceCounter.hlc_wall_ms).where(
            DeviceCounter.device_id == b.app.identity.device_id))  # type: ignore[union-attr]
    assert wall <= to_ms(b.clock.now()) + MAX_DRIFT_MS
    apply(a, wire_events(b))
    for till in (a, b):
        assert find_member(till.uow, clerk=till.cashier, code=card.member_no).name_masked == "甲"


# --- profile edits: last writer wins per field --------------------------------------------


def edits_on_both(a: Till, b: Till) -> tuple[Any, list[dict[str, Any]], list[dict[str, Any]]]:
    """A member of A edited at A (earlier) and at B (later), before either pulls the edit."""
    card = a.register(name="原名")
    apply(b, wire_events(a))
    mark = len(wire_events(a))
    update_profile(a.uow, clerk=a.manager, member_id=card.id, name="甲", gender="F")
    b.clock.advance(minutes=5)
    update_profile(b.uow, clerk=b.manager, member_id=card.id, name="乙")
    return card, wire_events(a)[mark:], [e for e in wire_events(b)
                                         if e["type"] == "member.profile_updated"]


def test_the_later_edit_of_a_field_wins_on_both_tills(a: Till, b: Till) -> None:
    card, from_a, from_b = edits_on_both(a, b)
    apply(b, from_a)
    apply(a, from_b, first=100)
    assert find_member(a.uow, clerk=a.cashier, code=card.member_no).name_masked == "乙"
    assert find_member(b.uow, clerk=b.cashier, code=card.member_no).name_masked == "乙"


def test_fields_the_later_edit_did_not_touch_keep_the_earlier_edit(a: Till, b: Till) -> None:
    card, from_a, _ = edits_on_both(a, b)
    apply(b, from_a)
    assert find_member(b.uow, clerk=b.cashier, code=card.member_no).gender == "F"


def test_an_earlier_edit_arriving_late_loses(tmp_path: Path, a: Till, b: Till, key: str) -> None:
    card, from_a, from_b = edits_on_both(a, b)
    c = make_till(tmp_path, store_number=1, device_number=3, data_key=key,
                  store_id=a.app.identity.store_id)  # type: ignore[union-attr]
    registration = wire_events(a)[: len(wire_events(a)) - len(from_a)]
    apply(c, registration)
    apply(c, from_b, first=100)
    apply(c, from_a, first=200)
    assert find_member(c.uow, clerk=c.cashier, code=card.member_no).name_masked == "乙"


def test_an_edit_pulled_before_its_registration_is_kept(
    tmp_path: Path, a: Till, b: Till, key: str,
) -> None:
    card, _, from_b = edits_on_both(a, b)
    c = make_till(tmp_path, store_number=1, device_number=3, data_key=key,
                  store_id=a.app.identity.store_id)  # type: ignore[union-attr]
    apply(c, from_b, first=100)
    apply(c, [e for e in wire_events(a) if e["type"] == "member.registered"])
    assert find_member(c.uow, clerk=c.cashier, code=card.member_no).name_masked == "乙"


# --- duplicate phones merged by the server -----------------------------------------------


def same_phone_at_both(a: Till, b: Till) -> tuple[str, Any, Any]:
    phone = new_phone()
    winner = a.register(phone)  # earlier
    loser = b.register(phone)  # B's clock is a minute later
    return phone, winner, loser


@pytest.mark.parametrize("merge_first", [False, True])
def test_both_numbers_scan_to_the_winner_after_a_merge(
    a: Till, b: Till, merge_first: bool,
) -> None:
    phone, winner, loser = same_phone_at_both(a, b)
    merge = merge_event(winner, loser)
    for till, other in ((a, b), (b, a)):
        pages = [wire_events(other), [merge]]
        for page in reversed(pages) if merge_first else pages:
            apply(till, page, first=1 if page is pages[0] else 500)
        for code in (winner.member_no, loser.member_no, phone):
            assert find_member(till.uow, clerk=till.cashier, code=code).id == winner.id


def test_a_duplicate_phone_waits_for_the_merge_and_keeps_the_local_member(
    a: Till, b: Till,
) -> None:
    phone, _, loser = same_phone_at_both(a, b)
    apply(b, wire_events(a))
    assert find_member(b.uow, clerk=b.cashier, code=phone).id == loser.id


def test_a_merged_number_whose_winner_is_not_pulled_yet_is_not_found(a: Till, b: Till) -> None:
    _, winner, loser = same_phone_at_both(a, b)
    apply(b, [merge_event(winner, loser)])
    with pytest.raises(MemberNotFound):
        find_member(b.uow, clerk=b.cashier, code=loser.member_no)


# --- rules --------------------------------------------------------------------------------


def rules_source(version: str) -> str:
    text = default_rules_path().read_text(encoding="utf-8")
    return text.replace('version = "2026.1"', f'version = "{version}"', 1)


def test_a_published_rules_version_is_in_force_from_the_next_start(b: Till) -> None:
    apply(b, [server_event(RULES_PUBLISHED, {"version": "2026.7",
                                             "source": rules_source("2026.7")})])
    b.app.close()
    again = bootstrap(b.path, keystore=b.keystore, clock=b.clock)
    try:
        assert again.uow.rules.version == "2026.7"
    finally:
        again.close()


def test_the_newest_published_version_wins_whatever_order_they_arrive_in(b: Till) -> None:
    old = server_event(RULES_PUBLISHED, {"version": "2026.2", "source": rules_source("2026.2")})
    new = server_event(RULES_PUBLISHED, {"version": "2026.3", "source": rules_source("2026.3")})
    apply(b, [new], first=20)
    apply(b, [old], first=10)
    b.app.close()
    again = bootstrap(b.path, keystore=b.keystore, clock=b.clock)
    try:
        assert again.uow.rules.version == "2026.3"
    finally:
        again.close()


def test_an_invalid_published_rules_version_is_ignored(b: Till) -> None:
    before = b.table_counts()["rules_versions"]
    apply(b, [server_event(RULES_PUBLISHED, {"version": "bad", "source": "version = 3"})])
    assert b.table_counts()["rules_versions"] == before


# --- any order, any repetition: the same end state ---------------------------------------

STATE_QUERIES = {
    "members": "SELECT * FROM members ORDER BY id",
    "aliases": "SELECT * FROM member_aliases ORDER BY member_no",
    "fields": "SELECT * FROM member_field_hlc ORDER BY member_id, field",
    "stores": "SELECT * FROM stores ORDER BY id",
    "devices": "SELECT * FROM devices ORDER BY id",
    "rules": "SELECT * FROM rules_versions ORDER BY version",
    "applied": "SELECT id FROM applied_events ORDER BY id",
    "settings": "SELECT * FROM settings WHERE key IN ('sync_cursor', 'rules_pulled')",
    "merged": "SELECT member_no FROM members WHERE status = 'merged'",
    "field_values": "SELECT member_id, field, value FROM member_field_hlc",
}


State = dict[str, list[tuple[Any, ...]]]


def state(path: Path) -> State:
    con = sqlite3.connect(path)
    try:
        return {k: con.execute(q).fetchall() for k, q in STATE_QUERIES.items()}
    finally:
        con.close()


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    """Pages a third till of the store could pull: two tills' registrations (one phone at
    both), edits of one member at both, a merge, two rules versions, an unknown event type;
    and a pristine copy of that third till's database. (A till of another store would hold
    these members in its directory only: test_member_directory.py.)"""
    tmp = tmp_path_factory.mktemp("scenario")
    key = new_data_key()
    a = make_till(tmp, store_number=1, data_key=key)
    store_id = a.app.identity.store_id  # type: ignore[union-attr]
    b = make_till(tmp, clock=FakeClock(a.clock.now()), store_number=1, device_number=2,
                  data_key=key, store_id=store_id)
    b.clock.advance(minutes=1)
    phone = new_phone()
    winner, _ = a.register(phone), a.register(name="张三")
    loser, shared = b.register(phone), b.register(name="李四")
    apply(a, wire_events(b))
    update_profile(a.uow, clerk=a.manager, member_id=shared.id, name="甲", tags=("vip",))
    b.clock.advance(minutes=2)
    update_profile(b.uow, clerk=b.manager, member_id=shared.id, name="乙")
    later_edit = [e for e in wire_events(b) if e["type"] == "member.profile_updated"][-1]
    events = wire_events(a) + wire_events(b) + [
        merge_event(winner, loser),
        server_event(RULES_PUBLISHED, {"version": "2026.5", "source": rules_source("2026.5")}),
        server_event(RULES_PUBLISHED, {"version": "2026.6", "source": rules_source("2026.6")}),
        server_event("loyalty.something_new", {"x": 1}),
    ]
    changes = as_changes(events)
    pages = [changes[i:i + 7] for i in range(0, len(changes), 7)]
    c = make_till(tmp, store_number=1, device_number=3, data_key=key, store_id=store_id)
    c.app.close()
    # Last writer per field: the name from B's later edit, the tags from A's earlier one.
    winners = {"name_enc": later_edit["payload"]["fields"]["name_enc"], "tags": ["vip"]}
    return Scenario(pages, c.path, key, shared.id, winners)


@dataclass(frozen=True)
class Scenario:
    pages: list[list[dict[str, Any]]]
    pristine: Path  # the third till before it pulled anything
    key: str
    edited_member: str
    winners: dict[str, Any]  # field → the value that must win


def apply_pages_to_copy(sc: Scenario, order: list[int], work: Path) -> State:
    """Applies ``sc.pages`` in ``order`` to a fresh copy of the third till; its end state."""
    path = work / "c.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    shutil.copy(sc.pristine, path)
    con = sqlite3.connect(path)
    try:
        (key_id,) = con.execute("SELECT value FROM settings WHERE key='data_key_id'").fetchone()
    finally:
        con.close()
    keystore = MemoryKeyStore()
    keystore.put(f"data-key:{key_id}", sc.key)
    app = bootstrap(path, keystore=keystore, clock=FakeClock())
    try:
        assert app.identity is not None
        for i in order:
            page = sc.pages[i]
            apply_page(app.uow, device_id=app.identity.device_id, changes=page,
                       cursor=page[-1]["position"])
    finally:
        app.close()
    return state(path)


@settings(max_examples=18, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_order_and_repetition_of_pages_ends_in_the_same_state(
    scenario: Scenario, tmp_path: Path, data: st.DataObject,
) -> None:
    in_order = list(range(len(scenario.pages)))
    shuffled = data.draw(st.permutations(in_order))
    repeats = data.draw(st.lists(st.sampled_from(in_order), max_size=4))
    order = list(shuffled)
    for r in repeats:
        order.insert(data.draw(st.integers(0, len(order))), r)
    expected = apply_pages_to_copy(scenario, in_order, tmp_path)
    assert apply_pages_to_copy(scenario, order, tmp_path) == expected


def test_the_scenario_ends_with_the_duplicate_merged_and_the_newest_rules(
    scenario: Scenario, tmp_path: Path,
) -> None:
    """Guards the property above: the pages really hold a merge and rules versions."""
    final = apply_pages_to_copy(scenario, list(range(len(scenario.pages))), tmp_path)
    assert len(final["merged"]) == 1
    assert len(final["members"]) == 4
    assert ("rules_pulled", "2026.6") in final["settings"]
    cipher = PiiCipher(base64.b64decode(scenario.key))  # tags are kept sealed (issue 20)
    values = {f: open_value(cipher, f, json.loads(v)) for m, f, v in final["field_values"]
              if m == scenario.edited_member}
    assert {f: values[f] for f in scenario.winners} == scenario.winners


def test_an_unreadable_event_is_held_and_the_page_still_applies(a: Till, b: Till) -> None:
    """Issue 13: the unreadable event is held (not recorded as applied); the rest applies."""
    card = a.register()
    good = wire_events(a)
    registration = next(e for e in good if e["type"] == "member.registered")
    broken = {**registration, "id": "0199aaaa-0000-7000-8000-000000000000",
              "entity_id": "another-member",
              "payload": {**registration["payload"], "member_id": "another-member",
                          "registered_at": "yesterday"}}
    before = b.table_counts()
    apply(b, [broken, *good])
    after = b.table_counts()
    assert find_member(b.uow, clerk=b.cashier, code=card.member_no).id == card.id
    assert after["members"] == before["members"] + 1
    assert after["applied_events"] == before["applied_events"] + len(good)
    assert after["quarantined_events"] == before["quarantined_events"] + 1


def hash_secret(secret: str) -> str:
    return _hasher.hash(secret)


# --- staff of this store ---------------------------------------------------------------------


def staff_event(till: Till, type: str, payload: dict[str, Any], *, store_id: str | None = None,
                ) -> dict[str, Any]:
    """A staff event from another till (device) of ``till``'s store, in the wire shape."""
    assert till.app.identity is not None
    return {**server_event(type, payload), "store_id": store_id or till.app.identity.store_id,
            "device_id": "another-till-of-the-store"}


def staff_rows(till: Till) -> list[tuple[str, Any]]:
    with till.uow.read() as s:
        return list(s.execute(select(Staff.code, Staff.locked_until).order_by(Staff.code)))


def test_staff_of_this_store_are_added_with_their_hash_and_locks_keep_the_later(
    b: Till,
) -> None:
    before = staff_rows(b)
    created = staff_event(b, "staff.created", {
        "id": "s-1", "code": "4711", "name": "Lee", "role": "cashier",
        "store_id": b.app.identity.store_id,  # type: ignore[union-attr]
        "secret_hash": hash_secret("lee-password")})
    later = "2026-01-05T12:30:00+00:00"
    apply(b, [created,
              staff_event(b, "staff.locked", {"staff_id": "s-1", "locked_until": later}),
              staff_event(b, "staff.locked", {"staff_id": "s-1",
                                              "locked_until": "2026-01-05T12:10:00+00:00"})])
    rows = dict(staff_rows(b))
    assert len(rows) == len(before) + 1
    assert rows["4711"] == datetime.fromisoformat(later)
    apply(b, [created], first=10)  # again: nothing doubled
    assert len(staff_rows(b)) == len(before) + 1


def test_other_stores_staff_and_events_without_a_hash_are_not_applied(b: Till) -> None:
    before = b.table_counts()
    apply(b, [
        staff_event(b, "staff.created", {"id": "s-2", "code": "4712", "name": "Ma",
                                         "role": "cashier", "secret_hash": hash_secret("x" * 8)},
                    store_id="another-store"),
        staff_event(b, "staff.created", {"id": "s-3", "code": "4713", "name": "Ng",
                                         "role": "cashier"}),  # an older till's public view
        staff_event(b, "staff.locked", {"staff_id": "nobody",
                                        "locked_until": "2026-01-05T12:10:00+00:00"}),
    ])
    after = b.table_counts()
    assert after["staff"] == before["staff"]
    assert after["applied_events"] == before["applied_events"] + 3


# --- a new till of the store catching up with its history ----------------------------------

LEDGERS = ("members", "sales", "sale_points", "points_entries", "points_lots",
           "points_accounts", "sv_accounts", "sv_ledger", "sv_credentials", "coupons",
           "coupon_entries", "member_rfm", "member_ledger_sums")
# What only the till that did it keeps (no event carries it): a sale's full points record, the
# last TOTP step a payment took there.
LOCAL_ONLY = {"sale_points": ("detail",), "sv_credentials": ("totp_last_step",)}


def test_a_new_till_of_the_store_pulling_its_history_holds_the_ledgers_that_wrote_it(
        a: Till, b: Till) -> None:
    """Every kind of entry (registration with welcome points and coupons, a top-up, a sale
    redeeming points, a payment, a refund, repeat sales) applied as pulled, each statement of
    the apply path run once at least: the same rows as at the till that recorded them."""
    from pos_member.services import stored_value
    from pos_member.services.member_auth import provision_totp, totp_at
    from pos_member.services.sale_refunds import refund_sale
    from pos_member.services.sales import record_sale

    clerk = a.manager

    def sale(member_id: str, fen: int, redeem: int = 0) -> str:
        bill_no = f"F{uuid.uuid4().hex[:16]}"
        record_sale(a.uow, clerk, txn_id=str(uuid.uuid4()), bill_no=bill_no, amount_fen=fen,
                    member_id=member_id, redeem_points=redeem)
        return bill_no

    for _ in range(2):
        member_id = a.register(clerk=clerk).id  # welcome points and coupons
        secret = provision_totp(a.uow, clerk=clerk, approver=clerk, member_id=member_id).secret
        stored_value.top_up(a.uow, clerk=clerk, member_id=member_id, amount_fen=10_000,
                            method="cash", txn_id=str(uuid.uuid4()))
        sale(member_id, 12_000, redeem=100)
        a.clock.advance(seconds=30)
        stored_value.pay(a.uow, clerk=clerk, member_id=member_id, amount_fen=3_000,
                         txn_id=str(uuid.uuid4()), online=False, factor=stored_value.TotpFactor(
                             totp_at(secret, int(a.clock.now().timestamp()))))
        refund_sale(a.uow, clerk, approver=clerk, txn_id=str(uuid.uuid4()),
                    bill_no=sale(member_id, 6_000), amount_fen=3_000)
        sale(member_id, 4_500, redeem=50)
    apply(b, wire_events(a))

    def rows(till: Till, table: str) -> list[tuple[Any, ...]]:
        con = sqlite3.connect(till.path)
        try:
            names = [r[1] for r in con.execute(f"PRAGMA table_info({table})")
                     if r[1] not in LOCAL_ONLY.get(table, ())]
            return sorted(con.execute(f"SELECT {', '.join(names)} FROM {table}").fetchall(),
                          key=repr)
        finally:
            con.close()

    differ = [t for t in LEDGERS if rows(b, t) != rows(a, t)]
    assert differ == []
