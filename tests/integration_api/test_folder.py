"""The watched folder: files applied once, moved to done/ or to rejected/ with the reason;
temporary names never read; bad files change nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from integration_api.folder import FolderWatcher
from pos_member.integration.reports import pos_clerk
from tests.factories import Till
from tests.integration_api.conftest import sale_body

CSV_SALE = """record,txn_id,bill_no,time,amount_fen,member,guide,redeem_points,line,category,kind
sale,POS-C1,B-C1,2026-12-04T10:15:00+08:00,12800,{member},1101,0,,,
line,,,,6400,,,,1,shoes,
line,,,,6400,,,,2,socks,
tender,,,,12800,,,,,,cash
"""


@pytest.fixture
def watcher(till: Till, tmp_path: Path) -> FolderWatcher:
    clerk = pos_clerk(store_id=till.cashier.store_id, device_id=till.cashier.device_id)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    return FolderWatcher(inbox, uow=till.uow, clerk=clerk)


def drop(watcher: FolderWatcher, name: str, content: str | bytes) -> Path:
    """Written the documented way: a temporary name, then a rename."""
    tmp = watcher.inbox / f"{name}.tmp"
    tmp.write_bytes(content if isinstance(content, bytes) else content.encode())
    return tmp.rename(watcher.inbox / name)


def sale_json(txn: str, bill: str, **kw: object) -> str:
    return json.dumps({"kind": "sale", **sale_body(txn, bill, **kw)})  # type: ignore[arg-type]


def test_a_json_sale_is_applied_and_moved_to_done(watcher: FolderWatcher, till: Till) -> None:
    member = till.register()
    drop(watcher, "0001.json", sale_json("POS-1", "B-1", member=member.member_no))
    [outcome] = watcher.scan_once()
    assert outcome.applied and not outcome.repeated
    assert (watcher.inbox / "done" / "0001.json").exists()
    assert not (watcher.inbox / "0001.json").exists()
    assert till.table_counts()["pos_bills"] == 1


def test_a_csv_sale_is_applied_like_the_json_one(watcher: FolderWatcher, till: Till) -> None:
    member = till.register()
    drop(watcher, "0001.csv", CSV_SALE.format(member=member.member_no))
    [outcome] = watcher.scan_once()
    assert outcome.applied, outcome.reason
    assert till.table_counts()["sales"] == 1


def test_a_csv_refund_of_a_line(watcher: FolderWatcher, till: Till) -> None:
    drop(watcher, "0001.csv", CSV_SALE.format(member=""))
    drop(watcher, "0002.csv", "record,txn_id,bill_no,amount_fen,line\n"
                              "refund,POS-R1,B-C1,,\nline,,,6400,2\n")
    assert [o.applied for o in watcher.scan_once()] == [True, True]
    assert till.table_counts()["pos_refunds"] == 1


def test_a_file_seen_twice_applies_once(watcher: FolderWatcher, till: Till) -> None:
    drop(watcher, "a.json", sale_json("POS-1", "B-1"))
    watcher.scan_once()
    before = till.dump()
    drop(watcher, "a.json", sale_json("POS-1", "B-1"))  # the POS sends it again
    [outcome] = watcher.scan_once()
    assert outcome.applied and outcome.repeated
    assert till.dump() == before
    assert sorted(p.name for p in (watcher.inbox / "done").iterdir()) == ["a.2.json", "a.json"]


def test_a_half_written_file_under_its_temporary_name_is_never_read(
        watcher: FolderWatcher, till: Till) -> None:
    whole = sale_json("POS-1", "B-1")
    partial = watcher.inbox / "0001.json.tmp"
    partial.write_text(whole[: len(whole) // 2])
    (watcher.inbox / ".0002.json").write_text(whole[:10])  # a dot-file: also temporary
    before = till.dump()
    assert watcher.scan_once() == []
    assert partial.exists() and till.dump() == before
    partial.write_text(whole)
    partial.rename(watcher.inbox / "0001.json")
    assert [o.applied for o in watcher.scan_once()] == [True]


@pytest.mark.parametrize(("content", "reason"), [
    ('{"kind": "sale", "txn_id": "T", "bi', "file_malformed: The file cannot be read: not JSON"),
    (b"\xff\xfe\x00garbage", "file_malformed: The file cannot be read: not UTF-8"),
    ('{"kind": "coupon"}', "file_malformed"),
    ("record,txn_id\nvoid,T\n", "file_malformed"),
])
def test_a_malformed_file_is_rejected_with_its_reason_and_nothing_written(
        watcher: FolderWatcher, till: Till, content: str | bytes, reason: str) -> None:
    before = till.dump()
    drop(watcher, "bad.json" if "record" not in str(content) else "bad.csv", content)
    [outcome] = watcher.scan_once()
    assert not outcome.applied and outcome.reason is not None
    assert outcome.reason.startswith(reason)
    name = outcome.name
    assert (watcher.inbox / "rejected" / name).exists()
    note = (watcher.inbox / "rejected" / f"{name}.reason.txt").read_text(encoding="utf-8")
    assert note.startswith(reason)
    assert till.dump() == before


@pytest.mark.parametrize("content", [
    "[" * 30_000 + "]" * 30_000, '{"kind": "sale", "amount_fen": 1' + "0" * 5_000 + "}"],
    ids=["nested-too-deep", "number-too-long"])
def test_json_no_reader_takes_is_rejected_not_retried_for_ever(
        watcher: FolderWatcher, till: Till, content: str) -> None:
    """json's RecursionError and its ValueError for a number over 4,300 digits are no
    JSONDecodeError: the file stayed in the folder as a bug, tried again every second."""
    before = till.dump()
    drop(watcher, "deep.json", content)
    [outcome] = watcher.scan_once()
    assert outcome.reason is not None and outcome.reason.startswith("file_malformed")
    assert (watcher.inbox / "rejected" / "deep.json").exists()
    assert till.dump() == before


def test_a_file_over_the_limit_is_rejected_without_reading_it_whole(
        watcher: FolderWatcher, till: Till, monkeypatch: pytest.MonkeyPatch) -> None:
    from integration_api import files

    monkeypatch.setattr(files, "MAX_FILE", 1_000)
    monkeypatch.setattr("integration_api.folder.MAX_FILE", 1_000)
    seen: list[int] = []
    real = files.read_report

    def spy(name: str, data: bytes) -> object:
        seen.append(len(data))
        return real(name, data)

    monkeypatch.setattr("integration_api.folder.read_report", spy)
    drop(watcher, "big.json", b" " * 5_000_000 + sale_json("POS-1", "B-1").encode())
    [outcome] = watcher.scan_once()
    assert outcome.reason is not None and "over 1000 bytes" in outcome.reason
    assert seen == [1_001]


def test_amounts_that_are_not_whole_fen_are_rejected(watcher: FolderWatcher,
                                                     till: Till) -> None:
    before = till.dump()
    drop(watcher, "a.csv", CSV_SALE.format(member="").replace("12800", "128.00", 1))
    body = json.loads(sale_json("POS-2", "B-2"))
    body["amount_fen"] = 12800.5
    drop(watcher, "b.json", json.dumps(body))
    outcomes = watcher.scan_once()
    assert [o.applied for o in outcomes] == [False, False]
    assert all("amount_fen" in (o.reason or "") for o in outcomes)
    assert till.dump() == before


def test_a_sale_for_an_unknown_member_is_rejected(watcher: FolderWatcher, till: Till) -> None:
    before = till.dump()
    drop(watcher, "a.json", sale_json("POS-1", "B-1", member="00019900000001"))
    [outcome] = watcher.scan_once()
    assert outcome.reason is not None and outcome.reason.startswith("member_not_found")
    assert till.dump() == before


def test_a_refund_over_what_was_sold_is_rejected(watcher: FolderWatcher, till: Till) -> None:
    drop(watcher, "1.json", sale_json("POS-1", "B-1", amount=1_000))
    watcher.scan_once()
    before = till.dump()
    drop(watcher, "2.json", json.dumps({"kind": "refund", "txn_id": "R-1", "bill_no": "B-1",
                                        "amount_fen": 1_001}))
    [outcome] = watcher.scan_once()
    assert outcome.reason is not None and outcome.reason.startswith("refund_too_large")
    assert till.dump() == before


@pytest.mark.parametrize("kind", ["link", "file"])
@pytest.mark.parametrize("where", ["done", "rejected"])
def test_done_or_rejected_as_a_link_elsewhere_moves_nothing_there(
        watcher: FolderWatcher, till: Till, tmp_path: Path, where: str, kind: str) -> None:
    """Whoever can write the drop folder could point done/ anywhere the till may write: the
    till moved the POS's files (and wrote reasons) there."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    if kind == "link":
        (watcher.inbox / where).symlink_to(elsewhere, target_is_directory=True)
    else:
        (watcher.inbox / where).write_text("a file")
    before = till.dump()
    drop(watcher, "a.json", sale_json("POS-1", "B-1"))
    drop(watcher, "b.json", "not json")
    assert watcher.scan_once() == []
    assert list(elsewhere.iterdir()) == [] and till.dump() == before
    assert (watcher.inbox / "a.json").exists() and (watcher.inbox / "b.json").exists()


def test_a_failure_of_the_tills_own_leaves_the_file_for_the_next_scan(
        watcher: FolderWatcher, till: Till, monkeypatch: pytest.MonkeyPatch) -> None:
    from pos_member.errors import StorageFull
    from pos_member.integration import reports

    def disk_full(*args: object, **kw: object) -> None:
        raise StorageFull()

    drop(watcher, "a.json", sale_json("POS-1", "B-1"))
    with monkeypatch.context() as m:
        m.setattr(reports, "report_sale", disk_full)
        assert watcher.scan_once() == []
    assert (watcher.inbox / "a.json").exists() and not (watcher.inbox / "rejected").exists()
    assert [o.applied for o in watcher.scan_once()] == [True]  # the disk has room again


def test_a_file_that_trips_a_bug_stays_and_the_files_after_it_still_apply(
        watcher: FolderWatcher, till: Till, monkeypatch: pytest.MonkeyPatch) -> None:
    import integration_api.folder as folder

    real = folder.read_report

    def trips_on_a(name: str, data: bytes) -> object:
        if name == "a.json":
            raise RuntimeError("a bug")
        return real(name, data)

    monkeypatch.setattr(folder, "read_report", trips_on_a)
    drop(watcher, "a.json", sale_json("POS-1", "B-1"))
    drop(watcher, "b.json", sale_json("POS-2", "B-2"))
    assert [(o.name, o.applied) for o in watcher.scan_once()] == [("b.json", True)]
    assert (watcher.inbox / "a.json").exists()
