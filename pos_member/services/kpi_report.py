"""The end-of-day recruitment report as an .xlsx workbook (openpyxl) HQ can read.

Two sheets: *Summary* (the store's day and month) and *Guides* (one row per guide). Every cell
holds a value, not a formula; amounts are yuan with two decimals (``Decimal`` from integer fen,
never a float), ratios are fractions shown as percentages. Labels are English here and go
through ``tr`` (the UI passes Qt's translation, context ``kpi_report``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from pos_member.config import DEFAULT_HOURS, OpeningHours
from pos_member.db.uow import UnitOfWork
from pos_member.i18n import QT_TRANSLATE_NOOP
from pos_member.permissions import Clerk
from pos_member.services.kpi import Dashboard, dashboard
from pos_member.spreadsheet import put_cell

YUAN = '"¥"#,##0.00'
PERCENT = "0.0%"
COUNT = "#,##0"

SUMMARY = QT_TRANSLATE_NOOP("kpi_report", "Summary")
GUIDES = QT_TRANSLATE_NOOP("kpi_report", "Guides")
SUMMARY_ROWS = (
    QT_TRANSLATE_NOOP("kpi_report", "Business day"),
    QT_TRANSLATE_NOOP("kpi_report", "Store"),
    QT_TRANSLATE_NOOP("kpi_report", "Day's recruitment target"),
    QT_TRANSLATE_NOOP("kpi_report", "New members today"),
    QT_TRANSLATE_NOOP("kpi_report", "Target reached"),
    QT_TRANSLATE_NOOP("kpi_report", "Guides on shift"),
    QT_TRANSLATE_NOOP("kpi_report", "Guides who met their target"),
    QT_TRANSLATE_NOOP("kpi_report", "Sales"),
    QT_TRANSLATE_NOOP("kpi_report", "Member sales"),
    QT_TRANSLATE_NOOP("kpi_report", "Member-attached sales ratio (会销比)"),
    QT_TRANSLATE_NOOP("kpi_report", "Member-attached sales ratio target"),
    QT_TRANSLATE_NOOP("kpi_report", "Sales amount"),
    QT_TRANSLATE_NOOP("kpi_report", "Member sales amount"),
    QT_TRANSLATE_NOOP("kpi_report", "Member sales share"),
    QT_TRANSLATE_NOOP("kpi_report", "Month's target"),
    QT_TRANSLATE_NOOP("kpi_report", "New members this month"),
)
GUIDE_COLUMNS = (
    QT_TRANSLATE_NOOP("kpi_report", "Staff no."),
    QT_TRANSLATE_NOOP("kpi_report", "Guide"),
    QT_TRANSLATE_NOOP("kpi_report", "On shift"),
    QT_TRANSLATE_NOOP("kpi_report", "Target"),
    QT_TRANSLATE_NOOP("kpi_report", "New members"),
    QT_TRANSLATE_NOOP("kpi_report", "Completion"),
    QT_TRANSLATE_NOOP("kpi_report", "Met (达标)"),
    QT_TRANSLATE_NOOP("kpi_report", "Sales"),
    QT_TRANSLATE_NOOP("kpi_report", "Member sales"),
    QT_TRANSLATE_NOOP("kpi_report", "会销比"),
    QT_TRANSLATE_NOOP("kpi_report", "Sales amount"),
    QT_TRANSLATE_NOOP("kpi_report", "Member sales amount"),
    QT_TRANSLATE_NOOP("kpi_report", "Member sales share"),
)
YES = QT_TRANSLATE_NOOP("kpi_report", "yes")
NO = QT_TRANSLATE_NOOP("kpi_report", "no")
MAX_COPIES = 99  # report (2).xlsx … report (99).xlsx beside one held open


@dataclass(frozen=True)
class SavedReport:
    """Where a report went: ``instead_of`` is the path asked for when that one was held open
    by another program and the report was saved beside it under a numbered name."""

    path: Path
    instead_of: Path | None = None


def yuan(fen: int) -> Decimal:
    return Decimal(fen) / 100


def fraction(num: int, den: int) -> Decimal | None:
    return (Decimal(num) / Decimal(den)).quantize(Decimal("0.0001")) if den else None


def export_day_report(uow: UnitOfWork, *, clerk: Clerk, path: Path, store_name: str,
                      day: date | None = None, hours: OpeningHours = DEFAULT_HOURS,
                      tr: Callable[[str], str] = lambda s: s) -> SavedReport:
    """Writes ``day``'s report (default today) to ``path`` (replaced atomically), or beside it
    under a numbered name when the previous one is held open (see ``write_workbook``).
    Managers only (the dashboard's permission)."""
    board = dashboard(uow, clerk=clerk, day=day, hours=hours)
    return write_workbook(board, path, store_name=store_name, tr=tr)


def write_workbook(board: Dashboard, path: Path, *, store_name: str,
                   tr: Callable[[str], str] = lambda s: s) -> SavedReport:
    """Writes the workbook to ``path`` through a ``.part`` file (never left behind), or beside
    it under a numbered name when ``path`` is held open (``put_in_place``)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    bold = Font(bold=True)
    wb = Workbook()
    ws = wb.active
    ws.title = tr(SUMMARY)
    s = board.sales
    yes, no = tr(YES), tr(NO)
    values: list[tuple[object, str | None]] = [
        (board.day, "yyyy-mm-dd"),
        (store_name, None),
        (board.plan.day_target, COUNT),
        (board.registrations, COUNT),
        (yes if board.registrations >= board.plan.day_target else no, None),
        (board.on_shift_count, COUNT),
        (board.met_count, COUNT),
        (s.sales, COUNT),
        (s.member_sales, COUNT),
        (fraction(s.member_sales, s.sales), PERCENT),
        (Decimal(board.ratio_target_permille) / 1000, PERCENT),
        (yuan(s.amount_fen), YUAN),
        (yuan(s.member_amount_fen), YUAN),
        (fraction(s.member_amount_fen, s.amount_fen), PERCENT),
        (board.month_target if board.month_target is not None else "—", COUNT),
        (board.month_registrations, COUNT),
    ]
    for i, (label, (value, fmt)) in enumerate(zip(SUMMARY_ROWS, values, strict=True), start=1):
        ws.cell(row=i, column=1, value=tr(label)).font = bold
        cell = put_cell(ws, i, 2, value, fmt)
        cell.alignment = Alignment(horizontal="right")
    ws.column_dimensions["A"].width = 36
    ws.column_dimensions["B"].width = 24

    gs = wb.create_sheet(tr(GUIDES))
    for col, label in enumerate(GUIDE_COLUMNS, start=1):
        c = gs.cell(row=1, column=col, value=tr(label))
        c.font = bold
        c.alignment = Alignment(horizontal="center", wrap_text=True)
    formats = (None, None, None, COUNT, COUNT, PERCENT, None, COUNT, COUNT, PERCENT, YUAN, YUAN,
               PERCENT)
    for r, g in enumerate(board.guides, start=2):
        gsales = g.sales
        row: tuple[object, ...] = (
            g.code, g.name, yes if g.on_shift else no, g.target, g.registrations,
            fraction(g.registrations, g.target), yes if g.met else no,
            gsales.sales, gsales.member_sales, fraction(gsales.member_sales, gsales.sales),
            yuan(gsales.amount_fen), yuan(gsales.member_amount_fen),
            fraction(gsales.member_amount_fen, gsales.amount_fen),
        )
        for col, (value, fmt) in enumerate(zip(row, formats, strict=True), start=1):
            put_cell(gs, r, col, value, fmt)
    widths = (10, 14, 9, 9, 12, 12, 10, 9, 12, 10, 14, 16, 14)
    for col, width in enumerate(widths, start=1):
        gs.column_dimensions[gs.cell(row=1, column=col).column_letter].width = width
    gs.freeze_panes = "C2"
    return save_workbook(wb, path)


def save_workbook(wb: Any, path: Path) -> SavedReport:
    """Saves an openpyxl workbook beside ``path`` under a temporary name, then puts it in place
    (``put_in_place``): a reader never sees half a file, a failed save leaves nothing behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    try:
        wb.save(tmp)
        return put_in_place(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def put_in_place(tmp: Path, path: Path) -> SavedReport:
    """Moves the finished file to ``path``, or to ``name (2).xlsx``, ``(3)``… when ``path``
    cannot be replaced — on Windows, the previous export still open in Excel."""
    try:
        tmp.replace(path)
        return SavedReport(path)
    except OSError:
        pass
    for n in range(2, MAX_COPIES + 1):
        target = path.with_name(f"{path.stem} ({n}){path.suffix}")
        if not target.exists():
            tmp.replace(target)
            return SavedReport(target, instead_of=path)
    raise OSError(f"{path} and {MAX_COPIES - 1} numbered copies beside it cannot be replaced")
