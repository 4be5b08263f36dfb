"""Streaming .xlsx reading for the member import (issue 20); writing: ``xlsx_write``.

Why not openpyxl here: its read-only reader builds objects for every cell (and every shared
string); on 100,000 members it alone took longer than the import's target
(``docs/benchmarks.md``). The sheet's XML is simple: a plain sheet (UTF-8, unprefixed, as
Excel, WPS and openpyxl write it) is cut into row and cell tokens by one regular expression
per piece of text (``_FastRows``), and anything unusual (a prefixed sheet, a DOCTYPE, a
comment, CDATA) is parsed by the C expat parser (``_Rows``), one Python call per element,
which alone took ~2.5× as long. Both give the same values (shared strings, inline strings,
numbers, booleans, date-styled numbers as datetimes, a formula as ``=`` and its text, as
openpyxl's ``data_only=False`` gives it). Everything else about a file (which sheet, its
size, merged cells) is checked by ``import_rows`` before this runs.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import IO, Any
from xml.parsers import expat

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
        return typed(text, kind, self.strings, bool(self.style) and int(self.style) in self.dates)


def typed(text: str, kind: str, strings: Sequence[str], is_date: bool) -> Any:
    """A cell's value from its ``<v>`` text and type ``t`` (a formula and the string types
    handled before): both readers of a sheet end here, so they read a cell alike."""
    if not text:
        return None
    if kind == "s":
        return strings[int(text)]
    if kind == "b":
        return text in ("1", "true")
    if kind == "e":
        return text
    if kind == "d":
        return datetime.fromisoformat(text.rstrip("Z"))
    number = _number(text)
    return from_excel(number) if is_date else number


def read_sheet(z: zipfile.ZipFile, name: str, width: int) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """The rows of sheet part ``name`` as (row number, the first ``width`` values), rows
    without cells and gaps between rows left out (the caller skips empty rows anyway).
    ``XlsxError`` for XML that cannot be read.

    A sheet in the default namespace (Excel's, openpyxl's, WPS's) is cut into its ``<row>``
    elements with regular expressions (``_FastRows``): expat's one Python call per element was
    most of the import's reading time (docs/benchmarks.md). A row holding anything unusual
    (a comment, CDATA, a prefixed element, single-quoted attributes) is parsed by expat
    alone; a sheet with prefixed elements or a DOCTYPE is parsed by expat throughout."""
    strings, dates = shared_strings(z), date_styles(z)
    try:
        with z.open(name) as f:
            head = f.read(_CHUNK)
            if _plain(head):
                yield from _FastRows(strings, dates, width).rows(head, f)
            else:
                yield from _expat_rows(_Rows(strings, dates, width), head, f)
    except (expat.ExpatError, ValueError, IndexError) as e:
        raise XlsxError(f"{type(e).__name__}: {e}") from None


def _plain(head: bytes) -> bool:
    """A sheet ``_FastRows`` reads: UTF-8, no DOCTYPE, its elements unprefixed."""
    at = head.find(b"<sheetData")
    if at < 0 or b"<!DOCTYPE" in head[:at] or re.search(rb"<\w+:worksheet\b", head[:at]):
        return False
    decl = re.match(rb"(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?encoding\s*=\s*[\"']([\w-]+)", head)
    return decl is None or decl.group(1).lower() in (b"utf-8", b"utf8")


def _expat_rows(rows: _Rows, head: bytes, f: IO[bytes]) -> Iterator[tuple[int, tuple[Any, ...]]]:
    p = expat.ParserCreate(namespace_separator=" ")
    p.buffer_text = True
    p.StartElementHandler, p.EndElementHandler = rows.start, rows.end
    p.CharacterDataHandler = rows.data
    chunk = head or f.read(_CHUNK)
    while chunk:
        p.Parse(chunk, False)
        yield from rows.done
        rows.done.clear()
        chunk = f.read(_CHUNK)
    p.Parse(b"", True)
    yield from rows.done


# One token of a plain sheet's rows: a row's start tag, or a whole cell with its column letters
# (when ``r`` comes first, as every writer puts it), the rest of its attributes (the same
# text for every cell of a kind: cached), and its content: a bare ``<v>``, a bare inline
# string, or anything else.
_TOKEN = re.compile(
    r'(<row\b[^>]*>)'
    r'|<c\b(?:\s+r\s*=\s*"([A-Z]+)\d*")?([^>]*?)'
    r"(?:/>|>(?:<v>([^<]*)</v>|<is><t>([^<]*)</t></is>|(.*?))</c>)", re.S)
_ROW_NUMBER = re.compile(r'\br\s*=\s*"(\d+)"')
_ATTR = re.compile(r'([\w:]+)\s*=\s*"([^"]*)"')
_RPH = re.compile(r"<rPh\b.*?</rPh>", re.S)
_T = re.compile(r"<t\b[^>]*?(?:/>|>(.*?)</t>)", re.S)
_V = re.compile(r"<v\b[^>]*?(?:/>|>(.*?)</v>)", re.S)
_F = re.compile(r"<f\b[^>]*?(?:/>|>(.*?)</f>)", re.S)
_ENTITY = re.compile(r"&(#x[0-9a-fA-F]+|#\d+|lt|gt|amp|quot|apos);")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}


def _entity(m: re.Match[str]) -> str:
    name = m.group(1)
    if name[0] != "#":
        return _NAMED[name]
    return chr(int(name[2:], 16) if name[1] == "x" else int(name[1:]))


def _unescape(text: str) -> str:
    if "&" not in text:
        return text
    out = _ENTITY.sub(_entity, text)
    if "&" in _ENTITY.sub("", text):
        raise ValueError("an entity XML does not define")
    return out


class _FastRows:
    """The rows of a plain sheet (``_plain``), cut into tokens (``_TOKEN``) by one regular
    expression per piece of text; each cell's value as ``_Rows.value`` gives it. A piece
    holding a comment, CDATA, a processing instruction or a single-quoted attribute is given
    to expat instead."""

    def __init__(self, strings: list[str], dates: set[int], width: int) -> None:
        self.strings, self.dates, self.width = strings, dates, width
        self.slow = _Rows(strings, dates, width)
        self.r = 0
        self.kinds: dict[str, tuple[int, str, int]] = {}  # attributes after r → parsed
        self.columns: dict[str, int] = {}

    def rows(self, head: bytes, f: IO[bytes]) -> Iterator[tuple[int, tuple[Any, ...]]]:
        """Decodes the XML as it is read and cuts it after the last ``</row>`` it holds."""
        import codecs

        decoder = codecs.getincrementaldecoder("utf-8-sig")()
        pending = decoder.decode(head)
        start = pending.find("<sheetData")
        end = pending.find(">", start)
        if pending[end - 1] == "/":  # <sheetData/>: no rows
            return
        pending = pending[end + 1:]
        while chunk := f.read(_CHUNK * 4):
            pending += decoder.decode(chunk)
            cut = pending.rfind("</row>") + 6
            if cut > 6:
                yield from self._piece(pending[:cut])
                pending = pending[cut:]
        pending += decoder.decode(b"", final=True)
        tail = pending.find("</sheetData>")
        if tail < 0:
            raise ValueError("the sheet ends before </sheetData>")
        yield from self._piece(pending[:tail])

    def _piece(self, text: str) -> Iterator[tuple[int, tuple[Any, ...]]]:
        if "<!" in text or "<?" in text or ("'" in text and re.search(r"=\s*'", text)):
            yield from self._by_expat(text)
            return
        width, kinds, columns = self.width, self.kinds, self.columns
        row: list[Any] | None = None
        col = 0
        for tag, letters, rest, v, inline, other in _TOKEN.findall(text):
            if tag:
                if row is not None:
                    yield self.r, tuple(row)
                number = _ROW_NUMBER.search(tag)
                self.r = int(number.group(1)) if number else self.r + 1
                row, col = [None] * width, 0
                continue
            kind = kinds.get(rest) or self._kind(rest)
            col = (columns.get(letters) or columns.setdefault(letters, _column(letters))
                   if letters else kind[0] or col + 1)
            if col > width or row is None:
                continue
            t = kind[1]
            if inline and t == "inlineStr":
                row[col - 1] = inline if "&" not in inline else _unescape(inline)
            elif v and t == "s":
                row[col - 1] = self.strings[int(v)]
            elif v and t == "n" and kind[2] not in self.dates:
                row[col - 1] = _number(v)
            elif not (v or inline or other):
                row[col - 1] = "" if t == "str" else None
            else:
                content = other or (f"<v>{v}</v>" if v else f"<is><t>{inline}</t></is>")
                row[col - 1] = self._value(t, kind[2], content)
        if row is not None:
            yield self.r, tuple(row)

    def _by_expat(self, xml: str) -> Iterator[tuple[int, tuple[Any, ...]]]:
        slow = self.slow
        slow.r = self.r
        p = expat.ParserCreate(namespace_separator=" ")
        p.buffer_text = True
        p.StartElementHandler, p.EndElementHandler = slow.start, slow.end
        p.CharacterDataHandler = slow.data
        p.Parse(f'<sheetData xmlns="{_MAIN}">{xml}</sheetData>'.encode(), True)
        self.r = slow.r
        yield from slow.done
        slow.done.clear()

    def _kind(self, rest: str) -> tuple[int, str, int]:
        """(column from an ``r`` not first, or 0; type; style) of a cell's attributes."""
        a = dict(_ATTR.findall(rest))
        ref = a.get("r")
        kind = (_column(ref) if ref else 0, a.get("t", "n"), int(a.get("s") or 0))
        if ref is None and len(self.kinds) < 10_000:
            self.kinds[rest] = kind
        return kind

    def _value(self, kind: str, style: int, content: str) -> Any:
        """As ``_Rows.value`` (phonetic runs of an inline string left out, as in the shared
        strings)."""
        if "<f" in content and (f := _F.search(content)) is not None:
            return "=" + _unescape(f.group(1) or "")
        if kind == "inlineStr":
            if "<rPh" in content:
                content = _RPH.sub("", content)
            return "".join(_unescape(t) for t in _T.findall(content)) or None
        v = _V.search(content) if content else None
        text = _unescape(v.group(1) or "") if v else ""
        if kind == "str":
            return text
        return typed(text, kind, self.strings, style in self.dates)
