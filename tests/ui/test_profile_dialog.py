"""Editing a member's profile (F6): each saved change is one event; bad input changes nothing."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from pos_member.services.member_cards import Gender, MemberCard
from pos_member.services.members import PROFILE_UPDATED
from tests.factories import Till
from tests.ui.dbcheck import added, count_events
from tests.ui.test_till import scan_card
from ui.profile_dialog import ProfileDialog
from ui.till import TillWindow


@pytest.fixture
def member(till: Till) -> MemberCard:
    return till.register("13812345678")


def open_profile(qtbot: QtBot, window: TillWindow, member: MemberCard) -> ProfileDialog:
    scan_card(qtbot, window, member.qr_payload)
    qtbot.keyClick(window, Qt.Key.Key_F6)
    dialog = window.dialog
    assert isinstance(dialog, ProfileDialog)
    qtbot.waitUntil(dialog.isActiveWindow)
    return dialog


def choose_gender(dialog: ProfileDialog, gender: Gender) -> None:
    dialog.gender.setCurrentIndex(dialog.gender.findData(gender))


def test_f6_opens_the_profile_of_the_member_on_screen(qtbot: QtBot, window: TillWindow,
                                                      member: MemberCard) -> None:
    dialog = open_profile(qtbot, window, member)
    assert dialog.windowTitle() == f"编辑会员 {member.member_no} (F6)"


def test_f6_without_a_card_opens_nothing(qtbot: QtBot, window: TillWindow) -> None:
    qtbot.keyClick(window, Qt.Key.Key_F6)
    assert window.dialog is None


def test_changing_gender_and_tags_writes_one_profile_updated_event(
    qtbot: QtBot, window: TillWindow, till: Till, member: MemberCard
) -> None:
    dialog = open_profile(qtbot, window, member)
    before = till.table_counts()
    choose_gender(dialog, Gender.FEMALE)
    dialog.tags.setText("咖啡、亲子")
    with qtbot.waitSignal(window.card_shown):
        qtbot.keyClick(dialog, Qt.Key.Key_Return)
    # Plus the two fields' last-writer-wins versions, which sync compares against.
    assert added(before, till.table_counts()) == {"events": 1, "audit_log": 1,
                                                  "member_field_hlc": 2}
    assert count_events(till, PROFILE_UPDATED) == 1


def test_the_saved_profile_shows_on_the_card(qtbot: QtBot, window: TillWindow,
                                             member: MemberCard) -> None:
    dialog = open_profile(qtbot, window, member)
    choose_gender(dialog, Gender.FEMALE)
    dialog.tags.setText("咖啡、亲子")
    with qtbot.waitSignal(window.card_shown) as shown:
        qtbot.keyClick(dialog, Qt.Key.Key_Return)
    assert (shown.args[0].gender, shown.args[0].tags) == (Gender.FEMALE, ("咖啡", "亲子"))
    assert window.dialog is None
    qtbot.waitUntil(window.scan.hasFocus)


def test_a_bad_birthday_is_refused_inline_and_changes_nothing(
    qtbot: QtBot, window: TillWindow, till: Till, member: MemberCard
) -> None:
    dialog = open_profile(qtbot, window, member)
    before = till.table_counts()
    choose_gender(dialog, Gender.MALE)
    qtbot.keyClicks(dialog.birthday, "1990-13-40")
    with qtbot.assertNotEmitted(window.card_shown):
        qtbot.keyClick(dialog, Qt.Key.Key_Return)
    assert dialog.error.isVisible()
    assert "生日格式" in dialog.error.text()
    assert window.dialog is dialog
    assert till.table_counts() == before


def test_a_birthday_in_the_future_is_refused_by_the_core_inline(
    qtbot: QtBot, window: TillWindow, till: Till, member: MemberCard
) -> None:
    dialog = open_profile(qtbot, window, member)
    before = till.table_counts()
    qtbot.keyClicks(dialog.birthday, f"{till.clock.now().year + 1}-01-01")
    qtbot.keyClick(dialog, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.error.isVisible() and not window.ops.busy())
    assert dialog.save_button.isEnabled()
    assert till.table_counts() == before


def test_saving_without_a_change_writes_nothing(qtbot: QtBot, window: TillWindow, till: Till,
                                                member: MemberCard) -> None:
    dialog = open_profile(qtbot, window, member)
    before = till.table_counts()
    with qtbot.waitSignal(window.card_shown):
        qtbot.keyClick(dialog, Qt.Key.Key_Return)
    assert till.table_counts() == before


def test_enter_still_saves_after_tab_has_passed_over_the_buttons(
    qtbot: QtBot, window: TillWindow, member: MemberCard
) -> None:
    dialog = open_profile(qtbot, window, member)
    for _ in range(7):  # name → gender → birthday → tags → marketing → Save → Cancel → name
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
    dialog.tags.setFocus()
    dialog.tags.setText("VIP")
    with qtbot.waitSignal(window.card_shown) as shown:
        qtbot.keyClick(dialog.tags, Qt.Key.Key_Return)
    assert shown.args[0].tags == ("VIP",)
