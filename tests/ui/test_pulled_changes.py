"""What changed, through the real sync path: a sale rung up at another store reaches this till
through the server and the sync worker, which says which members and areas the pulled page
touched; the member's card on screen reloads from that."""

from __future__ import annotations

import threading
import uuid

from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from pos_member.changes import Area, Changes
from pos_member.services.points import points_summary
from pos_member.services.sales import record_sale
from tests.sync.harness import Till
from tests.ui.conftest import settle, show_active
from ui.points_view import points_tile
from ui.sync_worker import BackoffPolicy, SyncWorker
from ui.till import TillWindow


def test_a_card_on_screen_updates_when_another_stores_purchase_arrives(
        qtbot: QtBot, zh_app: QApplication, stores: tuple[Till, Till]) -> None:
    here, there = stores
    [card] = here.register()
    here.sync()
    there.sync()  # the member is known at the other store now
    worker = SyncWorker(here.app, lambda: here.keystore, interval=0.2, debounce=0.05,
                        policy=BackoffPolicy(base=0.05, cap=0.2, floor=0.01))
    window = TillWindow(app=here.app, clerk=here.clerk, sync=worker)
    qtbot.addWidget(window)
    show_active(qtbot, window)
    on_gui_thread: list[bool] = []  # the screens' listeners run where widgets may be touched
    window.on_changed(lambda _c: on_gui_thread.append(
        threading.current_thread() is threading.main_thread()))
    worker.start()
    try:
        with qtbot.waitSignal(window.card_shown, timeout=10_000):
            window.lookup(card.member_no)
        settle(qtbot, window)
        before = window.card_view.tile_text(0)[1]
        before_balance = points_summary(here.app.uow, member_id=card.id).balance
        assert before == points_tile(points_summary(here.app.uow, member_id=card.id))

        def about_the_member(changes: Changes) -> bool:
            return changes.touches_member(card.id)

        # The card reloads itself from the pulled change (the outer wait holds a reload that
        # comes while the inner one still waits).
        with qtbot.waitSignal(window.card_shown, timeout=15_000,
                              check_params_cb=lambda shown: shown.id == card.id), \
                qtbot.waitSignal(worker.pulled, timeout=15_000,
                                 check_params_cb=about_the_member) as pulled:
            record_sale(there.app.uow, there.clerk, txn_id=str(uuid.uuid4()),
                        bill_no="B-2-0001", amount_fen=12_000, member_id=card.id)
            there.sync()
        assert pulled.args[0].touches(Area.SALES, Area.POINTS)
        assert on_gui_thread and all(on_gui_thread)
        here_now = points_summary(here.app.uow, member_id=card.id)
        # The other store holds the member from the directory: only what its sale earned.
        earned_there = points_summary(there.app.uow, member_id=card.id).balance
        assert earned_there > 0
        assert here_now.balance == before_balance + earned_there
        settle(qtbot, window)  # the points tile is filled in after the card
        assert window.card_view.tile_text(0)[1] == points_tile(here_now) != before
        assert window.card_view.card is not None and window.card_view.card.id == card.id
    finally:
        assert worker.stop()
