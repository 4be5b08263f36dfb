"""Refunds of lines, in any order and any parts: never more back than a line's amount or the
bill's paid amount, and refunding every line to the end gives back exactly what was paid."""

from __future__ import annotations

from itertools import count

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pos_member.integration import reports
from pos_member.integration.errors import RefundOverLine
from pos_member.integration.reports import Line, RefundLine, RefundReport, SaleReport, Tender
from tests.factories import Till

_bills = count(1)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(amounts=st.lists(st.integers(1, 50_000), min_size=1, max_size=4),
       cuts=st.lists(st.tuples(st.integers(0, 3), st.integers(1, 60_000)), max_size=8))
def test_line_refunds_never_give_back_more_and_all_of_them_give_back_all(
        till: Till, amounts: list[int], cuts: list[tuple[int, int]]) -> None:
    clerk = reports.pos_clerk(store_id=till.cashier.store_id, device_id=till.cashier.device_id)
    n = next(_bills)
    total = sum(amounts)
    reports.report_sale(till.uow, clerk, SaleReport(
        f"S{n}", f"B{n}", "2026-01-05T09:00:00+00:00", total,
        tuple(Line(str(i), "c", a) for i, a in enumerate(amounts)), (Tender("cash", total),)))
    left = dict(enumerate(amounts))
    back = 0
    for k, (i, fen) in enumerate(cuts):
        line = i % len(amounts)
        report = RefundReport(f"R{n}-{k}", f"B{n}", (RefundLine(str(line), fen),))
        if fen > left[line]:
            try:
                reports.report_refund(till.uow, clerk, report)
            except RefundOverLine:
                continue
            raise AssertionError("a refund over what is left of a line was taken")
        back += reports.report_refund(till.uow, clerk, report).refund.refund_fen
        left[line] -= fen
        assert back <= total
    for line, rest in left.items():  # the rest of every line
        if rest:
            back += reports.report_refund(till.uow, clerk, RefundReport(
                f"R{n}-end-{line}", f"B{n}", (RefundLine(str(line), rest),))).refund.refund_fen
    assert back == total
