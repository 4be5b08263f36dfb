"""The till screen: scan → card, clear messages for what is not a member, status bar, keys."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMessageBox
from pytestqt.qtbot import QtBot

from pos_member.permissions import Clerk
from pos_member.services.member_cards import MemberCard
from tests.factories import Till
from tests.ui.conftest import settle
from tests.ui.dbcheck import added, count_audit
from ui.i18n import install_language
from ui.till import TillWindow

PHONE = "13812345678"
REVEALED = "member.personal_data_revealed"


@pytest.fixture
def member(till: Till) -> MemberCard:
    return till.register(PHONE, name="王小明")


def enter(qtbot: QtBot, window: TillWindow, text: str, *, delay: int = -1) -> None:
    qtbot.keyClicks(window.scan, text, delay=delay)
    qtbot.keyClick(window.scan, Qt.Key.Key_Return)


def scan_card(qtbot: QtBot, window: TillWindow, text: str) -> MemberCard:
    with qtbot.waitSignal(window.card_shown) as shown:
        enter(qtbot, window, text)
    return shown.args[0]


def card_text(window: TillWindow) -> str:
    """Every piece of text the card shows."""
    return "\n".join(label.text() for label in window.card_view.findChildren(QLabel))


# --- scanning -----------------------------------------------------------------------------------


def test_scanning_a_member_qr_shows_the_card(qtbot: QtBot, window: TillWindow,
                                              member: MemberCard) -> None:
    scan_card(qtbot, window, member.qr_payload)
    assert window.stack.currentWidget() is window.card_view
    assert window.card_view.number.text() == member.member_no


def test_the_card_shows_the_phone_masked_and_never_in_full(qtbot: QtBot, window: TillWindow,
                                                           member: MemberCard) -> None:
    scan_card(qtbot, window, member.qr_payload)
    assert "138****5678" in card_text(window)
    assert PHONE not in card_text(window)
    assert "王小明" not in card_text(window)


def test_the_card_carries_the_member_qr(qtbot: QtBot, window: TillWindow,
                                        member: MemberCard) -> None:
    scan_card(qtbot, window, member.qr_payload)
    assert window.card_view.qr.payload() == member.qr_payload


def test_a_typed_phone_and_enter_find_the_member(qtbot: QtBot, window: TillWindow,
                                                 member: MemberCard) -> None:
    with qtbot.waitSignal(window.card_shown):
        enter(qtbot, window, PHONE, delay=80)
    assert window.card_view.number.text() == member.member_no


def test_a_typed_member_number_finds_the_member(qtbot: QtBot, window: TillWindow,
                                                member: MemberCard) -> None:
    assert scan_card(qtbot, window, member.member_no).id == member.id


@pytest.mark.parametrize("code", ["00010100000024", "PM1:00010100000024", "13900009999"])
def test_an_unknown_member_shows_not_found_and_changes_nothing(
    qtbot: QtBot, window: TillWindow, member: MemberCard, till: Till, code: str
) -> None:
    before = till.table_counts()
    with qtbot.assertNotEmitted(window.card_shown):
        enter(qtbot, window, code)
        settle(qtbot, window)
    assert window.banner.isVisible()
    assert "未找到会员" in window.banner.text()
    assert till.table_counts() == before


def test_not_found_for_a_phone_shows_it_masked(qtbot: QtBot, window: TillWindow,
                                               member: MemberCard) -> None:
    enter(qtbot, window, "13900009999")
    settle(qtbot, window)
    assert "139****9999" in window.banner.text()
    assert "13900009999" not in window.banner.text()


@pytest.mark.parametrize("code", ["hello!", "PM2:00010100000016", "PM1:00010100000017", "12345"])
def test_a_malformed_code_is_not_recognised(qtbot: QtBot, window: TillWindow, till: Till,
                                            code: str) -> None:
    before = till.table_counts()
    with qtbot.assertNotEmitted(window.card_shown):
        enter(qtbot, window, code)
        settle(qtbot, window)
    assert window.banner.isVisible()
    assert "无法识别此码" in window.banner.text()
    assert till.table_counts() == before


def test_the_next_scan_hides_the_previous_message(qtbot: QtBot, window: TillWindow,
                                                  member: MemberCard) -> None:
    enter(qtbot, window, "hello!")
    scan_card(qtbot, window, member.qr_payload)
    assert not window.banner.isVisible()


# --- focus --------------------------------------------------------------------------------------


def test_the_scan_field_has_focus_when_the_till_opens(window: TillWindow) -> None:
    assert window.scan.hasFocus()


def test_the_scan_field_keeps_focus_after_a_card_is_shown(qtbot: QtBot, window: TillWindow,
                                                          member: MemberCard) -> None:
    scan_card(qtbot, window, member.qr_payload)
    assert window.scan.hasFocus()
    assert window.scan.text() == ""


def test_a_click_on_the_card_leaves_the_focus_in_the_scan_field(
        qtbot: QtBot, window: TillWindow, member: MemberCard) -> None:
    """The card scrolls (a banner above it on a 1024×768 screen), and its scroll area takes
    no focus: a scanner's next code still goes to the scan field."""
    scan_card(qtbot, window, member.qr_payload)
    qtbot.mouseClick(window.card_scroll.viewport(), Qt.MouseButton.LeftButton)
    assert window.scan.hasFocus()


def test_the_scan_field_gets_focus_back_when_a_dialog_closes(qtbot: QtBot,
                                                             window: TillWindow) -> None:
    qtbot.keyClick(window, Qt.Key.Key_F2)
    dialog = window.dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.isActiveWindow)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: window.dialog is None)
    qtbot.waitUntil(window.scan.hasFocus)
    assert window.isActiveWindow()


def test_f3_puts_the_cursor_back_in_the_scan_field(qtbot: QtBot, window: TillWindow) -> None:
    window.scan.clearFocus()
    assert not window.scan.hasFocus()
    qtbot.keyClick(window, Qt.Key.Key_F3)
    assert window.scan.hasFocus()


# --- status bar ---------------------------------------------------------------------------------


def test_the_status_bar_shows_store_and_till(window: TillWindow) -> None:
    assert window.status_store.text() == "门店：门店1 · 收银台 1"


def test_the_status_bar_shows_the_clerk_and_role(window: TillWindow, till: Till) -> None:
    assert window.status_clerk.text() == f"操作员：{till.cashier.name}（收银员）"


def test_a_till_without_a_server_says_it_is_not_enrolled(window: TillWindow) -> None:
    assert window.status_sync.text() == "未注册到总部"


# --- revealing the full phone (F5) --------------------------------------------------------------


def test_a_cashier_pressing_f5_is_told_no_and_nothing_is_audited(
    qtbot: QtBot, window: TillWindow, member: MemberCard, till: Till
) -> None:
    scan_card(qtbot, window, member.qr_payload)
    before = till.table_counts()
    qtbot.keyClick(window, Qt.Key.Key_F5)
    settle(qtbot, window)
    assert "无权" in window.banner.text()
    assert window.dialog is None
    assert till.table_counts() == before


def test_a_cashier_does_not_see_the_reveal_button(window: TillWindow) -> None:
    assert window.buttons["reveal"].isHidden()


def test_a_manager_pressing_f5_sees_the_full_phone(
    qtbot: QtBot, open_till: Callable[[Clerk], TillWindow], till: Till, member: MemberCard
) -> None:
    window = open_till(till.manager)
    scan_card(qtbot, window, member.qr_payload)
    qtbot.keyClick(window, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: window.dialog is not None)
    assert isinstance(window.dialog, QMessageBox)
    assert PHONE in window.dialog.text()
    assert "王小明" in window.dialog.text()


def test_revealing_the_full_phone_is_audited(
    qtbot: QtBot, open_till: Callable[[Clerk], TillWindow], till: Till, member: MemberCard
) -> None:
    window = open_till(till.manager)
    scan_card(qtbot, window, member.qr_payload)
    before = till.table_counts()
    qtbot.keyClick(window, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: window.dialog is not None)
    assert count_audit(till, REVEALED) == 1
    assert added(before, till.table_counts()) == {"audit_log": 1}


def test_f5_without_a_card_does_nothing(qtbot: QtBot, open_till: Callable[[Clerk], TillWindow],
                                        till: Till) -> None:
    window = open_till(till.manager)
    qtbot.keyClick(window, Qt.Key.Key_F5)
    settle(qtbot, window)
    assert window.dialog is None
    assert count_audit(till, REVEALED) == 0


# --- clearing -----------------------------------------------------------------------------------


def test_esc_clears_the_card(qtbot: QtBot, window: TillWindow, member: MemberCard) -> None:
    scan_card(qtbot, window, member.qr_payload)
    qtbot.keyClick(window.scan, Qt.Key.Key_Escape)
    assert window.card_view.card is None
    assert window.stack.currentWidget() is window.empty
    assert window.scan.hasFocus()


def test_esc_hides_the_message(qtbot: QtBot, window: TillWindow) -> None:
    enter(qtbot, window, "hello!")
    qtbot.keyClick(window.scan, Qt.Key.Key_Escape)
    assert not window.banner.isVisible()


def test_card_actions_are_off_without_a_card(qtbot: QtBot, window: TillWindow,
                                             member: MemberCard) -> None:
    assert not window.buttons["edit"].isEnabled()
    scan_card(qtbot, window, member.qr_payload)
    assert window.buttons["edit"].isEnabled()
    qtbot.keyClick(window.scan, Qt.Key.Key_Escape)
    assert not window.buttons["edit"].isEnabled()


# --- logging out --------------------------------------------------------------------------------


def test_ctrl_l_asks_to_log_out(qtbot: QtBot, window: TillWindow) -> None:
    with qtbot.waitSignal(window.logout_requested):
        qtbot.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)


# --- language -----------------------------------------------------------------------------------


def test_switching_to_english_retranslates_the_till_and_the_card(
    qtbot: QtBot, window: TillWindow, member: MemberCard
) -> None:
    scan_card(qtbot, window, member.qr_payload)
    install_language("en")
    qtbot.waitUntil(lambda: window.status_sync.text() == "Not enrolled with head office")
    assert window.status_store.text() == "Store: 门店1 · Till 1"
    assert window.buttons["register"].text() == "F2 Register"
    assert "Phone" in card_text(window)
    assert "手机号" not in card_text(window)
