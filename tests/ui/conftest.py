"""Fixtures of the till's UI tests: the Chinese Qt application and shown, active windows.

Windows are shown and made active (offscreen) so that shortcuts and focus behave as on a real
screen. Core calls run on a thread pool; ``settle`` waits until every one has come back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from pos_member.permissions import Clerk
from tests.factories import Till
from tests.sync import harness
from ui.app import make_qt_app
from ui.i18n import install_language
from ui.sync_worker import BackoffPolicy, SyncState, SyncWorker
from ui.till import TillWindow


@pytest.fixture
def zh_app(qapp: QApplication) -> Iterator[QApplication]:
    """The application as the till starts it in China: Chinese translator and stylesheet."""
    app = make_qt_app("zh_CN")
    yield app
    install_language("zh_CN")  # a test that switched language leaves none behind


def show_active(qtbot: QtBot, widget: QWidget) -> None:
    widget.show()
    widget.activateWindow()
    qtbot.waitUntil(widget.isActiveWindow)


def settle(qtbot: QtBot, window: TillWindow) -> None:
    """Waits until every core call the window started has come back to the GUI thread."""
    qtbot.waitUntil(lambda: not window.ops.busy())


D = TypeVar("D")


def open_dialog(qtbot: QtBot, window: TillWindow, key: Qt.Key, kind: type[D],
                modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> D:
    """Presses ``key`` on the till window and returns the ``kind`` dialog it opened, active."""
    qtbot.keyClick(window, key, modifier)
    qtbot.waitUntil(lambda: isinstance(window.dialog, kind))
    qtbot.waitUntil(lambda: window.dialog.isActiveWindow())  # type: ignore[union-attr]
    dialog = window.dialog
    assert isinstance(dialog, kind)
    return dialog


@pytest.fixture
def open_till(qtbot: QtBot, zh_app: QApplication, till: Till) -> Callable[[Clerk], TillWindow]:
    def open_for(clerk: Clerk) -> TillWindow:
        window = TillWindow(app=till.app, clerk=clerk)
        qtbot.addWidget(window)
        show_active(qtbot, window)
        settle(qtbot, window)
        return window

    return open_for


@pytest.fixture
def window(open_till: Callable[[Clerk], TillWindow], till: Till) -> TillWindow:
    """The till screen, a cashier logged in."""
    return open_till(till.cashier)


def confirm(qtbot: QtBot, dialog: QWidget) -> None:
    """Confirms the money action ``dialog`` asked about (``ui.confirm``): Ctrl+Enter on the
    confirmation, as a clerk must do deliberately."""
    qtbot.waitUntil(lambda: getattr(dialog, "confirming", None) is not None)
    asking = dialog.confirming  # type: ignore[attr-defined]
    qtbot.waitUntil(asking.isActiveWindow)
    qtbot.keyClick(asking.focusWidget() or asking, Qt.Key.Key_Return,
                   Qt.KeyboardModifier.ControlModifier)


@pytest.fixture
def central(tmp_path: Path) -> Iterator[harness.Central]:
    central = harness.Central(f"sqlite:///{tmp_path / 'server.sqlite'}")  # stores 1 and 2
    yield central
    central.stop()


@pytest.fixture
def stores(tmp_path: Path,
           central: harness.Central) -> Iterator[tuple[harness.Till, harness.Till]]:
    """Till 1 ("here") and till 2 ("there") of two stores, enrolled with one HQ."""
    here = harness.enrolled_till(central, tmp_path / "here.sqlite", 1)
    there = harness.enrolled_till(central, tmp_path / "there.sqlite", 2)
    yield here, there
    here.close()
    there.close()


@contextmanager
def online_window(qtbot: QtBot, till: harness.Till) -> Iterator[TillWindow]:
    """``till``'s window with its sync worker running (quick retries), once it is online; the
    worker stops after the block."""
    worker = SyncWorker(till.app, lambda: till.keystore, interval=3600,
                        policy=BackoffPolicy(base=0.05, cap=0.2, floor=0.01))
    window = TillWindow(app=till.app, clerk=till.clerk, sync=worker)
    qtbot.addWidget(window)
    show_active(qtbot, window)
    worker.start()
    try:
        qtbot.waitUntil(lambda: window.sync_status().state is SyncState.ONLINE, timeout=15_000)
        yield window
    finally:
        assert worker.stop()
