"""The programme-health report (``insight.programme_health``) as an .xlsx workbook (openpyxl).

Two sheets: *Programme health* (one row per store and tier, the store's total and the chain's)
and *Cohorts* (each month's new members and their 7/30/90-day retention). Values, not
formulas; amounts are yuan with two decimals (``Decimal`` from integer fen), ratios fractions
shown as percentages, "—" where there is nothing to divide by. Labels are English here and go
through ``tr`` (the UI passes Qt's translation, context ``insight_report``). Saved like the
day report: through a ``.part`` file, beside a copy held open in Excel.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from pos_member.i18n import QT_TRANSLATE_NOOP
from pos_member.services.insight import RETENTION_DAYS, HealthReport, HealthRow
from pos_member.services.kpi_report import (
    COUNT,
    PERCENT,
    YUAN,
    SavedReport,
    save_workbook,
    yuan,
)
from pos_member.spreadsheet import put_cell

HEALTH = QT_TRANSLATE_NOOP("insight_report", "Programme health")
COHORTS = QT_TRANSLATE_NOOP("insight_report", "Cohorts")
ALL_TIERS = QT_TRANSLATE_NOOP("insight_report", "All tiers")
CHAIN = QT_TRANSLATE_NOOP("insight_report", "Chain")
PERIOD = QT_TRANSLATE_NOOP("insight_report", "Period")
COLUMNS = (
    (QT_TRANSLATE_NOOP("insight_report", "Store"), None),
    (QT_TRANSLATE_NOOP("insight_report", "Tier"), None),
    (QT_TRANSLATE_NOOP("insight_report", "Members"), COUNT),
    (QT_TRANSLATE_NOOP("insight_report", "New members"), COUNT),
    (QT_TRANSLATE_NOOP("insight_report", "Active members (30 days)"), COUNT),
    (QT_TRANSLATE_NOOP("insight_report", "活跃度"), PERCENT),
    (QT_TRANSLATE_NOOP("insight_report", "复购率"), PERCENT),
    (QT_TRANSLATE_NOOP("insight_report", "ARPU"), YUAN),
    (QT_TRANSLATE_NOOP("insight_report", "客单价 (members)"), YUAN),
    (QT_TRANSLATE_NOOP("insight_report", "客单价 (non-members)"), YUAN),
    (QT_TRANSLATE_NOOP("insight_report", "Member sales share"), PERCENT),
    (QT_TRANSLATE_NOOP("insight_report", "Points issued"), COUNT),
    (QT_TRANSLATE_NOOP("insight_report", "Points redeemed"), COUNT),
    (QT_TRANSLATE_NOOP("insight_report", "兑换率"), PERCENT),
    (QT_TRANSLATE_NOOP("insight_report", "Outstanding points"), COUNT),
    (QT_TRANSLATE_NOOP("insight_report", "储值负债 principal"), YUAN),
    (QT_TRANSLATE_NOOP("insight_report", "储值负债 bonus"), YUAN),
    (QT_TRANSLATE_NOOP("insight_report", "Churn rate"), PERCENT),
)
COHORT_COLUMNS = (
    (QT_TRANSLATE_NOOP("insight_report", "Store"), None),
    (QT_TRANSLATE_NOOP("insight_report", "Tier"), None),
    (QT_TRANSLATE_NOOP("insight_report", "Month"), None),
    (QT_TRANSLATE_NOOP("insight_report", "New members"), COUNT),
    (QT_TRANSLATE_NOOP("insight_report", "留存率 7 days"), PERCENT),
    (QT_TRANSLATE_NOOP("insight_report", "留存率 30 days"), PERCENT),
    (QT_TRANSLATE_NOOP("insight_report", "留存率 90 days"), PERCENT),
)


def _money(fen: int | None) -> object:
    return None if fen is None else yuan(fen)


def row_values(r: HealthRow) -> tuple[object, ...]:
    """The figures of one row after its store and tier, in ``COLUMNS`` order."""
    t = r.tally
    return (t.members, t.new_members, t.active_members, r.activity, r.repurchase_rate,
            _money(r.arpu_fen), _money(r.member_ticket_fen), _money(r.walk_in_ticket_fen),
            r.member_sales_share, t.points_issued, t.points_redeemed, r.redemption_rate,
            t.points_outstanding, yuan(t.sv_principal_fen), yuan(t.sv_bonus_fen),
            r.churn_rate)


def names_of(r: HealthRow, stores: Mapping[str, str], tiers: Mapping[str, str],
             tr: Callable[[str], str]) -> tuple[str, str]:
    """The row's store and tier as people call them (a store not named: its id)."""
    store = tr(CHAIN) if r.store_id is None else stores.get(r.store_id, r.store_id)
    tier = tr(ALL_TIERS) if r.tier is None else tiers.get(r.tier, r.tier)
    return store, tier


def write_health_workbook(report: HealthReport, path: Path, *, stores: Mapping[str, str],
                          tiers: Mapping[str, str],
                          tr: Callable[[str], str] = lambda s: s) -> SavedReport:
    """Writes the report to ``path`` (or beside it when held open; ``kpi_report``)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    bold = Font(bold=True)
    wb = Workbook()
    ws = wb.active
    ws.title = tr(HEALTH)
    ws.cell(row=1, column=1, value=tr(PERIOD)).font = bold
    ws.cell(row=1, column=2, value=f"{report.start.isoformat()} – {report.end.isoformat()}")

    def put(sheet: object, r: int, values: tuple[object, ...],
            columns: tuple[tuple[str, str | None], ...]) -> None:
        for c, (value, (_, fmt)) in enumerate(zip(values, columns, strict=True), start=1):
            cell = put_cell(sheet, r, c, value, fmt)
            if fmt:
                cell.alignment = Alignment(horizontal="right")

    def heads(sheet: object, r: int, columns: tuple[tuple[str, str | None], ...]) -> None:
        for c, (label, _) in enumerate(columns, start=1):
            cell = sheet.cell(row=r, column=c, value=tr(label))  # type: ignore[attr-defined]
            cell.font = bold
            cell.alignment = Alignment(horizontal="center", wrap_text=True)
            sheet.column_dimensions[cell.column_letter].width = 14  # type: ignore[attr-defined]

    heads(ws, 3, COLUMNS)
    for i, r in enumerate(report.rows, start=4):
        put(ws, i, (*names_of(r, stores, tiers, tr), *row_values(r)), COLUMNS)
    ws.freeze_panes = "C4"
    cs = wb.create_sheet(tr(COHORTS))
    heads(cs, 1, COHORT_COLUMNS)
    n = 2
    for r in report.rows:
        for cohort in r.cohorts:
            put(cs, n, (*names_of(r, stores, tiers, tr), cohort.month, cohort.members,
                        *(cohort.rate(d) for d in RETENTION_DAYS)), COHORT_COLUMNS)
            n += 1
    cs.freeze_panes = "D2"
    return save_workbook(wb, path)
