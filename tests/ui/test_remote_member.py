"""A member of another store scanned at this till while online (issue 14): nobody here, so the
window asks HQ (off the GUI thread) and shows the card with the member's chain-wide balances,
marked as head office's; the till's own loaders leave those tiles alone."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from pos_member.money import format_yuan
from tests.sync.harness import Till, new_customer, top_up
from tests.ui.conftest import online_window, settle


def test_scanning_another_stores_member_online_shows_hq_balances(
        qtbot: QtBot, zh_app: QApplication, stores: tuple[Till, Till]) -> None:
    here, there = stores
    with online_window(qtbot, here) as window:
        # Registered and topped up at the other store after this till's round: not here.
        customer = new_customer(there.app, there.clerk, there.clock, "13912345671")
        top_up(there.app, there.clerk, customer)
        there.sync()
        with qtbot.waitSignal(window.card_shown, timeout=15_000) as shown:
            window.lookup("13912345671")
        card = shown.args[0]
        assert card.id == customer.member_id and card.hq is not None
        settle(qtbot, window)
        assert window.card_view.tile_text(1)[1] == format_yuan(11_000)
        assert window.card_view.tile_text(0)[1] == "100"
        assert not window.banner.isVisible()
