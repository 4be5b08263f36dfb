"""The member import's workbooks (issue 20): the published template with its instructions in
Chinese (``docs/examples/members-import.xlsx``), and the report of rejected rows, written as a
new sheet beside the data in a copy of the imported file."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pos_member.spreadsheet import cell_value
from sync.server.import_rows import (
    COLUMNS,
    HEADERS,
    HELP_SHEET,
    MAX_ROWS,
    REPORT_SHEET,
    SHEET,
    Rejected,
)

INSTRUCTIONS = (
    "会员导入模板使用说明",
    "",
    f"1. 在“{SHEET}”工作表中每行填写一位会员，第一行表头不要改动、不要删除列。",
    "2. 手机号：11 位大陆手机号。请把该列设为“文本”格式；若已是数字格式，请确认没有显示为科学计数法"
    "（如 1.38E+10），否则位数会丢失，该行将被拒绝。全角数字、空格、前导撇号（'）和 +86 均可识别。",
    "3. 注册日期（必填）、生日、积分到期日：格式为 年-月-日，例如 2019-03-14，"
    "也可用 Excel 日期格式。",
    "4. 等级：填写现行规则中的等级名称（普通、银卡、金卡、钻石）或代码；留空为按消费计算。",
    "5. 积分：整数。导入后作为一笔期初积分，按“积分到期日”到期；到期日已过的积分不导入。",
    "6. 储值本金(分)、储值赠送(分)：以“分”为单位的整数，例如 100 元填 10000；不能为负数或小数。",
    "7. 性别：男 / 女 / 留空；营销同意：是 / 否 / 留空（留空为否）；标签以逗号分隔。",
    "8. 同一文件中手机号重复：保留注册日期较早的一行，其余行的积分、储值并入该会员。",
    "9. 手机号已是本连锁会员：不新建会员，积分作为一笔期初积分、储值作为期初本金/赠送并入该会员。",
    "10. 不要使用公式、合并单元格；单个文件最多 " + f"{MAX_ROWS:,}" + " 行，超出请分文件导入。",
    "11. 导入在总部执行：pos-member-server import-members 文件.xlsx --store 门店编号。"
    "同一文件重复导入不会重复写入；中断后再次执行会从中断处继续。",
    f"12. 未通过校验的行不会导入，原因写在报告文件的“{REPORT_SHEET}”工作表中。",
    "13. 导入的会员下次到店时需重新确认隐私政策。",
)
EXAMPLE = ("13812345678", "王小明", "男", "1990-03-14", "2019-06-01", "银卡", 1200,
           "2027-12-31", 50000, 5000, "老客户,VIP", "是", "OLD-000123")


def write_template(path: Path) -> None:
    """The template: the data sheet (headers, one example row, the phone column as text) and
    the instructions sheet."""
    import openpyxl
    from openpyxl.styles import Font

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = SHEET
    sheet.append(list(HEADERS))
    sheet.append(list(EXAMPLE))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in sheet.iter_rows(min_row=2, max_row=MAX_ROWS + 1, min_col=1, max_col=1):
        row[0].number_format = "@"  # text: a phone never turns into 1.38E+10
        break
    sheet.column_dimensions["A"].width = 16
    for col in "BCDEFGHIJKLM":
        sheet.column_dimensions[col].width = 14
    help_sheet = book.create_sheet(HELP_SHEET)
    for line in INSTRUCTIONS:
        help_sheet.append([line])
    help_sheet.column_dimensions["A"].width = 120
    for i, (_, _, required) in enumerate(COLUMNS):
        if required:
            sheet.cell(row=1, column=i + 1).font = Font(bold=True, color="C00000")
    book.save(path)


def write_report(source: Path, target: Path, rejected: Sequence[Rejected]) -> None:
    """A copy of the imported data with a sheet of every rejected row: its row number in the
    data sheet, its values and the reason (read-only copy of the data, streamed)."""
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    out = book.create_sheet(REPORT_SHEET)
    out.append(["行号", "原因", *HEADERS])
    for r in rejected:
        out.append([r.line, r.reason, *(cell_value(v) for v in r.values)])
    data = book.create_sheet(SHEET)
    src = openpyxl.load_workbook(source, read_only=True, data_only=True)
    try:
        if SHEET in src.sheetnames:
            for values in src[SHEET].iter_rows(values_only=True):
                data.append([cell_value(v) for v in values])
    finally:
        src.close()
    book.save(target)
