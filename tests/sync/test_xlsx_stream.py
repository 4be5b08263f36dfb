"""The streaming .xlsx reader and writer of the member import and export (issue 20): what
Excel writes (shared strings with rich and phonetic runs, dates as styled serial numbers,
formulas) is read as openpyxl reads it, and what the export writes openpyxl reads back."""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest

from sync.server.xlsx_stream import XlsxError, read_sheet
from sync.server.xlsx_write import write_sheet

_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def _excel_like(path: Path, sheet: str) -> Path:
    """A workbook as Excel saves one: shared strings, a date style, no ``r`` on one cell."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("xl/_rels/workbook.xml.rels", (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006'
            '/relationships/sharedStrings" Target="sharedStrings.xml"/>'
            '<Relationship Id="rId4" Type="http://schemas.openxmlformats.org/officeDocument/2006'
            '/relationships/styles" Target="styles.xml"/></Relationships>'))
        z.writestr("xl/sharedStrings.xml", (
            f'<sst {_NS} count="3" uniqueCount="3"><si><t>手机号</t></si>'
            '<si><r><t>王</t></r><r><rPr><b/></rPr><t xml:space="preserve">小明 </t></r>'
            '<rPh sb="0" eb="1"><t>wang</t></rPh></si><si><t>a&amp;b</t></si></sst>'))
        z.writestr("xl/styles.xml", (
            f'<styleSheet {_NS}><numFmts count="1"><numFmt numFmtId="164" '
            'formatCode="yyyy/m/d"/></numFmts><cellXfs count="4"><xf numFmtId="0"/>'
            '<xf numFmtId="164"/><xf numFmtId="14"/><xf numFmtId="31"/></cellXfs></styleSheet>'))
        z.writestr(sheet, (
            f'<worksheet {_NS}><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row>'
            '<row r="3"><c r="A3"><v>13800138000</v></c><c r="C3" t="s"><v>1</v></c>'
            '<c r="D3" s="1"><v>32946</v></c><c s="2"><v>43617</v></c>'
            '<c r="F3" t="b"><v>1</v></c><c r="G3"><v>12.5</v></c><c r="J3" s="3"><v>45000</v></c>'
            '<c r="H3" t="str"><f>A1&amp;"x"</f><v>手机号x</v></c>'
            '<c r="I3" t="s"><v>2</v></c><c r="Z3"><v>9</v></c></row></sheetData></worksheet>'))
    return path


def _naive(*ymd: int) -> datetime:
    """As openpyxl gives a date cell: a datetime without a zone (the file has none)."""
    return datetime(*ymd, tzinfo=UTC).replace(tzinfo=None)


def test_an_excel_file_reads_as_openpyxl_reads_it(tmp_path: Path) -> None:
    name = "xl/worksheets/sheet1.xml"
    with zipfile.ZipFile(_excel_like(tmp_path / "e.xlsx", name)) as z:
        rows = list(read_sheet(z, name, 10))
    assert rows == [
        (1, ("手机号",) + (None,) * 9),
        (3, (13800138000, None, "王小明 ", _naive(1990, 3, 14), _naive(2019, 6, 1), True,
             12.5, '=A1&"x"', "a&b", _naive(2023, 3, 15))),  # 31: the Chinese 年月日 built-in
    ]


def test_damaged_xml_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "d.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("xl/worksheets/sheet1.xml", f"<worksheet {_NS}><sheetData><row><c>")
    with zipfile.ZipFile(path) as z, pytest.raises(XlsxError):
        list(read_sheet(z, "xl/worksheets/sheet1.xml", 3))


def test_what_is_written_openpyxl_and_the_reader_read_back(tmp_path: Path) -> None:
    path = tmp_path / "w.xlsx"
    rows = [["会员号", "姓名", "积分"], ["0001", "<王&\"明'>\x07", 120], ["0002", "", 0],
            ["0003", None, 3.5]]
    write_sheet(path, "会员", rows)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["会员"]
    got = [list(r) for r in book["会员"].iter_rows(values_only=True)]
    assert got == [["会员号", "姓名", "积分"], ["0001", "<王&\"明'>", 120], ["0002", None, 0],
                   ["0003", None, 3.5]]
    with zipfile.ZipFile(path) as z:
        again = [list(r) for _, r in read_sheet(z, "xl/worksheets/sheet1.xml", 3)]
    assert again == got


@pytest.mark.parametrize("body", [
    # entities, an exponent, a row without cells, a comment and CDATA (those rows by expat)
    '<?xml version="1.0" encoding="UTF-8"?>\n<worksheet {ns}><sheetData><row r="1"><c r="A1" '
    't="inlineStr"><is><t>a&amp;b&#x4e00;&#20013;</t></is></c><c r="B1"><v>1.5E3</v></c>'
    '</row><row r="2"/><row r="3"><!-- x --><c r="A3" t="inlineStr"><is><t><![CDATA[<x>]]>'
    "</t></is></c></row></sheetData></worksheet>",
    # single-quoted attributes, a formula, a cell without r
    "<worksheet {ns}><sheetData><row r='1'><c r='A1' t='str'><f>1+1</f><v>2</v></c><c><v>3</v>"
    "</c></row></sheetData></worksheet>",
    # a prefixed sheet: expat throughout
    '<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<x:sheetData><x:row r="1"><x:c r="A1"><x:v>1</x:v></x:c></x:row></x:sheetData>'
    "</x:worksheet>",
    # rich inline runs, booleans, errors, an empty formula result, no r anywhere
    '<worksheet {ns}><sheetData><row><c t="inlineStr"><is><r><t xml:space="preserve">a </t></r>'
    '<r><t>b</t></r></is></c><c t="b"><v>0</v></c><c t="e"><v>#N/A</v></c><c t="str"><v></v>'
    '</c><c r="E1" t="inlineStr"/></row><row><c s="0"><v>7</v></c></row></sheetData></worksheet>',
    "<worksheet {ns}><sheetData/></worksheet>",
])
def test_the_fast_reader_reads_as_expat_reads(tmp_path: Path, body: str) -> None:
    """The regular-expression reader (a plain sheet) gives what the expat reader gives, and
    hands what it does not know to expat."""
    from sync.server import xlsx_stream

    name = "xl/worksheets/sheet1.xml"
    path = tmp_path / "v.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(name, body.replace("{ns}", _NS))
    with zipfile.ZipFile(path) as z:
        fast = list(read_sheet(z, name, 6))
        with z.open(name) as f:
            slow = list(xlsx_stream._expat_rows(xlsx_stream._Rows([], set(), 6), b"", f))
    assert fast == slow
    assert any(row for _, row in fast) or "<sheetData/>" in body


def test_an_excel_file_reads_the_same_by_both_readers(tmp_path: Path) -> None:
    from sync.server import xlsx_stream

    name = "xl/worksheets/sheet1.xml"
    with zipfile.ZipFile(_excel_like(tmp_path / "e.xlsx", name)) as z:
        fast = list(read_sheet(z, name, 10))
        with z.open(name) as f:
            slow = list(xlsx_stream._expat_rows(xlsx_stream._Rows(
                xlsx_stream.shared_strings(z), xlsx_stream.date_styles(z), 10), b"", f))
    assert fast == slow
