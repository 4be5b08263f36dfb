"""Streaming .xlsx reading and writing for the member import and export (issue 20).

Why not openpyxl here: its read-only reader builds objects for every cell (and every shared
string) and its write-only writer serialises each cell through an element tree; on 100,000
members either alone took longer than the import's and the export's targets
(``docs/benchmarks.md``). The sheet's XML is simple, so this reads it with the C expat parser
straight from the zip (shared strings, inline strings, numbers, booleans, date-styled numbers
as datetimes, a formula as ``=`` and its text, as openpyxl's ``data_only=False`` gives it), and
writes a plain sheet of inline strings and numbers. Everything else about a file (which sheet,
its size, merged cells) is checked by ``import_rows`` before this runs.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import IO, Any
from xml.parsers import expat
from xml.sax.saxutils import escape

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_CHUNK = 1 << 16


class XlsxError(ValueError):
    """The sheet's XML could not be read (a damaged file)."""


def _part(z: zipfile.ZipFile, kind: str, default: str) -> str | None:
    """The workbook's part of relationship type ``kind`` (sharedStrings, styles)."""
    names = set(z.namelist())
    rels = "xl/_rels/workbook.xml.rels"
    if rels in names:
        text = z.read(rels).decode("utf-8", "replace")
        for rel in re.findall(r"<Relationship\b[^>]*>", text):
            if re.search(r'Type="[^"]*/' + kind + '"', rel):
                t = re.search(r'Target="([^"]+)"', rel)
                if t:
                    target = t.group(1).lstrip("/")
                    target = target if target.startswith("xl/") else f"xl/{target}"
                    return target if target in names else None
    return default if default in names else None


def _parse(f: IO[bytes], start: Any, end: Any, text: Any) -> None:
    p = expat.ParserCreate(namespace_separator=" ")
    p.buffer_text = True
    p.StartElementHandler, p.EndElementHandler, p.CharacterDataHandler = start, end, text
    try:
        while chunk := f.read(_CHUNK):
            p.Parse(chunk, False)
        p.Parse(b"", True)
    except expat.ExpatError as e:
        raise XlsxError(str(e)) from None


_LOCAL: dict[str, str] = {}


def _local(name: str) -> str:
    """An element's name without its namespace (cached: called for every element)."""
    try:
        return _LOCAL[name]
    except KeyError:
        local = _LOCAL[name] = name.rsplit(" ", 1)[-1]
        return local


def shared_strings(z: zipfile.ZipFile) -> list[str]:
    """The shared strings table: each ``<si>``'s text runs, phonetic runs (``rPh``) left out."""
    name = _part(z, "sharedStrings", "xl/sharedStrings.xml")
    if name is None:
        return []
    out: list[str] = []
    parts: list[str] = []
    state = {"t": False, "rph": 0}

    def start(tag: str, attrs: dict[str, str]) -> None:
        t = _local(tag)
        if t == "si":
            parts.clear()
        elif t == "rPh":
            state["rph"] += 1
        elif t == "t" and not state["rph"]:
            state["t"] = True

    def end(tag: str) -> None:
        t = _local(tag)
        if t == "si":
            out.append("".join(parts))
        elif t == "rPh":
            state["rph"] -= 1
        elif t == "t":
            state["t"] = False

    def text(data: str) -> None:
        if state["t"]:
            parts.append(data)

    with z.open(name) as f:
        _parse(f, start, end, text)
    return out


# Built-in number formats that show a date or time: Excel's (14–22, 45–47) and those of the
# Chinese editions (27–36, 50–58: 年月日), which openpyxl does not know.
_DATE_FORMAT_IDS = frozenset([*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)])
# As openpyxl's ``is_date_format``: quoted text and [locale/colour] codes do not count.
_STRIP = re.compile(r'".*?"|\[(?!hh?\]|mm?\]|ss?\])[^\]]*\]')
_DATE_CODE = re.compile(r"(?<![_\\])[dmhysDMHYS]")
_EXCEL_EPOCH = datetime(1899, 12, 30)  # noqa: DTZ001 - Excel's dates carry no zone


def is_date_format(code: str) -> bool:
    return _DATE_CODE.search(_STRIP.sub("", code.split(";")[0])) is not None


def from_excel(serial: float) -> datetime:
    """An Excel serial date (the 1900 system; before 1 March 1900 Excel counts a 29 February
    that never was)."""
    moment = _EXCEL_EPOCH + timedelta(days=serial)
    return moment + timedelta(days=1) if serial < 60 else moment


def date_styles(z: zipfile.ZipFile) -> set[int]:
    """The indexes of the cell formats (``cellXfs``) that show a number as a date."""
    name = _part(z, "styles", "xl/styles.xml")
    if name is None:
        return set()
    formats: dict[int, str] = {}
    xfs: list[int] = []
    where = {"cellXfs": False}

    def start(tag: str, attrs: dict[str, str]) -> None:
        t = _local(tag)
        if t == "numFmt":
            formats[int(attrs.get("numFmtId", "0"))] = attrs.get("formatCode", "")
        elif t == "cellXfs":
            where["cellXfs"] = True
        elif t == "xf" and where["cellXfs"]:
            xfs.append(int(attrs.get("numFmtId", "0")))

    def end(tag: str) -> None:
        if _local(tag) == "cellXfs":
            where["cellXfs"] = False

    with z.open(name) as f:
        _parse(f, start, end, lambda data: None)
    return {i for i, fmt in enumerate(xfs)
            if (is_date_format(formats[fmt]) if fmt in formats else fmt in _DATE_FORMAT_IDS)}


def _column(ref: str) -> int:
    n = 0
    for ch in ref:
        if "A" <= ch <= "Z":
            n = n * 26 + ord(ch) - 64
        else:
            break
    return n


def _number(text: str) -> int | float:
    if "." in text or "E" in text or "e" in text:
        return float(text)
    return int(text)


class _Rows:
    """The expat handlers of a sheet: fills ``done`` with (row number, values) as rows end."""

    def __init__(self, strings: list[str], dates: set[int], width: int) -> None:
        self.strings, self.dates, self.width = strings, dates, width
        self.done: list[tuple[int, tuple[Any, ...]]] = []
        self.row: dict[int, Any] = {}
        self.r = 0
        self.col = 0
        self.kind = self.style = ""
        self.text: list[str] = []
        self.formula: str | None = None
        self.collect = False

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        t = _local(tag)
        if t == "c":
            ref = attrs.get("r")
            self.col = _column(ref) if ref else self.col + 1
            self.kind, self.style = attrs.get("t", "n"), attrs.get("s", "0")
            self.text, self.formula, self.collect = [], None, False
        elif t in ("v", "t"):
            self.collect, self.text = True, [] if t == "v" else self.text
        elif t == "f":
            self.collect, self.formula = True, ""
        elif t == "row":
            r = attrs.get("r")
            self.r = int(r) if r else self.r + 1
            self.row, self.col = {}, 0

    def end(self, tag: str) -> None:
        t = _local(tag)
        if t == "f":
            self.formula, self.text, self.collect = "".join(self.text), [], False
        elif t in ("v", "t"):
            self.collect = False
        elif t == "c":
            if self.col <= self.width:
                self.row[self.col] = self.value()
        elif t == "row":
            self.done.append((self.r, tuple(self.row.get(i) for i in range(1, self.width + 1))))

    def data(self, data: str) -> None:
        if self.collect:
            self.text.append(data)

    def value(self) -> Any:
        if self.formula is not None:
            return "=" + self.formula
        text = "".join(self.text)
        kind = self.kind
        if kind == "inlineStr" or kind == "str":
            return text if text or kind == "str" else None
        if not text:
            return None
        if kind == "s":
            return self.strings[int(text)]
        if kind == "b":
            return text in ("1", "true")
        if kind == "e":
            return text
        if kind == "d":
            return datetime.fromisoformat(text.rstrip("Z"))
        number = _number(text)
        if self.style and int(self.style) in self.dates:
            return from_excel(number)
        return number


def read_sheet(z: zipfile.ZipFile, name: str, width: int) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """The rows of sheet part ``name`` as (row number, the first ``width`` values), rows
    without cells and gaps between rows left out (the caller skips empty rows anyway).
    ``XlsxError`` for XML that cannot be read."""
    rows = _Rows(shared_strings(z), date_styles(z), width)
    p = expat.ParserCreate(namespace_separator=" ")
    p.buffer_text = True
    p.StartElementHandler, p.EndElementHandler = rows.start, rows.end
    p.CharacterDataHandler = rows.data
    try:
        with z.open(name) as f:
            while chunk := f.read(_CHUNK):
                p.Parse(chunk, False)
                yield from rows.done
                rows.done.clear()
            p.Parse(b"", True)
    except (expat.ExpatError, ValueError, IndexError) as e:
        raise XlsxError(f"{type(e).__name__}: {e}") from None
    yield from rows.done


# -- writing ----------------------------------------------------------------------------------

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
    'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.styles+xml"/></Types>')
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
_BOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/styles" Target="styles.xml"/></Relationships>')
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<styleSheet xmlns="{_MAIN}"><fonts count="1"><font><sz val="11"/><name val="Calibri"/>'
    '</font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill>'
    '<patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/>'
    '<right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf '
    'numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="1"><xf '
    'numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs><cellStyles '
    'count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>')
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def get_column_letter(n: int) -> str:
    """1 → A, 27 → AA."""
    out = ""
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def _cell(ref: str, value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float):
        return f'<c r="{ref}"><v>{value}</v></c>'
    text = escape(_INVALID_XML.sub("", str(value)))
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def write_sheet(path: Any, sheet_name: str, rows: Iterable[Iterable[Any]]) -> None:
    """A workbook of one sheet ``sheet_name`` holding ``rows`` (text, numbers, booleans),
    written as the rows come (never held whole)."""
    book = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook xmlns="{_MAIN}" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f'<sheets><sheet name="{escape(sheet_name, {chr(34): "&quot;"})}" sheetId="1" '
            'r:id="rId1"/></sheets></workbook>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        z.writestr("_rels/.rels", _ROOT_RELS)
        z.writestr("xl/workbook.xml", book)
        z.writestr("xl/_rels/workbook.xml.rels", _BOOK_RELS)
        z.writestr("xl/styles.xml", _STYLES)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            f.write(f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet '
                    f'xmlns="{_MAIN}"><sheetData>'.encode())
            buffer: list[str] = []
            letters: list[str] = []
            for n, row in enumerate(rows, start=1):
                values = list(row)
                while len(letters) < len(values):
                    letters.append(get_column_letter(len(letters) + 1))
                buffer.append(f'<row r="{n}">' + "".join(
                    _cell(f"{c}{n}", v) for c, v in zip(letters, values, strict=False))
                    + "</row>")
                if len(buffer) >= 1000:
                    f.write("".join(buffer).encode())
                    buffer.clear()
            f.write(("".join(buffer) + "</sheetData></worksheet>").encode())
