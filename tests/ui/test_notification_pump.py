"""The running till sends the members' notifications from the outbox, off the GUI thread."""

from __future__ import annotations

import logging

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from pos_member.db.models import NotificationOutbox
from pos_member.services.stored_value import top_up
from tests.factories import Till, make_till, without_welcome_pack
from ui.app import TillController


@pytest.fixture
def till(tmp_path):  # type: ignore[no-untyped-def]
    return make_till(tmp_path)


def _statuses(till: Till) -> list[str]:
    with till.uow.read() as s:
        return list(s.scalars(select(NotificationOutbox.status)))


def test_a_queued_notification_is_delivered_by_the_running_till(
        qtbot: QtBot, zh_app: QApplication, till: Till,
        caplog: pytest.LogCaptureFixture) -> None:
    without_welcome_pack(till)  # one message to follow: the top-up's
    member = till.register()
    top_up(till.uow, clerk=till.cashier, member_id=member.id, amount_fen=10000, method="cash",
           txn_id="t1")
    assert _statuses(till) == ["pending"]
    controller = TillController(lambda: till.app, "门店1", "zh_CN",
                                keystore=lambda: till.keystore)
    controller.start()
    qtbot.waitUntil(lambda: controller.app is not None)
    caplog.set_level(logging.INFO, logger="pos_member.services.notifications")
    try:
        controller.open_till(till.cashier)
        qtbot.waitUntil(lambda: _statuses(till) == ["sent"], timeout=5000)
        assert any("sv.topped_up" in r.getMessage() for r in caplog.records)  # the log channel
        assert controller.notifier is not None
    finally:
        controller.logout()
        controller.close()
