"""The login window: staff number + PIN → the till; refusals say why in Chinese."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from pos_member.bootstrap import App
from pos_member.errors import KeyStoreUnavailable
from tests.factories import PINS, Till
from tests.ui.conftest import show_active
from tests.ui.dbcheck import added, staff_code
from ui.app import TillController, run_till

pytestmark = pytest.mark.usefixtures("zh_app")


@pytest.fixture
def controller(qtbot: QtBot, till: Till, zh_app: QApplication) -> Iterator[TillController]:
    assert till.app.identity is not None
    c = TillController(lambda: till.app, till.app.identity.store_name, "zh_CN")
    qtbot.addWidget(c.login)
    show_active(qtbot, c.login)
    c.start()
    qtbot.waitUntil(lambda: c.app is not None)
    yield c
    c.login.ops.wait()
    c.logout()  # closes the till window and stops its sync thread


def log_in(qtbot: QtBot, c: TillController, code: str, pin: str) -> None:
    """Types like a clerk: staff number, Enter, PIN, Enter."""
    qtbot.keyClicks(c.login.code, code)
    qtbot.keyClick(c.login.code, Qt.Key.Key_Return)
    qtbot.keyClicks(c.login.pin, pin)
    qtbot.keyClick(c.login.pin, Qt.Key.Key_Return)


def wait_refused(qtbot: QtBot, c: TillController) -> None:
    qtbot.waitUntil(lambda: c.login.error.isVisible() and not c.login.ops.busy())


def test_the_login_window_shows_the_store_and_speaks_chinese(controller: TillController) -> None:
    assert controller.login.store.text() == "门店1"
    assert controller.login.windowTitle() == "会员收银 — 登录"


def test_the_right_staff_number_and_pin_log_the_clerk_in(
    qtbot: QtBot, controller: TillController, till: Till
) -> None:
    with qtbot.waitSignal(controller.login.logged_in) as got:
        log_in(qtbot, controller, staff_code(till, till.cashier.staff_id),
               PINS[till.cashier.role])
    assert got.args[0] == till.cashier


def test_logging_in_opens_the_till_for_that_clerk(
    qtbot: QtBot, controller: TillController, till: Till
) -> None:
    log_in(qtbot, controller, staff_code(till, till.manager.staff_id), PINS[till.manager.role])
    qtbot.waitUntil(lambda: controller.till is not None and controller.till.isVisible())
    assert controller.till is not None
    assert controller.till.clerk == till.manager
    assert not controller.login.isVisible()


def test_a_wrong_pin_is_refused_in_chinese(qtbot: QtBot, controller: TillController,
                                           till: Till) -> None:
    with qtbot.assertNotEmitted(controller.login.logged_in):
        log_in(qtbot, controller, staff_code(till, till.cashier.staff_id), "000000")
        wait_refused(qtbot, controller)
    assert "工号或密码错误" in controller.login.error.text()


def test_a_wrong_pin_clears_the_pin_field_and_puts_the_cursor_there(
    qtbot: QtBot, controller: TillController, till: Till
) -> None:
    log_in(qtbot, controller, staff_code(till, till.cashier.staff_id), "000000")
    wait_refused(qtbot, controller)
    assert controller.login.pin.text() == ""
    assert controller.login.pin.hasFocus()


def test_a_wrong_pin_only_records_the_failed_attempt(
    qtbot: QtBot, controller: TillController, till: Till
) -> None:
    before = till.table_counts()
    log_in(qtbot, controller, staff_code(till, till.cashier.staff_id), "000000")
    wait_refused(qtbot, controller)
    assert added(before, till.table_counts()) == {"audit_log": 1}


def test_an_unknown_staff_number_is_refused_the_same_way(
    qtbot: QtBot, controller: TillController, till: Till
) -> None:
    before = till.table_counts()
    log_in(qtbot, controller, "7777", PINS[till.cashier.role])
    wait_refused(qtbot, controller)
    assert "工号或密码错误" in controller.login.error.text()
    assert till.table_counts() == before


@pytest.mark.parametrize(("code", "pin"), [("", ""), ("1001", ""), ("", "135790")])
def test_empty_fields_ask_for_staff_number_and_pin(
    qtbot: QtBot, controller: TillController, till: Till, code: str, pin: str
) -> None:
    before = till.table_counts()
    controller.login.code.setText(code)
    controller.login.pin.setText(pin)
    with qtbot.assertNotEmitted(controller.login.logged_in):
        qtbot.mouseClick(controller.login.button, Qt.MouseButton.LeftButton)
    assert controller.login.error.text() == "请输入工号和密码。"
    assert controller.login.error.isVisible()
    assert till.table_counts() == before


def test_choosing_english_retranslates_the_window(qtbot: QtBot,
                                                  controller: TillController) -> None:
    login = controller.login
    login.language.setCurrentIndex(login.language.findData("en"))
    qtbot.waitUntil(lambda: login.windowTitle() == "POS Member — log in")
    assert login.code_label.text() == "&Staff number"
    assert login.button.text() == "Log in (Enter)"


def test_choosing_chinese_again_translates_back(qtbot: QtBot, controller: TillController) -> None:
    login = controller.login
    login.language.setCurrentIndex(login.language.findData("en"))
    qtbot.waitUntil(lambda: login.windowTitle() == "POS Member — log in")
    login.language.setCurrentIndex(login.language.findData("zh_CN"))
    qtbot.waitUntil(lambda: login.windowTitle() == "会员收银 — 登录")
    assert login.code_label.text() == "工号(&S)"


# --- the core opens behind the login window ---------------------------------------------------


def controller_opening(qtbot: QtBot, till: Till, open_app: Callable[[], App]) -> TillController:
    assert till.app.identity is not None
    c = TillController(open_app, till.app.identity.store_name, "zh_CN")
    qtbot.addWidget(c.login)
    show_active(qtbot, c.login)
    c.start()
    return c


def test_enter_pressed_while_the_till_opens_logs_in_once_it_is_open(
    qtbot: QtBot, till: Till
) -> None:
    opened = threading.Event()

    def open_app() -> App:
        opened.wait(10)
        return till.app

    c = controller_opening(qtbot, till, open_app)
    assert not c.login.button.isEnabled()
    log_in(qtbot, c, staff_code(till, till.cashier.staff_id), PINS[till.cashier.role])
    assert c.app is None
    with qtbot.waitSignal(c.login.logged_in) as got:
        opened.set()
    assert got.args[0] == till.cashier
    c.logout()  # closes the till window and stops its sync thread


def test_while_the_till_opens_the_login_button_says_so(qtbot: QtBot, till: Till) -> None:
    opened = threading.Event()

    def open_app() -> App:
        opened.wait(10)
        return till.app

    c = controller_opening(qtbot, till, open_app)
    assert c.login.button.text() == "正在打开收银台…"
    opened.set()
    qtbot.waitUntil(c.login.button.isEnabled)
    assert c.login.button.text() == "登录 (Enter)"


def test_a_till_that_cannot_open_says_why_and_keeps_login_off(qtbot: QtBot, till: Till) -> None:
    def open_app() -> App:
        raise KeyStoreUnavailable(detail="no keyring backend")

    c = controller_opening(qtbot, till, open_app)
    qtbot.waitUntil(c.login.error.isVisible)
    assert "系统凭据存储不可用" in c.login.error.text()
    assert not c.login.button.isEnabled()


# --- headless runs quit on the till's readiness, not on a clock -------------------------------


def test_exit_when_ready_quits_once_the_core_is_open_however_long_that_takes(
    qtbot: QtBot, zh_app: QApplication, till: Till, capsys: pytest.CaptureFixture[str]
) -> None:
    opened = threading.Event()

    def open_app() -> App:  # ready only when the event loop has run (no fixed time anywhere)
        assert opened.wait(60)
        return till.app

    QTimer.singleShot(0, opened.set)
    assert run_till(open_app, store_name="一号店", language="zh_CN", exit_when_ready=True) == 0
    out = capsys.readouterr().out
    assert out.index("Login window shown.") < out.index("Till ready.")


def test_exit_when_ready_exits_1_when_the_core_cannot_open(
    qtbot: QtBot, zh_app: QApplication, capsys: pytest.CaptureFixture[str]
) -> None:
    def open_app() -> App:
        raise KeyStoreUnavailable(detail="no keyring backend")

    assert run_till(open_app, store_name="一号店", language="zh_CN", exit_when_ready=True) == 1
    captured = capsys.readouterr()
    assert "Till ready." not in captured.out
    assert "could not open" in captured.err


def test_logout_leaves_an_empty_form_and_a_fixed_input_clears_the_refusal(
    qtbot: QtBot, controller: TillController, till: Till
) -> None:
    """Issue 17: after a logout the staff number stayed and the next person's was typed on
    after it; a refusal stayed on screen while the PIN was typed again."""
    code = staff_code(till, till.cashier.staff_id)
    log_in(qtbot, controller, code, "000000")
    wait_refused(qtbot, controller)
    qtbot.keyClicks(controller.login.pin, "1")
    assert not controller.login.error.isVisible()
    controller.login.pin.clear()
    with qtbot.waitSignal(controller.login.logged_in):
        qtbot.keyClicks(controller.login.pin, PINS[till.cashier.role])
        qtbot.keyClick(controller.login.pin, Qt.Key.Key_Return)
    controller.logout()
    assert controller.login.code.text() == "" and controller.login.pin.text() == ""
    manager = staff_code(till, till.manager.staff_id)
    with qtbot.waitSignal(controller.login.logged_in) as got:
        log_in(qtbot, controller, manager, PINS[till.manager.role])
    assert got.args[0] == till.manager


def test_the_till_window_opens_maximised(
    qtbot: QtBot, controller: TillController, till: Till
) -> None:
    with qtbot.waitSignal(controller.login.logged_in):
        log_in(qtbot, controller, staff_code(till, till.cashier.staff_id),
               PINS[till.cashier.role])
    assert controller.till is not None
    qtbot.waitUntil(lambda: controller.till is not None and controller.till.isVisible())
    assert controller.till.windowState() & Qt.WindowState.WindowMaximized
