"""The programme-health screen's two charts (issue 19), painted by :class:`ui.kpi_chart.TrendChart`
(QtCharts is in PySide6-Addons, which the till does not ship: docs/rules.md).

- **Rates**: 活跃度, 复购率 and churn rate side by side for each tier and the store's total
  (for a chain report: each store's total and the chain's).
- **留存率**: the 7/30/90-day retention of each month's new members, for the report's last row
  (the store's total, or the chain's); a cohort not yet matured has no point.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from pos_member.services.insight import RETENTION_DAYS, HealthReport, HealthRow
from pos_member.services.insight_report import names_of
from ui.i18n import translate
from ui.kpi_chart import BLUE, GREEN, ORANGE, RED, Series, TrendChart


def permille(value: Decimal | None) -> int | None:
    """A fraction as tenths of a percent (what TrendChart's lines take)."""
    return None if value is None else int((value * 1000).to_integral_value())


def compared_rows(report: HealthReport) -> list[HealthRow]:
    """The rows the rates chart compares: a chain report's store totals and the chain; else
    the store's tiers and its total."""
    if report.rows and report.rows[-1].store_id is None:
        return [r for r in report.rows if r.tier is None]
    return list(report.rows)


def fill_charts(report: HealthReport, rates: TrendChart, retention: TrendChart, *,
                stores: Mapping[str, str], tiers: Mapping[str, str]) -> None:
    def tr(s: str) -> str:
        return translate("insight_report", s)

    rows = compared_rows(report)
    chain = bool(report.rows) and report.rows[-1].store_id is None
    labels = [names_of(r, stores, tiers, tr)[0 if chain else 1] for r in rows]
    series = [
        Series(translate("HealthCharts", "活跃度"), [permille(r.activity) for r in rows], GREEN),
        Series(translate("HealthCharts", "复购率"), [permille(r.repurchase_rate) for r in rows],
               BLUE),
        Series(translate("HealthCharts", "流失率"), [permille(r.churn_rate) for r in rows], RED),
    ]
    rates.set_lines(translate("HealthCharts", "Rates by tier") if not chain
                    else translate("HealthCharts", "Rates by store"), labels, series, None,
                    [(s.name, s.color, False) for s in series])
    focus = report.rows[-1] if report.rows else None
    cohorts = list(focus.cohorts) if focus is not None else []
    colors = (GREEN, BLUE, ORANGE)
    kept = [Series(translate("HealthCharts", "%1 days").replace("%1", str(d)),
                   [permille(c.rate(d)) for c in cohorts], color)
            for d, color in zip(RETENTION_DAYS, colors, strict=True)]
    retention.set_lines(translate("HealthCharts", "留存率 of new members by month"),
                        [c.month for c in cohorts], kept, None,
                        [(s.name, s.color, False) for s in kept])
