"""The POS's member lookup (pos_member.integration.queries) finds what the scan field finds:
a merged-away number scans to the member it was merged into; an unknown one is refused."""

from __future__ import annotations

import pytest

from pos_member.errors import MemberNotFound
from pos_member.integration.queries import lookup_member
from pos_member.integration.reports import pos_clerk
from tests.core.test_apply import merge_event, same_phone_at_both
from tests.factories import Till, wire_events
from tests.factories import apply_pulled as apply


def test_a_merged_away_number_is_looked_up_as_the_member_it_was_merged_into(
        a: Till, b: Till) -> None:
    phone, winner, loser = same_phone_at_both(a, b)
    apply(b, wire_events(a))
    apply(b, [merge_event(winner, loser)], first=500)
    clerk = pos_clerk(store_id=b.cashier.store_id, device_id=b.cashier.device_id)
    for code in (winner.member_no, loser.member_no, phone):
        view = lookup_member(b.uow, clerk, code=code)
        assert (view.id, view.member_no, view.status) == (winner.id, winner.member_no, "active")


def test_an_unknown_number_is_refused(a: Till) -> None:
    clerk = pos_clerk(store_id=a.cashier.store_id, device_id=a.cashier.device_id)
    with pytest.raises(MemberNotFound):
        lookup_member(a.uow, clerk, code="00019900000001")


def test_a_card_reported_lost_is_refused_to_the_pos_as_at_the_till(till: Till) -> None:
    from pos_member.member_service_errors import CardReplaced
    from pos_member.services import member_service

    m = till.register()
    new = member_service.reissue_card(till.uow, clerk=till.manager, member_id=m.id,
                                      reason="lost").card_code
    for old in (m.qr_payload, m.member_no):
        with pytest.raises(CardReplaced):
            lookup_member(till.uow, till.cashier, code=old)
    assert new is not None
    assert lookup_member(till.uow, till.cashier, code=new).id == m.id


def test_a_sale_the_pos_reports_with_a_lost_card_spends_none_of_its_points(till: Till) -> None:
    """Whoever found the card cannot redeem the member's points at the POS either."""
    from pos_member.integration.reports import Line, SaleReport, Tender, report_sale
    from pos_member.member_service_errors import CardReplaced
    from pos_member.services import member_service

    m = till.register()  # welcome points: 100
    new = member_service.reissue_card(till.uow, clerk=till.manager, member_id=m.id,
                                      reason="lost").card_code
    ident = till.app.identity
    assert ident is not None and new is not None
    clerk = pos_clerk(store_id=ident.store_id, device_id=ident.device_id)

    def report(code: str, txn: str) -> object:
        return report_sale(till.uow, clerk, SaleReport(
            txn, f"B-{txn}", till.clock.now().isoformat(), 1_000, (Line("a", "bag", 1_000),),
            (Tender("cash", 900),), member=code, redeem_points=100))

    before = till.table_counts()
    for i, old in enumerate((m.qr_payload, m.member_no)):
        with pytest.raises(CardReplaced):
            report(old, f"S-{i}")
    assert till.table_counts() == before
    assert report(new, "S-new").member_no == m.member_no  # type: ignore[attr-defined]
