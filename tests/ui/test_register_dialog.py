"""Registering a member at the till by keyboard alone (F2, phone, Tab, Space, Enter), and the
inline refusals: missing consent, a bad phone, a phone that is already a member."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from pos_member.services.member_cards import MemberCard, find_member
from pos_member.services.members import REGISTERED
from tests.factories import Till
from tests.ui.dbcheck import added, count_audit, count_events
from ui.register_dialog import RegisterDialog
from ui.till import TillWindow

PHONE = "13912345678"


def open_register(qtbot: QtBot, window: TillWindow) -> RegisterDialog:
    qtbot.keyClick(window, Qt.Key.Key_F2)
    dialog = window.dialog
    assert isinstance(dialog, RegisterDialog)
    qtbot.waitUntil(dialog.isActiveWindow)
    return dialog


def fill_in(qtbot: QtBot, dialog: RegisterDialog, phone: str, *, consent: bool = True) -> None:
    """Phone, Tab to the privacy box, Space to tick it — the keys a cashier presses."""
    qtbot.keyClicks(dialog.phone, phone)
    qtbot.keyClick(dialog.phone, Qt.Key.Key_Tab)
    if consent:
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Space)


def press_enter(qtbot: QtBot, dialog: RegisterDialog) -> None:
    qtbot.keyClick(dialog, Qt.Key.Key_Return)


def wait_refused(qtbot: QtBot, window: TillWindow, dialog: RegisterDialog) -> None:
    qtbot.waitUntil(lambda: dialog.error.isVisible() and not window.ops.busy())


# --- the walk-through ---------------------------------------------------------------------------


def test_f2_opens_the_register_dialog_with_the_cursor_on_the_phone(qtbot: QtBot,
                                                                   window: TillWindow) -> None:
    dialog = open_register(qtbot, window)
    assert dialog.isVisible()
    assert dialog.phone.hasFocus()
    assert dialog.windowTitle() == "注册会员 (F2)"


def test_tab_from_the_phone_goes_to_the_privacy_box(qtbot: QtBot, window: TillWindow) -> None:
    dialog = open_register(qtbot, window)
    qtbot.keyClicks(dialog.phone, PHONE)
    qtbot.keyClick(dialog.phone, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is dialog.privacy


def test_space_ticks_the_privacy_box(qtbot: QtBot, window: TillWindow) -> None:
    dialog = open_register(qtbot, window)
    fill_in(qtbot, dialog, PHONE)
    assert dialog.privacy.isChecked()


def test_a_member_is_registered_by_keyboard_alone_and_the_card_shown(
    qtbot: QtBot, window: TillWindow, till: Till
) -> None:
    dialog = open_register(qtbot, window)
    fill_in(qtbot, dialog, PHONE)
    with qtbot.waitSignal(window.card_shown) as shown:
        press_enter(qtbot, dialog)
    new = find_member(till.uow, clerk=till.cashier, code=PHONE)
    assert shown.args[0].id == new.id
    assert window.card_view.number.text() == new.member_no
    assert window.card_view.card is not None
    assert window.card_view.card.phone_masked == "139****5678"


def test_registering_writes_the_member_its_events_and_one_audit_row(
    qtbot: QtBot, window: TillWindow, till: Till
) -> None:
    before = till.table_counts()
    dialog = open_register(qtbot, window)
    fill_in(qtbot, dialog, PHONE)
    with qtbot.waitSignal(window.card_shown):
        press_enter(qtbot, dialog)
    assert added(before, till.table_counts()) == {
        "members": 1, "events": 4, "audit_log": 3,  # the registration, its welcome points
        "points_accounts": 1, "points_entries": 1, "points_lots": 1,  # and welcome pack:
        "coupons": 2, "coupon_entries": 2, "notification_outbox": 1,  # two coupons, one SMS
        "member_directory": 1,  # the chain's directory holds the till's own members too
        "member_ledger_sums": 1}  # the welcome points start the kept sums (migration 0026)
    assert count_events(till, REGISTERED) == 1
    assert count_audit(till, REGISTERED) == 1


def test_after_registering_the_dialog_closes_and_the_scan_field_has_focus(
    qtbot: QtBot, window: TillWindow
) -> None:
    dialog = open_register(qtbot, window)
    fill_in(qtbot, dialog, PHONE)
    with qtbot.waitSignal(window.card_shown):
        press_enter(qtbot, dialog)
    qtbot.waitUntil(lambda: window.dialog is None)
    qtbot.waitUntil(window.scan.hasFocus)
    assert "注册成功" in window.banner.text()


def test_the_phone_may_be_typed_with_86_spaces_and_dashes(qtbot: QtBot, window: TillWindow,
                                                          till: Till) -> None:
    dialog = open_register(qtbot, window)
    fill_in(qtbot, dialog, "+86 139-1234-5678")
    with qtbot.waitSignal(window.card_shown) as shown:
        press_enter(qtbot, dialog)
    assert shown.args[0].phone_masked == "139****5678"


def test_optional_fields_reach_the_member(qtbot: QtBot, window: TillWindow, till: Till) -> None:
    dialog = open_register(qtbot, window)
    fill_in(qtbot, dialog, PHONE)
    dialog.gender.setCurrentIndex(2)  # after "—": the first gender
    qtbot.keyClicks(dialog.birthday, "19900314")
    dialog.tags.setText("咖啡，亲子")  # an input method commits text; QTest types only ASCII
    with qtbot.waitSignal(window.card_shown) as shown:
        press_enter(qtbot, dialog)
    card = shown.args[0]
    assert card.gender == dialog.gender.itemData(2)
    assert (card.birthday_month, card.tags) == (3, ("咖啡", "亲子"))


# --- refusals, inline ---------------------------------------------------------------------------


def test_missing_consent_is_refused_inline(qtbot: QtBot, window: TillWindow, till: Till) -> None:
    dialog = open_register(qtbot, window)
    fill_in(qtbot, dialog, PHONE, consent=False)
    press_enter(qtbot, dialog)
    wait_refused(qtbot, window, dialog)
    assert "须先同意隐私政策" in dialog.error.text()
    assert dialog.privacy.hasFocus()


def test_missing_consent_changes_nothing_and_the_dialog_stays_open(
    qtbot: QtBot, window: TillWindow, till: Till
) -> None:
    before = till.table_counts()
    dialog = open_register(qtbot, window)
    fill_in(qtbot, dialog, PHONE, consent=False)
    with qtbot.assertNotEmitted(window.card_shown):
        press_enter(qtbot, dialog)
        wait_refused(qtbot, window, dialog)
    assert till.table_counts() == before
    assert window.dialog is dialog
    assert dialog.isVisible()


@pytest.mark.parametrize("phone", ["12345", "12812345678", "1391234567", "phone"])
def test_an_invalid_phone_is_refused_inline_and_changes_nothing(
    qtbot: QtBot, window: TillWindow, till: Till, phone: str
) -> None:
    before = till.table_counts()
    dialog = open_register(qtbot, window)
    fill_in(qtbot, dialog, phone)
    press_enter(qtbot, dialog)
    wait_refused(qtbot, window, dialog)
    assert "不是有效的大陆手机号" in dialog.error.text()
    assert dialog.phone.hasFocus()
    assert dialog.isVisible()
    assert till.table_counts() == before


def test_a_bad_birthday_is_refused_inline_and_changes_nothing(
    qtbot: QtBot, window: TillWindow, till: Till
) -> None:
    before = till.table_counts()
    dialog = open_register(qtbot, window)
    fill_in(qtbot, dialog, PHONE)
    qtbot.keyClicks(dialog.birthday, "1990-13-40")
    press_enter(qtbot, dialog)
    wait_refused(qtbot, window, dialog)
    assert "生日格式" in dialog.error.text()
    assert till.table_counts() == before


def test_ticking_the_box_after_the_consent_error_registers_the_member(
    qtbot: QtBot, window: TillWindow, till: Till
) -> None:
    dialog = open_register(qtbot, window)
    fill_in(qtbot, dialog, PHONE, consent=False)
    press_enter(qtbot, dialog)
    wait_refused(qtbot, window, dialog)
    qtbot.keyClick(dialog.privacy, Qt.Key.Key_Space)  # the error put the cursor on the box
    with qtbot.waitSignal(window.card_shown):
        press_enter(qtbot, dialog)
    assert till.table_counts()["members"] == 1
    assert window.dialog is None


# --- a phone that is already a member -----------------------------------------------------------


@pytest.fixture
def existing(till: Till) -> MemberCard:
    return till.register(PHONE)


def test_a_duplicate_phone_names_the_existing_member(
    qtbot: QtBot, window: TillWindow, till: Till, existing: MemberCard
) -> None:
    before = till.table_counts()
    dialog = open_register(qtbot, window)
    fill_in(qtbot, dialog, "139 1234 5678")
    press_enter(qtbot, dialog)
    wait_refused(qtbot, window, dialog)
    assert existing.member_no in dialog.error.text()
    assert "已是会员" in dialog.error.text()
    assert till.table_counts() == before


def test_a_duplicate_phone_offers_to_open_the_existing_member(
    qtbot: QtBot, window: TillWindow, existing: MemberCard
) -> None:
    dialog = open_register(qtbot, window)
    fill_in(qtbot, dialog, PHONE)
    press_enter(qtbot, dialog)
    wait_refused(qtbot, window, dialog)
    assert dialog.open_button.isVisible()
    assert dialog.open_button.text() == "打开该会员(&O)"
    assert dialog.open_button.hasFocus()


@pytest.mark.parametrize("how", ["alt+o", "enter", "click"])
def test_opening_the_existing_member_closes_the_dialog_and_shows_its_card(
    qtbot: QtBot, window: TillWindow, existing: MemberCard, how: str
) -> None:
    dialog = open_register(qtbot, window)
    fill_in(qtbot, dialog, PHONE)
    press_enter(qtbot, dialog)
    wait_refused(qtbot, window, dialog)
    with qtbot.waitSignal(window.card_shown) as shown:
        if how == "alt+o":
            qtbot.keyClick(dialog, Qt.Key.Key_O, Qt.KeyboardModifier.AltModifier)
        elif how == "enter":  # the open button has the focus
            press_enter(qtbot, dialog)
        else:
            qtbot.mouseClick(dialog.open_button, Qt.MouseButton.LeftButton)
    assert shown.args[0].id == existing.id
    assert window.dialog is None
    assert window.card_view.number.text() == existing.member_no
    qtbot.waitUntil(window.scan.hasFocus)


def test_the_open_button_is_not_offered_for_other_errors(
    qtbot: QtBot, window: TillWindow, existing: MemberCard
) -> None:
    dialog = open_register(qtbot, window)
    fill_in(qtbot, dialog, PHONE)
    press_enter(qtbot, dialog)
    wait_refused(qtbot, window, dialog)
    qtbot.keyClick(dialog, Qt.Key.Key_P, Qt.KeyboardModifier.AltModifier)  # back to the phone
    assert dialog.phone.hasFocus()
    dialog.phone.selectAll()
    qtbot.keyClicks(dialog.phone, "12345")
    press_enter(qtbot, dialog)
    wait_refused(qtbot, window, dialog)
    assert "不是有效的大陆手机号" in dialog.error.text()
    assert not dialog.open_button.isVisible()


def test_esc_cancels_without_registering(qtbot: QtBot, window: TillWindow, till: Till) -> None:
    before = till.table_counts()
    dialog = open_register(qtbot, window)
    fill_in(qtbot, dialog, PHONE)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: window.dialog is None)
    assert till.table_counts() == before


def test_after_a_duplicate_the_corrected_phone_is_registered_on_enter(
    qtbot: QtBot, window: TillWindow, till: Till, existing: MemberCard
) -> None:
    dialog = open_register(qtbot, window)
    fill_in(qtbot, dialog, PHONE)
    press_enter(qtbot, dialog)
    wait_refused(qtbot, window, dialog)
    qtbot.keyClick(dialog, Qt.Key.Key_P, Qt.KeyboardModifier.AltModifier)  # back to the phone
    dialog.phone.selectAll()
    qtbot.keyClicks(dialog.phone, "13900001111")
    with qtbot.waitSignal(window.card_shown) as shown:
        press_enter(qtbot, dialog)
    assert shown.args[0].id != existing.id
    assert shown.args[0].phone_masked == "139****1111"
