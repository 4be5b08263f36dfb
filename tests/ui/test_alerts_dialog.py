"""Alerts for the manager (F9): a burst of registrations on this till is waiting there."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from pos_member.errors import RegistrationRateLimited
from pos_member.permissions import Clerk
from tests.factories import Till
from tests.ui.conftest import settle
from ui.alerts_dialog import FlagsDialog
from ui.till import TillWindow


@pytest.fixture
def burst(till: Till) -> None:
    """One registration over the till's limit: refused, and flagged for the manager."""
    for _ in range(till.uow.rules.registration.rate_limit_count):
        till.register()
        till.clock.advance(seconds=10)
    with pytest.raises(RegistrationRateLimited):
        till.register()


def open_alerts(qtbot: QtBot, window: TillWindow) -> FlagsDialog:
    qtbot.keyClick(window, Qt.Key.Key_F9)
    dialog = window.dialog
    assert isinstance(dialog, FlagsDialog)
    settle(qtbot, window)
    return dialog


@pytest.mark.usefixtures("burst")
def test_the_manager_is_told_of_open_alerts_on_opening_the_till(
    open_till: Callable[[Clerk], TillWindow], till: Till
) -> None:
    window = open_till(till.manager)
    assert window.banner.isVisible()
    assert window.banner.text() == "有 1 条待处理提醒，请按 F9 查看。"


@pytest.mark.usefixtures("burst")
def test_f9_lists_the_registration_burst(
    qtbot: QtBot, open_till: Callable[[Clerk], TillWindow], till: Till
) -> None:
    dialog = open_alerts(qtbot, open_till(till.manager))
    assert dialog.list.count() == 1
    text = dialog.list.item(0).text()
    assert "注册过于频繁" in text
    assert till.cashier.name in text
    assert dialog.handle.isEnabled()


def test_f9_with_no_alerts_says_so(qtbot: QtBot, open_till: Callable[[Clerk], TillWindow],
                                   till: Till) -> None:
    dialog = open_alerts(qtbot, open_till(till.manager))
    assert dialog.list.count() == 0
    assert dialog.empty.text() == "没有待处理的提醒。"
    assert not dialog.handle.isEnabled()


@pytest.mark.usefixtures("burst")
def test_a_cashier_pressing_f9_is_told_no(qtbot: QtBot, window: TillWindow, till: Till) -> None:
    before = till.table_counts()
    qtbot.keyClick(window, Qt.Key.Key_F9)
    assert window.dialog is None
    assert "无权处理提醒" in window.banner.text()
    assert till.table_counts() == before


@pytest.mark.usefixtures("burst")
def test_a_cashier_is_not_told_of_alerts(window: TillWindow) -> None:
    assert not window.banner.isVisible()
    assert window.buttons["alerts"].isHidden()


class _Opened(QObject):
    """Receives the URLs the till asks the system to open (QDesktopServices' handler)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[QUrl] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url)


def test_the_manager_opens_the_log_folder_for_support(
    qtbot: QtBot, open_till: Callable[[Clerk], TillWindow], till: Till, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("POS_MEMBER_LOG_DIR", str(tmp_path / "日志"))
    opened = _Opened()
    QDesktopServices.setUrlHandler("file", opened, "open")
    try:
        dialog = open_alerts(qtbot, open_till(till.manager))
        button = dialog.findChild(QPushButton, "openLogs")
        assert button is not None and button.isVisible()
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: bool(opened.urls))
    finally:
        QDesktopServices.unsetUrlHandler("file")
    assert opened.urls == [QUrl.fromLocalFile(str(tmp_path / "日志"))]
    assert (tmp_path / "日志").is_dir()
