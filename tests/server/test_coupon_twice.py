"""HQ's side of "a coupon is used once chain-wide" (issue 18): the first bill to reach HQ
claims the coupon; a second bill is flagged with both bills and blocks the member's coupons
once, until HQ settles it; a refund giving the coupon back frees it; retries count once."""

from __future__ import annotations

import uuid

import pytest

from sync.protocol import WireEvent
from sync.server import services
from sync.server.coupons import settle_coupons
from tests.server.factories import Device, LiveServer

MEMBER = "0190aaaa-0000-7000-8000-000000000002"
CHECK = "/v1/coupons/check"


def used(till: Device, key: str, sale: str, type: str = "coupon.redeemed") -> WireEvent:
    return till.event(type=type, payload={
        "key": key, "member_id": MEMBER, "sale_id": sale, "bill_no": f"B-{sale}",
        "bill_fen": 15_000, "discount_fen": 2_000, "store_id": till.store_id})


def twice(server: LiveServer) -> list[services.FlagView]:
    return [f for f in services.list_flags(server.ctx) if f.kind == "coupon_twice"]


def blocks(till: Device) -> list[WireEvent]:
    return [c.event for c in till.pull_all() if c.event.type == "member.coupons_blocked"]


def test_a_second_bill_is_flagged_with_both_and_blocks_once(server: LiveServer) -> None:
    a, b = server.enrol(), server.enrol()
    first = used(a, "0a0b0c0d0e0f", "s-a")
    a.push([first])
    a.push([first])  # a retried push: still one claim
    assert twice(server) == [] and blocks(a) == []
    b.push([used(b, "0a0b0c0d0e0f", "s-b")])
    [flag] = twice(server)
    assert flag.detail["first"]["sale_id"] == "s-a" and flag.detail["second"]["sale_id"] == "s-b"
    assert flag.store_id == b.store_id
    [blocked] = blocks(a)
    assert blocked.store_id == "hq"
    assert blocked.payload == {"member_id": MEMBER, "flag_id": flag.id, "key": "0a0b0c0d0e0f"}
    settle_coupons(server.ctx, member=MEMBER, note="checked the bills")
    assert [c.event.payload["note"] for c in a.pull_all()
            if c.event.type == "member.coupons_unblocked"] == ["checked the bills"]


def test_a_refund_frees_the_coupon_for_another_bill_and_hq_answers_a_till_s_check(
        server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Also ``GET /v1/coupons/check`` over HTTP (a till asking before it redeems a coupon it
    did not issue): the bill's sale and store while HQ holds one, free once a refund gave the
    coupon back; no token, a malformed key and past the device's limit (shared with the member
    lookups, each audited) are refused."""
    from sqlalchemy import select

    from sync.coupon_check import CouponCheckResponse
    from sync.server import lookup_limits
    from sync.server.models import MemberLookupAudit

    monkeypatch.setattr(lookup_limits, "PER_WINDOW", 4)
    a, b = server.enrol(), server.enrol()
    key = uuid.uuid4().hex[:12]

    def ask() -> CouponCheckResponse:
        got = server.http.get(CHECK, params={"key": key}, headers=b.headers)
        assert got.status_code == 200, got.text
        return CouponCheckResponse.model_validate_json(got.content)

    a.push([used(a, key, "s-1")])
    held = ask()
    assert (held.redeemed, held.sale_id) == (True, "s-1") and held.used_at is not None
    assert held.store_name == f"store {held.store_no}"
    a.push([used(a, key, "s-1", type="coupon.returned")])
    assert not ask().redeemed
    a.push([used(a, key, "s-2")])
    assert twice(server) == []
    a.push([used(a, key, "s-3")])
    assert len(twice(server)) == 1
    assert server.http.get(CHECK, params={"key": key}).status_code == 401
    assert server.http.get(CHECK, params={"key": "CP1:XYZ"}, headers=b.headers
                           ).status_code == 422
    assert server.http.get("/v1/members/lookup", params={"member_no": "00010100000016"},
                           headers=b.headers).status_code == 404
    ask()  # the 4th of the window
    refused = server.http.get(CHECK, params={"key": key}, headers=b.headers)
    assert refused.status_code == 429 and refused.json()["code"] == "lookup_rate_limited"
    with server.ctx.db.read() as conn:
        kinds = conn.execute(select(MemberLookupAudit.kind, MemberLookupAudit.refused)
                             .where(MemberLookupAudit.device_id == b.id)
                             .order_by(MemberLookupAudit.id)).all()
    assert kinds == [("coupon", False)] * 2 + [("no", False), ("coupon", False),
                                               ("coupon", True)]


def test_a_malformed_redemption_is_refused_at_push(server: LiveServer) -> None:
    """It was relayed untouched; the push is refused now (``sync.server.payloads``)."""
    a = server.enrol()
    for _ in range(2):
        bad = a.event(type="coupon.redeemed", payload={"key": 7, "member_id": MEMBER}, seq=1)
        assert a.push_raw([bad]).status_code == 422
    assert twice(server) == []


def test_an_older_database_gets_the_claims_ingest_would_have_made(server: LiveServer) -> None:
    """Migration 0011 on a server of 0010 holding redemptions: the first bill of each coupon
    claims it, a return frees it; a later second bill is flagged."""
    from sqlalchemy import select

    from sync.server.models import CouponUse
    from tests.server.migrating import upgrade_from

    a = server.enrol()
    a.push([used(a, "00000000000a", "s-1"), used(a, "00000000000b", "s-2"),
            used(a, "00000000000b", "s-2", type="coupon.returned")])
    upgrade_from(server.url, "0010")
    with server.ctx.db.read() as conn:
        assert conn.execute(select(CouponUse.key, CouponUse.sale_id)).all() == [
            ("00000000000a", "s-1")]
    a.push([used(a, "00000000000a", "s-9"), used(a, "00000000000b", "s-9")])
    [flag] = twice(server)
    assert flag.detail["first"]["sale_id"] == "s-1"



def issued(till: Device, key: str) -> WireEvent:
    coupon = {"key": key, "member_id": MEMBER, "template": "T50", "name": "满300减50",
              "terms": {"kind": "amount_off", "amount_off_fen": 5_000, "threshold_fen": 30_000},
              "valid_from": "2026-12-01T00:00:00+00:00",
              "valid_until": "2026-12-31T16:00:00+00:00", "source": "manual",
              "trigger_key": f"manual:{key}", "issued_at": "2026-12-01T00:00:00+00:00",
              "store_id": till.store_id, "device_id": till.id}
    return till.event(type="coupon.issued", payload={"member_id": MEMBER, "coupon": coupon})


def ended(till: Device, key: str, type: str) -> WireEvent:
    return till.event(type=type, payload={"key": key, "member_id": MEMBER, "reason": "x"})


def test_hq_describes_a_coupon_to_another_store_and_knows_its_withdrawal(
        server: LiveServer) -> None:
    """``coupon_terms``: the terms go to a till of another store only; a withdrawal at the
    home store is known to every till's check; an expiry does not undo a withdrawal."""
    from sync.coupon_check import CouponCheckResponse

    home, home2, other = server.enrol(1), server.enrol(1), server.enrol()
    key = uuid.uuid4().hex[:12]
    first = issued(home, key)
    home.push([first])
    home.push([issued(home, key)])  # told twice (another event): kept as first told

    def ask(till: Device) -> CouponCheckResponse:
        got = server.http.get(CHECK, params={"key": key, "terms": "true"}, headers=till.headers)
        assert got.status_code == 200, got.text
        return CouponCheckResponse.model_validate_json(got.content)

    older = server.http.get(CHECK, params={"key": key}, headers=other.headers).json()
    assert set(older) == {"key", "redeemed", "sale_id", "store_no", "store_name", "used_at",
                          "as_of"}  # a till from before the terms: what its parser knows
    away = ask(other)
    assert (away.state, away.issued_event_id, away.redeemed) == ("issued", first.id, False)
    assert away.coupon is not None and away.coupon["terms"]["threshold_fen"] == 30_000
    at_home = ask(home2)
    assert (at_home.state, at_home.coupon) == ("issued", None)  # it holds the coupon itself
    home.push([ended(home, key, "coupon.revoked"), ended(home, key, "coupon.expired")])
    assert (ask(other).state, ask(home2).state) == ("revoked", "revoked")
    unknown = server.http.get(CHECK, params={"key": "00000000ffff", "terms": "true"},
                              headers=other.headers)
    assert CouponCheckResponse.model_validate_json(unknown.content).state is None


def test_an_older_database_gets_the_terms_ingest_would_have_kept(server: LiveServer) -> None:
    """Migration 0015 on a server of 0014 holding issued, withdrawn and expired coupons: each
    coupon's first issue kept with its event, the withdrawal outranking a later expiry."""
    from sqlalchemy import select

    from sync.server.models import CouponTerms
    from tests.server.migrating import upgrade_from

    a = server.enrol()
    keys = [uuid.uuid4().hex[:12] for _ in range(3)]
    first = [issued(a, k) for k in keys]
    a.push([*first, issued(a, keys[0]), ended(a, keys[1], "coupon.revoked"),
            ended(a, keys[1], "coupon.expired"), ended(a, keys[2], "coupon.expired"),
            a.event(type="coupon.issued", payload={"member_id": MEMBER, "coupon": {"key": 7}})])
    upgrade_from(server.url, "0014")
    with server.ctx.db.read() as conn:
        got = {r.key: (r.event_id, r.state, r.coupon["name"]) for r in conn.execute(
            select(CouponTerms).where(CouponTerms.key.in_(keys)))}
    assert got == {keys[0]: (first[0].id, "issued", "满300减50"),
                   keys[1]: (first[1].id, "revoked", "满300减50"),
                   keys[2]: (first[2].id, "expired", "满300减50")}
    a.push([ended(a, keys[0], "coupon.revoked")])  # ingest goes on from there
    with server.ctx.db.read() as conn:
        assert conn.scalar(select(CouponTerms.state).where(CouponTerms.key == keys[0])) \
            == "revoked"


def test_a_push_takes_its_locks_in_the_documented_order(
        server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """``locks``: the server's seq (5) before members' cards (6). One push whose second bill of
    a coupon appends ``member.coupons_blocked`` (the seq) and whose tier change locks the
    member's card: the statements it runs take the seq's lock first (recorded, PostgreSQL;
    SQLite has no key locks)."""
    import json

    from sync.server import locks
    from sync.server.locks import SERVER_SEQ, card_key

    if not server.ctx.db.is_postgres:
        pytest.skip("key locks are PostgreSQL's")
    a, b = server.enrol(), server.enrol()
    a.push([used(a, "0a0b0c0d0e1f", "s-a")])
    keys: list[list[str]] = []
    run = locks._LOCK_KEYS.rows

    def keep(conn, params):  # type: ignore[no-untyped-def]
        keys.append(json.loads(params["keys"]))  # each statement locks.lock_keys runs
        return run(conn, params)

    monkeypatch.setattr(locks._LOCK_KEYS, "rows", keep)
    b.push([used(b, "0a0b0c0d0e1f", "s-b"), b.event(type="member.tier_changed", payload={
        "member_id": MEMBER, "from": "regular", "to": "gold", "reason": "spend",
        "at": "2026-01-05T09:00:00+00:00"})])
    monkeypatch.undo()
    assert len(twice(server)) == 1
    order = [k for ks in keys for k in ks if k in (SERVER_SEQ, card_key(MEMBER))]
    assert order == [SERVER_SEQ, card_key(MEMBER)]


def test_another_store_s_return_naming_the_bill_frees_nothing(server: LiveServer) -> None:
    """A bill is refunded at its own store (the till finds it by the store's bill number): a
    ``coupon.returned`` from another store's till naming that bill (its sale id is in HQ's
    check answer) does not free the coupon at HQ, and a second bill is still flagged."""
    a, b = server.enrol(), server.enrol()
    key = uuid.uuid4().hex[:12]
    a.push([used(a, key, "s-a")])
    b.push([used(b, key, "s-a", type="coupon.returned")])
    got = server.http.get(CHECK, params={"key": key}, headers=b.headers)
    assert got.json()["redeemed"] is True and got.json()["sale_id"] == "s-a"
    b.push([used(b, key, "s-b")])
    [flag] = twice(server)
    assert flag.detail["second"]["sale_id"] == "s-b"


def withdrawn_used(server: LiveServer) -> list[services.FlagView]:
    return [f for f in services.list_flags(server.ctx) if f.kind == "coupon_withdrawn_used"]


@pytest.mark.parametrize("withdrawal_first", [True, False], ids=["withdrawn-then-used",
                                                                 "used-then-withdrawn"])
def test_a_withdrawn_coupon_used_offline_is_flagged_for_hq(server: LiveServer,
                                                           withdrawal_first: bool) -> None:
    """A manager withdrew the coupon at one till; another till, offline, took it on a bill:
    whichever reaches HQ first, HQ's operator sees a flag with the bill (docs/rules.md)."""
    home, other = server.enrol(1), server.enrol()
    key = uuid.uuid4().hex[:12]
    home.push([issued(home, key)])
    pushes = [(home, [ended(home, key, "coupon.revoked")]), (other, [used(other, key, "s-o")])]
    for till, batch in (pushes if withdrawal_first else pushes[::-1]):
        till.push(batch)
        till.push(batch)  # a retried push: one flag
    [flag] = withdrawn_used(server)
    assert flag.store_id == other.store_id and flag.resolved_at is None
    assert flag.detail["key"] == key and flag.detail["bill"]["sale_id"] == "s-o"
    assert flag.detail["bill"]["bill_no"] == "B-s-o" and twice(server) == []
    home.push([used(home, uuid.uuid4().hex[:12], "s-h")])  # a coupon not withdrawn: none
    assert len(withdrawn_used(server)) == 1
