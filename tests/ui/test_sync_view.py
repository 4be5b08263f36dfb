"""What the status bar and the closing report say, in Chinese, without a display."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from PySide6.QtWidgets import QApplication

from pos_member.clock import DEFAULT_TZ
from pos_member.services.day_report import DaySummary, GuideCount
from pos_member.services.reidentity import Reidentity
from sync.engine import DayReport, SyncReport
from ui.sync_view import report_view, status_line
from ui.sync_worker import SyncState, SyncStatus

pytestmark = pytest.mark.usefixtures("zh_app")

AT = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
LOCAL = AT.astimezone(DEFAULT_TZ)  # the store's time (status_line's default zone)
TODAY = LOCAL.date()


def test_online_shows_the_pending_count_and_the_last_sync_in_green() -> None:
    line = status_line(SyncStatus(SyncState.ONLINE, 3, AT), today=TODAY)
    assert line.text == f"同步：在线 · 待上传 3 条 · 上次 {LOCAL:%H:%M}"
    assert line.kind == "online"


def test_offline_with_events_waiting_shows_the_next_retry_in_amber() -> None:
    line = status_line(SyncStatus(SyncState.OFFLINE, 2, None, AT, "无法连接"), today=TODAY)
    assert line.text == f"离线，2 条待上传（下次重试 {LOCAL:%H:%M:%S}）"
    assert line.kind == "offline"
    assert line.tooltip == "无法连接"


def test_offline_with_nothing_waiting_is_not_amber() -> None:
    assert status_line(SyncStatus(SyncState.OFFLINE, 0, None, AT), today=TODAY).kind == "idle"


def test_a_till_that_is_not_enrolled_says_so() -> None:
    assert status_line(SyncStatus(SyncState.NOT_ENROLLED)).text == "未注册到总部"


def test_a_last_sync_on_another_day_shows_its_date() -> None:
    line = status_line(SyncStatus(SyncState.ONLINE, 0, AT), today=date(2030, 1, 1))
    assert f"上次 {LOCAL:%m-%d %H:%M}" in line.text


def day_report(*, pending: int, error: str | None = None) -> DayReport:
    summary = DaySummary(TODAY, (GuideCount("g1", "张导购", 3), GuideCount(None, None, 1)), 9)
    sync = None if error else SyncReport(4, 1, 0, pending, 6, 2, 10, AT)
    return DayReport("一号店", summary, pending, sync, error)


def test_the_report_lists_registrations_per_guide() -> None:
    rows = dict(report_view(day_report(pending=0)).rows)
    assert rows["新注册会员"] == "4"
    assert rows["    张导购"] == "3"
    assert rows["    无导购"] == "1"
    assert rows["已上传事件"] == "新上传 4 条，总部已有 1 条"


def test_a_report_with_everything_acknowledged_says_the_day_is_closed() -> None:
    view = report_view(day_report(pending=0))
    assert view.ok and view.alert_row == -1
    assert view.verdict == "日结完成：全部事件已保存到总部。"


def test_a_report_with_unacknowledged_events_says_how_many_and_why() -> None:
    view = report_view(day_report(pending=2, error="无法连接总部服务器"))
    assert not view.ok
    assert view.verdict.startswith("日结未完成：2 条事件总部尚未确认。")
    assert view.verdict.endswith("无法连接总部服务器")
    assert view.rows[view.alert_row] == ("总部未确认", "2")


def test_the_report_title_names_the_day_and_the_store(qapp: QApplication) -> None:
    assert report_view(day_report(pending=0)).title == f"日结报表 {TODAY.isoformat()} — 一号店"


def test_held_changes_from_head_office_show_their_count_in_amber() -> None:
    line = status_line(SyncStatus(SyncState.ONLINE, 0, AT, quarantined=2), today=TODAY)
    assert line.text.endswith("总部变更 2 条暂存")
    assert line.kind == "offline"
    assert "每次更新后会重试" in line.tooltip


def test_a_report_with_held_changes_is_not_closed_and_says_what_to_do() -> None:
    report = replace(day_report(pending=0), quarantined=3)
    view = report_view(report)
    assert not view.ok
    assert view.rows[view.alert_row] == ("暂存未应用的变更", "3")
    assert view.verdict.startswith("未日结：总部的 3 条变更无法在本机应用。")


def test_a_till_that_took_a_new_identity_says_so_in_one_line() -> None:
    notice = Reidentity("fork", 1, 2, moved=3, stored=0, renumbered=1)
    line = status_line(SyncStatus(SyncState.ONLINE, 0, AT, notice=notice), today=TODAY)
    assert line.kind == "online"
    assert "本机现为 2 号收银台（原 1 号）" in line.text
    assert "3 条未上传事件" in line.text and "1 个会员号已更改" in line.text
