"""Exporting a filtered member list to .xlsx at HQ (issue 20): ``pos-member-server
export-members``. Phones and names are masked (138****5678, 王*明) unless the export is run
with ``--reveal BY`` (the HQ user who may see them): then they are in full and the export is
audited in ``hq_audit`` (who, when, the filters and how many members; never the data).
Read from HQ's cards (``member_cards``), balances and points; erased and merged-away members
are left out."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, insert, select

from pos_member.crypto import PiiCipher
from pos_member.events import GENDER_CTX, NAME_CTX, PHONE_CTX, unseal
from pos_member.phone import mask_name, mask_phone
from sync.server.context import ServerContext
from sync.server.errors import BadRequest
from sync.server.models import HqAudit, MemberBalance, MemberCardRow, MemberPoints, Store
from sync.server.xlsx_write import write_sheet

HEADERS = ("会员号", "手机号", "姓名", "性别", "等级", "门店", "注册日期", "积分", "储值余额(分)",
           "营销同意")
_CARDS = MemberCardRow.__table__
_STORES = Store.__table__


@dataclass(frozen=True)
class ExportFilter:
    store_number: int | None = None
    tier: str | None = None
    registered_from: date | None = None
    registered_to: date | None = None


def export_members(ctx: ServerContext, *, path: Path, filters: ExportFilter = ExportFilter(),
                   reveal_by: str | None = None) -> int:
    """Writes the members the filters select to ``path``; returns how many. Written with
    ``xlsx_stream`` (openpyxl's write-only writer alone took longer than the target).
    ``reveal_by``: who reveals, 1-100 printable characters (``BadRequest`` before anything is
    read: a revealed export names who asked in its audit)."""
    if reveal_by is not None:
        reveal_by = reveal_by.strip()
        if not reveal_by or len(reveal_by) > 100 or not reveal_by.isprintable():
            raise BadRequest(detail="--reveal names who reveals (1-100 printable characters)")
    stmt = (select(_CARDS.c.member_no, _CARDS.c.tier, _CARDS.c.profile, _STORES.c.name,
                   _STORES.c.number, MemberPoints.points, MemberBalance.balance_fen)
            .outerjoin(_STORES, _STORES.c.id == _CARDS.c.store_id)
            .outerjoin(MemberPoints, MemberPoints.member_id == _CARDS.c.member_id)
            .outerjoin(MemberBalance, MemberBalance.member_id == _CARDS.c.member_id)
            .where(_CARDS.c.status == "active").order_by(_CARDS.c.member_no))
    if filters.store_number is not None:
        stmt = stmt.where(_STORES.c.number == filters.store_number)
    if filters.tier is not None:
        stmt = stmt.where(_CARDS.c.tier == filters.tier)
    count = 0

    def rows(conn: Connection) -> Iterator[list[Any]]:
        nonlocal count
        yield list(HEADERS)
        cipher = PiiCipher(base64.b64decode(ctx.db.keys.data_key(conn)))
        for row in conn.execute(stmt.execution_options(yield_per=5_000)):
            p: dict[str, Any] = row.profile or {}
            registered = str(p.get("registered_at") or "")[:10]
            if not _in_range(registered, filters):
                continue
            phone = unseal(cipher, p.get("phone_enc"), context=PHONE_CTX) or ""
            name = unseal(cipher, p.get("name_enc"), context=NAME_CTX)
            gender = (unseal(cipher, p["gender_enc"], context=GENDER_CTX)
                      if p.get("gender_enc") else p.get("gender"))
            if reveal_by is None:
                phone, name = mask_phone(phone), mask_name(name)
            yield [row.member_no, phone, name or "", {"F": "女", "M": "男"}.get(
                gender or "", ""), row.tier, row.name or f"#{row.number}", registered,
                int(row.points or 0), int(row.balance_fen or 0),
                "是" if p.get("marketing_consent") else "否"]
            count += 1

    with ctx.db.read() as conn:
        write_sheet(path, "会员", rows(conn))
    if reveal_by is not None:
        with ctx.db.write() as conn:
            conn.execute(insert(HqAudit).values(
                at=ctx.clock.now(), actor=reveal_by, action="members.exported_revealed",
                detail={"filters": {k: str(v) for k, v in asdict(filters).items()
                                    if v is not None}, "members": count}))
    return count


def _in_range(registered: str, f: ExportFilter) -> bool:
    if f.registered_from is None and f.registered_to is None:
        return True
    try:
        day = datetime.fromisoformat(registered).date() if registered else None
    except ValueError:
        return False
    if day is None:
        return False
    return (f.registered_from is None or day >= f.registered_from) and (
        f.registered_to is None or day <= f.registered_to)
