"""Member service at the till (issue 20, "done when"): a manager, from the card on screen
(Ctrl+M), freezes, blacklists, changes the phone of, re-issues the card of and erases a member;
each waits for Ctrl+Enter on its figures (Enter changes nothing) and reaches the store's other
till after sync."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from pos_member.errors import MemberNotFound
from pos_member.member_service_errors import CardReplaced
from pos_member.permissions import Clerk, Role
from pos_member.services.member_auth import set_member_pin
from pos_member.services.member_cards import find_member, get_member
from tests.factories import PINS, Till, enrolled, make_till, new_data_key, new_phone, wire_events
from tests.factories import apply_pulled as apply
from tests.sync.harness import Till as HarnessTill
from tests.ui.conftest import confirm, online_window, open_dialog, settle, show_active
from ui.member_service_dialog import MemberServiceDialog
from ui.till import TillWindow

pytestmark = pytest.mark.usefixtures("cheap_hash")
PIN = "739182"
MANAGER_CODE = f"1{list(Role).index(Role.MANAGER)}01"  # tests.factories.make_till's numbering


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[Till, Till]]:
    key = new_data_key()
    a = make_till(tmp_path, data_key=key)
    assert a.app.identity is not None
    b = make_till(tmp_path, device_number=2, data_key=key, store_id=a.app.identity.store_id)
    yield a, b
    a.app.close()
    b.app.close()


def _scan(qtbot: QtBot, window: TillWindow, code: str) -> None:
    with qtbot.waitSignal(window.card_shown):
        qtbot.keyClicks(window.scan, code)
        qtbot.keyClick(window.scan, Qt.Key.Key_Return)
    settle(qtbot, window)


def _service(qtbot: QtBot, window: TillWindow, tab: int) -> MemberServiceDialog:
    dialog = open_dialog(qtbot, window, Qt.Key.Key_M, MemberServiceDialog,
                         Qt.KeyboardModifier.ControlModifier)
    dialog.tabs.setCurrentIndex(tab)
    return dialog


def _do(qtbot: QtBot, window: TillWindow, dialog: MemberServiceDialog, till: Till) -> None:
    """Enter (the figures), Enter again (back: nothing written), then Enter and Ctrl+Enter."""
    events = till.table_counts()["events"]
    qtbot.keyClick(dialog, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.confirming is not None)
    assert dialog.confirming is not None
    qtbot.waitUntil(dialog.confirming.isActiveWindow)
    qtbot.keyClick(dialog.confirming.focusWidget() or dialog.confirming, Qt.Key.Key_Return)
    settle(qtbot, window)
    assert till.table_counts()["events"] == events
    dialog.submit()
    confirm(qtbot, dialog)
    qtbot.waitUntil(lambda: window.dialog is None)
    settle(qtbot, window)


def test_a_manager_serves_a_member_from_the_card_and_the_other_till_follows(
        qtbot: QtBot, zh_app: QApplication, pair: tuple[Till, Till]) -> None:
    a, b = pair
    old, new = new_phone(), new_phone()
    card = a.register(old)
    set_member_pin(a.uow, clerk=a.cashier, approver=a.manager, member_id=card.id, pin=PIN)
    window = TillWindow(app=a.app, clerk=a.manager)
    qtbot.addWidget(window)
    show_active(qtbot, window)
    settle(qtbot, window)
    _scan(qtbot, window, card.member_no)

    for status, index in (("frozen", 1), ("blacklisted", 2)):
        dialog = _service(qtbot, window, 0)
        dialog.status.setCurrentIndex(index)
        dialog.status_reason.setText("多次恶意退货")
        _do(qtbot, window, dialog, a)
        assert get_member(a.uow, clerk=a.manager, member_id=card.id).standing == status
    dialog = _service(qtbot, window, 3)
    dialog.phone.setText(new)
    dialog.member_pin.setText(PIN)
    dialog.manager.setText(MANAGER_CODE)
    dialog.manager_pin.setText(PINS[Role.MANAGER])
    _do(qtbot, window, dialog, a)
    dialog = _service(qtbot, window, 2)
    dialog.card_reason.setText("会员卡丢失")
    _do(qtbot, window, dialog, a)
    apply(b, wire_events(a))
    found = find_member(b.uow, clerk=b.manager, code=new)
    assert (found.id, found.standing, found.card_generation) == (card.id, "blacklisted", 1)
    with pytest.raises(MemberNotFound):
        find_member(b.uow, clerk=b.cashier, code=old)
    with pytest.raises(CardReplaced):
        find_member(b.uow, clerk=b.cashier, code=card.qr_payload)

    enrolled(a)  # a till of a chain, offline: HQ's chain-wide balance is not known
    dialog = _service(qtbot, window, 4)
    events = a.table_counts()["events"]
    dialog.submit()
    confirm(qtbot, dialog)
    qtbot.waitUntil(lambda: "could not be checked" in dialog.message.text()
                    or "无法核对" in dialog.message.text())
    assert a.table_counts()["events"] == events
    assert not get_member(a.uow, clerk=a.manager, member_id=card.id).erased
    dialog.reject()
    window.ops.wait()


def test_online_a_manager_erases_a_member_hq_holds_no_money_for(
        qtbot: QtBot, zh_app: QApplication, stores: tuple[HarnessTill, HarnessTill]) -> None:
    """The erasure asks HQ's chain-wide balance through the till's own client (0 here)."""
    from pos_member.services.members import register_member

    here, _ = stores
    card = register_member(here.app.uow, clerk=here.clerk, phone=new_phone(),
                           privacy_consent=True)
    here.sync()
    with online_window(qtbot, here) as window:
        _scan(qtbot, window, card.member_no)
        dialog = _service(qtbot, window, 4)
        dialog.submit()
        confirm(qtbot, dialog)
        qtbot.waitUntil(lambda: window.dialog is None, timeout=15_000)
        settle(qtbot, window)
        window.ops.wait()
    assert get_member(here.app.uow, clerk=here.clerk, member_id=card.id).erased


def test_the_tier_end_date_defaults_to_three_months_from_the_store_s_today(
        qtbot: QtBot, open_till: Callable[[Clerk], TillWindow], till: Till) -> None:
    """From the injected clock in the store's zone, not the PC's date: 17:00 UTC on 31 March
    is 1 April in Shanghai, so the default end is 1 July."""
    till.clock.set(datetime(2026, 3, 31, 17, 0, tzinfo=UTC))
    card = till.register(new_phone())
    window = open_till(till.manager)
    _scan(qtbot, window, card.member_no)
    dialog = _service(qtbot, window, 1)
    assert dialog.tier_until.date().toPython() == date(2026, 7, 1)
