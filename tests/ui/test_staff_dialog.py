"""The staff dialog (Ctrl+U, managers): the list, adding, editing, deactivating and a new PIN,
by keyboard; refusals shown in the form with nothing changed; cashiers told no."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from pos_member.errors import LoginFailed
from pos_member.permissions import Clerk, Role
from pos_member.services.staff import login
from pos_member.services.staff_admin import StaffRow, set_staff_active
from tests.factories import Till
from tests.ui.conftest import open_dialog, settle
from ui.staff_dialog import PinForm, StaffDialog, StaffForm, status_key
from ui.till import TillWindow

CTRL = Qt.KeyboardModifier.ControlModifier


def open_staff(qtbot: QtBot, window: TillWindow) -> StaffDialog:
    dialog = open_dialog(qtbot, window, Qt.Key.Key_U, StaffDialog, CTRL)
    settle(qtbot, window)
    qtbot.waitUntil(lambda: dialog.table.rowCount() > 0)
    return dialog


def row_of(dialog: StaffDialog, code: str) -> int:
    return next(i for i, r in enumerate(dialog.rows) if r.code == code)


def type_into(qtbot: QtBot, form: StaffForm | PinForm, **fields: str) -> None:
    for name, text in fields.items():
        widget = getattr(form, name)
        widget.setFocus()
        if text.isascii():
            qtbot.keyClicks(widget, text)
        else:  # an input method's commit, not keys
            widget.insert(text)


def open_form(qtbot: QtBot, dialog: StaffDialog, key: Qt.Key,
              modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier
              ) -> StaffForm | PinForm:
    qtbot.keyClick(dialog.table, key, modifier)
    qtbot.waitUntil(lambda: dialog.form is not None and dialog.form.isVisible())
    assert isinstance(dialog.form, (StaffForm, PinForm))
    return dialog.form


def submit(qtbot: QtBot, window: TillWindow, form: StaffForm | PinForm) -> None:
    qtbot.keyClick(form, Qt.Key.Key_Return)
    settle(qtbot, window)


@pytest.fixture
def manager_window(open_till: Callable[[Clerk], TillWindow], till: Till) -> TillWindow:
    return open_till(till.manager)


def test_ctrl_u_lists_the_stores_staff_with_who_is_active(
    qtbot: QtBot, manager_window: TillWindow, till: Till,
) -> None:
    dialog = open_staff(qtbot, manager_window)
    assert [dialog.table.item(i, 0).text() for i in range(dialog.table.rowCount())] == [
        "1001", "1101", "1201", "1301"]
    assert dialog.table.item(0, 3).text() == "启用"
    assert dialog.windowTitle() == "员工管理 (Ctrl+U)"


def test_a_cashier_pressing_ctrl_u_is_told_no(qtbot: QtBot, window: TillWindow,
                                             till: Till) -> None:
    before = till.table_counts()
    assert not window.buttons["staff"].isVisible()
    qtbot.keyClick(window, Qt.Key.Key_U, CTRL)
    assert window.dialog is None
    assert "无权" in window.banner.text()
    assert till.table_counts() == before


def test_a_manager_adds_a_guide_by_keyboard_who_then_logs_in(
    qtbot: QtBot, manager_window: TillWindow, till: Till,
) -> None:
    dialog = open_staff(qtbot, manager_window)
    form = open_form(qtbot, dialog, Qt.Key.Key_Insert)
    assert isinstance(form, StaffForm)
    assert [form.role.itemData(i) for i in range(form.role.count())] == [
        Role.CASHIER, Role.GUIDE]
    type_into(qtbot, form, code="2101", name="新导购", pin="135792", pin2="135792")
    form.role.setCurrentIndex(1)
    submit(qtbot, manager_window, form)
    qtbot.waitUntil(lambda: dialog.form is None)
    qtbot.waitUntil(lambda: any(r.code == "2101" for r in dialog.rows))
    assert "已新增 2101 新导购" in dialog.status.text()
    clerk = login(till.uow, code="2101", secret="135792", device_id=till.cashier.device_id)
    assert clerk.role is Role.GUIDE


@pytest.mark.parametrize(("fields", "shown"), [
    ({"code": "21", "name": "x", "pin": "135792", "pin2": "135792"}, "工号"),
    ({"code": "2102", "name": "x", "pin": "123456", "pin2": "123456"}, "PIN"),
    ({"code": "2103", "name": "x", "pin": "135792", "pin2": "135793"}, "不一致"),
    ({"code": "1001", "name": "x", "pin": "135792", "pin2": "135792"}, "1001"),
])
def test_bad_input_is_shown_in_the_form_and_changes_nothing(
    qtbot: QtBot, manager_window: TillWindow, till: Till, fields: dict[str, str], shown: str,
) -> None:
    dialog = open_staff(qtbot, manager_window)
    before = till.table_counts()
    form = open_form(qtbot, dialog, Qt.Key.Key_Insert)
    type_into(qtbot, form, **fields)
    submit(qtbot, manager_window, form)
    assert form.isVisible() and form.error.isVisible()
    assert shown in form.error.text()
    assert till.table_counts() == before


def test_ctrl_d_deactivates_and_reactivates_the_selected_colleague(
    qtbot: QtBot, manager_window: TillWindow, till: Till,
) -> None:
    dialog = open_staff(qtbot, manager_window)
    dialog.table.selectRow(row_of(dialog, "1101"))
    qtbot.keyClick(dialog.table, Qt.Key.Key_D, CTRL)
    settle(qtbot, manager_window)
    qtbot.waitUntil(lambda: not dialog.rows[row_of(dialog, "1101")].active)
    assert dialog.table.item(row_of(dialog, "1101"), 3).text() == "已停用"
    with pytest.raises(LoginFailed):
        login(till.uow, code="1101", secret="246801", device_id=till.cashier.device_id)
    assert dialog.active_button.text().startswith("重新启用")
    qtbot.keyClick(dialog.table, Qt.Key.Key_D, CTRL)
    settle(qtbot, manager_window)
    qtbot.waitUntil(lambda: dialog.rows[row_of(dialog, "1101")].active)


def test_ctrl_p_gives_a_forgotten_pin_a_new_one(
    qtbot: QtBot, manager_window: TillWindow, till: Till,
) -> None:
    dialog = open_staff(qtbot, manager_window)
    dialog.table.selectRow(row_of(dialog, "1001"))
    form = open_form(qtbot, dialog, Qt.Key.Key_P, CTRL)
    assert isinstance(form, PinForm)
    type_into(qtbot, form, pin="975312", pin2="975312")
    submit(qtbot, manager_window, form)
    qtbot.waitUntil(lambda: dialog.form is None)
    assert login(till.uow, code="1001", secret="975312",
                 device_id=till.cashier.device_id).role is Role.CASHIER


def test_a_manager_cannot_touch_managers_or_deactivate_themselves(
    qtbot: QtBot, manager_window: TillWindow,
) -> None:
    dialog = open_staff(qtbot, manager_window)
    dialog.table.selectRow(row_of(dialog, "1201"))  # themself
    assert not dialog.active_button.isEnabled()
    dialog.table.selectRow(row_of(dialog, "1301"))  # the administrator
    assert not dialog.edit_button.isEnabled() and not dialog.pin_button.isEnabled()


def test_the_dialog_fits_the_smallest_till_screen(
    qtbot: QtBot, manager_window: TillWindow,
) -> None:
    dialog = open_staff(qtbot, manager_window)
    hint = dialog.minimumSizeHint()
    assert hint.width() <= 1024 and hint.height() <= 700
    assert dialog.width() <= 1024 and dialog.height() <= 700


def test_the_status_names_a_clash_before_anything_else(qapp: QApplication) -> None:
    row = StaffRow("id", "201", "x", Role.GUIDE, active=False, holds_number=False)
    assert status_key(row) == "Number clash: give a new number"
    assert status_key(StaffRow("id", "201", "x", Role.GUIDE, True, locked=True)).startswith(
        "Active, locked")


def test_a_manager_deactivated_meanwhile_is_logged_out_at_their_next_change(
    qtbot: QtBot, manager_window: TillWindow, till: Till,
) -> None:
    dialog = open_staff(qtbot, manager_window)
    set_staff_active(till.uow, clerk=till.clerks[Role.ADMIN],
                     staff_id=till.manager.staff_id or "", active=False)
    dialog.table.selectRow(row_of(dialog, "1001"))
    before = till.table_counts()
    with qtbot.waitSignal(manager_window.logout_requested):
        qtbot.keyClick(dialog.table, Qt.Key.Key_D, CTRL)
        settle(qtbot, manager_window)
    assert till.table_counts() == before
    assert "重新登录" in manager_window.banner.text()


def test_f9_names_a_staff_number_two_tills_gave_out(
    qtbot: QtBot, manager_window: TillWindow, till: Till,
) -> None:
    from datetime import UTC, datetime

    from pos_member.services.alerts import FlagView
    from ui.alerts_dialog import FlagsDialog

    dialog = FlagsDialog(ops=manager_window.ops, zone=UTC, load=lambda: [],
                         resolve=lambda fid, note: None, parent=manager_window)
    qtbot.addWidget(dialog)
    text = dialog.describe(FlagView("f", "staff_number_clash", datetime(2026, 12, 4, tzinfo=UTC),
                                    {"code": "201", "holder_id": "a", "waiting_ids": ["b"]}))
    assert "工号 201" in text and "Ctrl+U" in text


def test_a_clerk_a_pulled_change_deactivated_is_logged_out(
    qtbot: QtBot, window: TillWindow, till: Till,
) -> None:
    from pos_member.changes import Area, Changes

    set_staff_active(till.uow, clerk=till.manager, staff_id=till.cashier.staff_id or "",
                     active=False)
    with qtbot.waitSignal(window.logout_requested):
        window.changed.emit(Changes.of(Area.STAFF))  # as a sync round's pulled page
    assert "重新登录" in window.banner.text()


def test_a_clerk_deactivated_by_a_change_the_window_never_heard_of_is_logged_out(
    qtbot: QtBot, window: TillWindow, till: Till,
) -> None:
    """Deactivated by a change applied beside the window (a headless ``pos-member sync``
    pulled it): the window's periodic check logs the clerk out."""
    from PySide6.QtCore import QTimer

    set_staff_active(till.uow, clerk=till.manager, staff_id=till.cashier.staff_id or "",
                     active=False)
    check = window.findChild(QTimer, "staffCheck")
    assert check is not None and check.isActive()
    with qtbot.waitSignal(window.logout_requested):
        check.timeout.emit()  # the minute has come


def test_a_staff_change_that_leaves_the_clerk_be_logs_nobody_out(
    qtbot: QtBot, window: TillWindow, till: Till,
) -> None:
    from pos_member.changes import Area, Changes

    with qtbot.assertNotEmitted(window.logout_requested):
        window.changed.emit(Changes.of(Area.STAFF))
        settle(qtbot, window)
