"""Text written into a workbook the till or HQ exports (.xlsx): never read as a formula.

A member's or a colleague's name, a store's name, a campaign's title or a cell copied from an
imported file may start with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return): openpyxl
writes a text starting with ``=`` as a formula, and Excel or LibreOffice read any of them as one
when the sheet is saved as CSV, pasted, or a cell is edited (formula injection, CWE-1236). Such
text gets a leading apostrophe, the usual escape (docs/rules.md, "Exports"); numbers, dates and
other text are left as they are.
"""

from __future__ import annotations

from typing import Any

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def cell_value(value: object) -> object:
    """``value`` as a cell takes it: a text that would start a formula, after an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_LEADS):
        return "'" + value
    return value


def put_cell(sheet: Any, row: int, column: int, value: object, fmt: str | None = None) -> Any:
    """Writes ``value`` into an openpyxl sheet's cell and returns the cell: ``—`` for None
    (no figure), text as :func:`cell_value` takes it, and the number format ``fmt`` on a
    figure."""
    cell = sheet.cell(row=row, column=column, value="—" if value is None else cell_value(value))
    if fmt and value is not None:
        cell.number_format = fmt
    return cell


def tsv_field(value: str) -> str:
    """Text as one field of a tab-separated line (the server's console listings, which are
    pasted or saved into spreadsheets): a tab, a line break or any other character that is
    not printable (a terminal's escape sequence would act on the operator's console) as a
    space, and a text that would start a formula after an apostrophe, as in a workbook
    (``cell_value``)."""
    flat = "".join(c if c.isprintable() else " " for c in value)
    return str(cell_value(flat))
