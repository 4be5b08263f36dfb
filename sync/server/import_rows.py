"""The member import's file (issue 20): the Excel template, reading it safely, and each row's
validation. Pure: no database (``members_import`` writes what this accepts).

The template (``docs/examples/members-import.xlsx``, :func:`write_template`) has a sheet
``会员`` (the data, headers in row 1: ``COLUMNS``) and a sheet ``说明`` (instructions in
Chinese). A file is refused whole, with a clear message (``ImportFileRefused``), when it is
not an .xlsx, lacks the sheet or a header, has a formula or a merged cell in the data sheet,
or has more than ``MAX_ROWS`` rows. A bad row is rejected alone, with its reason (the report:
``write_report``): a phone that is not a mainland mobile (full-width digits, spaces, a leading
apostrophe and ``+86`` are accepted; a phone stored as a number is read back exactly, but one
in scientific notation that lost digits is refused), a date that is not a date, a tier the
rules do not have, an amount that is not a whole number of fen, 0 or more.
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from pos_member.errors import InvalidPhone
from pos_member.phone import normalise_phone

SHEET = "会员"
HELP_SHEET = "说明"
REPORT_SHEET = "未导入"
MAX_ROWS = 200_000  # one file; split a larger export of the old system
MAX_BYTES = 64 * 1024 * 1024
# (header, key, required)
COLUMNS = (
    ("手机号", "phone", True),
    ("姓名", "name", False),
    ("性别", "gender", False),
    ("生日", "birthday", False),
    ("注册日期", "registered", True),
    ("等级", "tier", False),
    ("积分", "points", False),
    ("积分到期日", "points_expiry", False),
    ("储值本金(分)", "principal_fen", False),
    ("储值赠送(分)", "bonus_fen", False),
    ("标签", "tags", False),
    ("营销同意", "marketing", False),
    ("旧系统会员号", "legacy_id", False),
)
HEADERS = tuple(h for h, _, _ in COLUMNS)
MAX_FEN = 100_000_000  # ¥1,000,000 on one member: more is a mistake in the file
MAX_POINTS = 100_000_000
_YES = {"是", "y", "yes", "1", "true", "同意"}
_NO = {"", "否", "n", "no", "0", "false", "不同意"}
_GENDER = {"男": "M", "m": "M", "女": "F", "f": "F", "": None}
_SCIENTIFIC = re.compile(r"^\d(\.\d+)?e\+?\d+$", re.IGNORECASE)
_EXCEL_EPOCH = date(1899, 12, 30)
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_KEYS = tuple(k for _, k, _ in COLUMNS)
_TAG_SPLIT = re.compile(r"[,，、;；\s]+")


class ImportFileRefused(Exception):
    """The whole file is refused; nothing is written. ``text`` says why, in Chinese for HQ's
    staff and in English after it."""

    def __init__(self, zh: str, en: str) -> None:
        self.zh, self.en = zh, en
        super().__init__(f"{zh} ({en})")


@dataclass(frozen=True, slots=True)
class ImportRow:
    """A valid row: the phone normalised; dates as dates; money in fen; ``line`` its row in
    the sheet."""

    line: int
    phone: str
    name: str | None
    gender: str | None
    birthday: date | None
    registered: datetime
    tier: str | None
    points: int
    points_expiry: date | None
    principal_fen: int
    bonus_fen: int
    tags: tuple[str, ...]
    marketing: bool
    legacy_id: str | None


@dataclass(frozen=True, slots=True)
class Rejected:
    line: int
    values: tuple[Any, ...]
    reason: str


class RowError(ValueError):
    pass


# -- the file ---------------------------------------------------------------------------------


def open_rows(path: Path) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """The data sheet's rows after the header, as (row number, values); the checks that refuse
    the whole file run before the first row is given. Read with ``xlsx_stream`` (openpyxl's
    reader alone took longer than the import's target on 100,000 rows)."""
    from sync.server.xlsx_stream import XlsxError, read_sheet

    _check_container(path)
    try:
        z = zipfile.ZipFile(path)
        sheet_xml = _data_sheet_xml(z)
    except Exception as e:  # a damaged zip raises many kinds
        raise ImportFileRefused("文件无法打开，不是有效的 Excel 文件",
                                f"not a readable .xlsx: {type(e).__name__}") from None
    try:
        if sheet_xml is None:
            raise ImportFileRefused(f"缺少工作表“{SHEET}”：请使用导入模板",
                                    f"no sheet {SHEET!r}: use the template")
        rows = read_sheet(z, sheet_xml, len(HEADERS))
        first = next(rows, None)
        header = first[1] if first is not None and first[0] == 1 else ()
        got = tuple(str(v).strip() if v is not None else "" for v in header)
        if got[:len(HEADERS)] != HEADERS:
            raise ImportFileRefused("表头与导入模板不一致：请使用导入模板",
                                    f"the header is not the template's: {got[:len(HEADERS)]}")
        for line, cells in rows:
            if line - 1 > MAX_ROWS:
                raise ImportFileRefused(f"行数超过上限 {MAX_ROWS}：请分文件导入",
                                        f"more than {MAX_ROWS} rows")
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in cells):
                continue
            for v in cells:
                if isinstance(v, str) and v.startswith("="):
                    raise ImportFileRefused(f"第 {line} 行含有公式：请粘贴为数值后再导入",
                                            f"row {line} holds a formula")
            yield line, cells
    except (XlsxError, KeyError, zipfile.BadZipFile) as e:
        raise ImportFileRefused("文件无法打开，不是有效的 Excel 文件",
                                f"not a readable .xlsx: {type(e).__name__}") from None
    finally:
        z.close()


def _check_container(path: Path) -> None:
    """Refuses what is not an .xlsx, too big, too many rows by its declared size, or with
    merged cells in the data sheet (read from the sheet's XML: the read-only reader does not
    keep them)."""
    try:
        size = path.stat().st_size
    except OSError as e:
        raise ImportFileRefused("文件无法读取", f"cannot read the file: {e}") from None
    if size > MAX_BYTES:
        raise ImportFileRefused("文件过大：请分文件导入", f"over {MAX_BYTES} bytes")
    if not zipfile.is_zipfile(path):
        raise ImportFileRefused("不是 .xlsx 文件（请在 Excel 中另存为 .xlsx）",
                                "not an .xlsx file")
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        if "xl/workbook.xml" not in names:
            raise ImportFileRefused("不是 .xlsx 文件", "no workbook in the file")
        total = sum(i.file_size for i in z.infolist())
        if total > 16 * MAX_BYTES:
            raise ImportFileRefused("文件解压后过大：请分文件导入", "too large unpacked")
        sheet_xml = _data_sheet_xml(z)
        if sheet_xml is not None:
            with z.open(sheet_xml) as f:
                head = f.read(4096).decode("utf-8", "replace")
                dim = re.search(r'<dimension ref="[A-Z]+\d+:[A-Z]+(\d+)"', head)
                if dim and int(dim.group(1)) - 1 > MAX_ROWS:
                    raise ImportFileRefused(f"行数超过上限 {MAX_ROWS}：请分文件导入",
                                            f"more than {MAX_ROWS} rows")
            if _has_merged_cells(z, sheet_xml):
                raise ImportFileRefused("工作表含有合并单元格：请取消合并后再导入",
                                        "the data sheet has merged cells")


def _data_sheet_xml(z: zipfile.ZipFile) -> str | None:
    book = z.read("xl/workbook.xml").decode("utf-8", "replace")
    rels = z.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace") \
        if "xl/_rels/workbook.xml.rels" in z.namelist() else ""
    m = re.search(r'<sheet[^>]*name="' + SHEET + r'"[^>]*r:id="([^"]+)"', book)
    if not m:
        return None
    t = re.search(r'Id="' + re.escape(m.group(1)) + r'"[^>]*Target="([^"]+)"', rels) or \
        re.search(r'Target="([^"]+)"[^>]*Id="' + re.escape(m.group(1)) + '"', rels)
    if not t:
        return None
    target = t.group(1).lstrip("/")
    return target if target.startswith("xl/") else f"xl/{target}"


def _has_merged_cells(z: zipfile.ZipFile, name: str) -> bool:
    """Looks for ``<mergeCell`` in the sheet's XML, reading it in pieces (a big sheet is never
    held whole)."""
    tail = b""
    with z.open(name) as f:
        while chunk := f.read(1 << 20):
            if b"<mergeCell " in tail + chunk:
                return True
            tail = chunk[-32:]
    return False


# -- a row ------------------------------------------------------------------------------------


def parse_row(line: int, cells: tuple[Any, ...], tiers: Mapping[str, str],
              today: date) -> ImportRow:
    """A valid row, or ``RowError`` with the reason (Chinese: it goes into HQ's report)."""
    v = dict(zip(_KEYS, cells, strict=True))
    registered = parse_date(v["registered"], "注册日期")
    if registered is None:
        raise RowError("注册日期为空")
    if registered > today:
        raise RowError("注册日期晚于今天")
    birthday = parse_date(v["birthday"], "生日")
    if birthday is not None and not (date(1900, 1, 1) <= birthday <= today):
        raise RowError("生日不在合理范围内")
    points = parse_count(v["points"], "积分", MAX_POINTS)
    expiry = parse_date(v["points_expiry"], "积分到期日")
    if points and expiry is not None and expiry <= today:
        expiry = None  # already expired in the old system: the points are not brought over
        points = 0
    tier_text = _text(v["tier"])
    tier = None
    if tier_text:
        tier = tiers.get(tier_text) or tiers.get(tier_text.lower())
        if tier is None:
            raise RowError(f"等级“{tier_text}”不在现行规则中")
    gender_text = _text(v["gender"]).lower()
    if gender_text not in _GENDER:
        raise RowError(f"性别“{gender_text}”应为 男 或 女")
    marketing = _text(v["marketing"]).lower()
    if marketing not in _YES | _NO:
        raise RowError(f"营销同意“{marketing}”应为 是 或 否")
    name = _text(v["name"])[:40] or None
    tags = () if v["tags"] is None else tuple(
        t for t in _TAG_SPLIT.split(_text(v["tags"])) if t)[:10]
    return ImportRow(
        line=line, phone=parse_phone(v["phone"]), name=name, gender=_GENDER[gender_text],
        birthday=birthday, registered=datetime(registered.year, registered.month,
                                               registered.day, tzinfo=UTC),
        tier=tier, points=points, points_expiry=expiry,
        principal_fen=parse_count(v["principal_fen"], "储值本金(分)", MAX_FEN),
        bonus_fen=parse_count(v["bonus_fen"], "储值赠送(分)", MAX_FEN),
        tags=tags, marketing=marketing in _YES, legacy_id=_text(v["legacy_id"])[:40] or None)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    if not text.isascii():  # NFKC leaves ASCII as it is
        text = unicodedata.normalize("NFKC", text)
    return text.strip().lstrip("'").strip()


def parse_phone(value: Any) -> str:
    """A mainland mobile from a cell: text (full-width digits, spaces, apostrophe, ``+86``) or
    a number Excel kept exactly; scientific notation that lost digits is refused."""
    if isinstance(value, bool) or value is None:
        raise RowError("手机号为空")
    if isinstance(value, float):
        if not value.is_integer():
            raise RowError("手机号不是整数")
        value = int(value)
    text = _text(value)
    if _SCIENTIFIC.match(text):
        raise RowError("手机号是科学计数法（如 1.38E+10），位数已丢失：请把该列设为文本后重新导出")
    try:
        return normalise_phone(text)
    except InvalidPhone:
        raise RowError(f"手机号“{text[:20]}”不是 11 位大陆手机号") from None


def parse_date(value: Any, what: str) -> date | None:
    """A date cell: an Excel date, an Excel serial number, or ``YYYY-MM-DD`` (also ``/``, ``.``
    or 年月日, or ``YYYYMMDD``)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if type(value) is str and _ISO_DAY.fullmatch(value):  # the common case, checked below
        try:
            return date(int(value[:4]), int(value[5:7]), int(value[8:]))
        except ValueError:
            pass
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 10_000 < value < 80_000:  # an Excel serial date (1927–2118)
            return _EXCEL_EPOCH + timedelta(days=int(value))
        value = str(int(value))
    text = _text(value)
    text = re.sub(r"[年月/.]", "-", text).rstrip("日").strip()
    if re.fullmatch(r"\d{8}", text):
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
    try:
        if m:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        pass
    raise RowError(f"{what}“{text[:20]}”不是日期（应为 年-月-日）")


def parse_count(value: Any, what: str, limit: int) -> int:
    """A whole number 0..limit (fen, points): ``1200``, ``1,200``, ``1200.0``; not ``12.5``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return 0
    if type(value) is int and 0 <= value <= limit:  # the common case; the checks are below
        return value
    if isinstance(value, bool):
        raise RowError(f"{what}不是数字")
    try:
        number = Decimal(_text(value).replace(",", "").replace("，", ""))
    except InvalidOperation:
        raise RowError(f"{what}“{_text(value)[:20]}”不是数字") from None
    if number != number.to_integral_value():
        raise RowError(f"{what}须为整数（金额以分为单位）")
    if number < 0:
        raise RowError(f"{what}不能为负数")
    if number > limit:
        raise RowError(f"{what}超过上限 {limit}")
    return int(number)
