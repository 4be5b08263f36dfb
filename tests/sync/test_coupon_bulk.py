"""HQ's bulk issue (issue 18): one ``pos-member-server issue-coupons`` command issues a coupon
to a filtered list of members, in short chunks (tills sync between them); running the batch
again issues nothing more; each store's tills get their members' coupons at their next sync,
marked as head office's; the till that registered a member tells them of it (consent and cap
allowing), reminds them before its end and expires it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from pos_member.db.models import Coupon, NotificationOutbox
from pos_member.rules_config import default_rules_path
from pos_member.services import coupons
from pos_member.services.coupon_triggers import run_triggers
from pos_member.services.members import register_member
from sync.server import coupon_bulk, services
from sync.server.cli import main
from sync.server.models import CouponTerms
from tests.factories import new_phone
from tests.sync.harness import Central, Till


@pytest.mark.usefixtures("cheap_hash")
def test_one_command_issues_to_a_store_and_running_it_again_issues_nothing(
    tills: tuple[Till, Till], central: Central, monkeypatch: pytest.MonkeyPatch,
) -> None:
    one, two = tills
    mine = one.register(2)
    one.clock.advance(seconds=21)
    mine.append(register_member(one.app.uow, clerk=one.clerk, phone=new_phone(),
                                privacy_consent=True, marketing_consent=True))
    theirs = two.register(1)
    for t in (one, two):
        t.sync()
    services.publish_rules(central.ctx, path=default_rules_path())
    monkeypatch.setattr(coupon_bulk, "CHUNK", 2)  # several chunks, each its own transaction
    assert main(["--database", central.url, "issue-coupons", "CPN-10", "--store", "1",
                 "--reason", "store anniversary", "--batch", "anniv-1"]) == 0
    again = coupon_bulk.issue_coupons(central.ctx, template="CPN-10", reason="again",
                                      store=1, batch="anniv-1")
    assert (again.members, again.issued) == (3, 0)
    with central.ctx.db.read() as conn:  # HQ keeps their terms for other stores' checks
        kept = conn.execute(select(CouponTerms.coupon, CouponTerms.state)).all()
    assert sorted(s for c, s in kept if c["source"] == coupons.HQ) == ["issued"] * 3
    for t in (one, two):
        t.sync()
    for card in mine:
        got = {c.name: c.source for c in coupons.usable(one.app.uow, member_id=card.id)}
        assert got["10元代金券"] == coupons.HQ
    _hq_coupons_told_reminded_and_expired(one, mine[2].id)
    assert "10元代金券" not in [c.name for c in coupons.usable(two.app.uow,
                                                                member_id=theirs[0].id)]
    assert main(["--database", central.url, "issue-coupons", "NOPE", "--reason", "x"]) == 1
    central.assert_exactly_once(one)
    central.assert_exactly_once(two)


def _offers(till: Till) -> list[tuple[str, str, str]]:
    o = NotificationOutbox.__table__.c
    with till.app.uow.read() as s:
        return [tuple(r) for r in s.execute(select(o.member_id, o.kind, o.dedupe_key).where(
            o.kind.in_(("coupon.offer", "coupon.expiring"))).order_by(o.created_at))]


def _hq_coupons_told_reminded_and_expired(one: Till, consenting: str) -> None:
    """The registering till tells the member who agreed to marketing of HQ's coupon once,
    reminds each holder 3 days before its end and expires it after."""
    c = Coupon.__table__.c
    with one.app.uow.read() as s:
        keys = dict(s.execute(select(c.member_id, c.key).where(c.source == coupons.HQ)).all())
        end = s.scalar(select(func.max(c.valid_until)).where(c.source == coupons.HQ))
    assert run_triggers(one.app.uow, clerk=one.clerk).told == 1
    assert _offers(one) == [(consenting, "coupon.offer", f"coupon.issued:{keys[consenting]}")]
    assert run_triggers(one.app.uow, clerk=one.clerk).told == 0  # once per coupon
    one.clock.set(end - timedelta(days=2))  # the tills' clocks are not HQ's here
    assert run_triggers(one.app.uow, clerk=one.clerk).reminded >= 3
    assert {k for _, kind, k in _offers(one) if kind == "coupon.expiring"} >= {
        f"coupon.expiring:{k}" for k in keys.values()}
    one.clock.set(end)
    run_triggers(one.app.uow, clerk=one.clerk)
    with one.app.uow.read() as s:
        assert set(s.execute(select(c.state).where(c.source == coupons.HQ)).scalars()) == {
            "expired"}
    one.sync()  # the expiries go to HQ like a till's own
