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
