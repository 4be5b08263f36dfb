"""Sends the members' notifications (储值变动、积分提醒) while the till runs.

The outbox (``pos_member.services.notifications``) is written in the same transaction as each
change; this pump drains it: every ``interval_ms`` (and when :meth:`kick` is called after a
change) it runs :func:`deliver_due` on the window's thread pool, never on the GUI thread, one
run at a time (a slow gateway never piles up runs). Failures stay in the outbox and are retried
with its backoff; nothing here raises into the window.

The channel is the log channel unless the till's config names an SMS gateway
(``sms_gateway_url``; its API key comes from the OS keyring, see :mod:`sync.sms_gateway`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from pos_member.db.uow import UnitOfWork
from pos_member.services.notifications import Channel, DeliveryReport, LogChannel, deliver_due
from ui.operations import Operations

log = logging.getLogger(__name__)

INTERVAL_MS = 30_000


def channel_for(sms_gateway_url: str | None) -> Channel:
    """The SMS gateway channel when one is configured, else the log channel."""
    if sms_gateway_url:
        from sync.sms_gateway import SmsGatewayChannel

        return SmsGatewayChannel(sms_gateway_url)
    return LogChannel()


class NotificationPump(QObject):
    """Lives on the GUI thread; its deliveries run on ``ops``' pool."""

    delivered = Signal(object)  # DeliveryReport, after each run (GUI thread)

    def __init__(self, uow: UnitOfWork, ops: Operations, *,
                 channel: Callable[[], Channel] = LogChannel, interval_ms: int = INTERVAL_MS,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._uow, self._ops = uow, ops
        self._make_channel = channel
        self._channel: Channel | None = None  # built on first use, off the GUI thread
        self._running = False
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.kick)

    def start(self) -> None:
        self._timer.start()
        self.kick()

    def stop(self) -> None:
        self._timer.stop()
        close = getattr(self._channel, "close", None)
        if close is not None and not self._running:
            close()

    def kick(self) -> None:
        """Delivers what is due now (no-op while a run is under way)."""
        if self._running:
            return
        self._running = True
        self._ops.run(self._deliver, self._done, self._failed)

    def _deliver(self) -> DeliveryReport:  # pool thread
        if self._channel is None:
            self._channel = self._make_channel()
        return deliver_due(self._uow, self._channel)

    def _done(self, report: DeliveryReport) -> None:
        self._running = False
        self.delivered.emit(report)

    def _failed(self, error: Exception) -> None:
        self._running = False  # the outbox keeps the messages; the next tick retries
        log.warning("notification delivery failed: %s", type(error).__name__)
