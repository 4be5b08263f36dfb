"""The main POS beside the till (issue 16): the local integration API and the watched folder
run while the till runs (integration_api/service.py: between cashiers' windows too), and the
manager's Ctrl+I shows the address and issues the token (shown once, with a copy button;
issuing again replaces it). A stored-value payment the POS asks for opens the till's own pay
dialog (:class:`TillPayDesk`).

Nothing here runs on the GUI thread that could wait: the keyring, the socket and the folder
are handled on threads; the API's payment request reaches the GUI thread through a queued
signal and waits there for the dialog's outcome. Without ``integration`` in the app (tests,
or ``integration_port = 0`` and no folder) the feature only offers the dialog.
"""

from __future__ import annotations

import logging
import weakref
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from integration_api.payments import WAIT_SECONDS, PaymentOutcome, PaymentRequest
from pos_member.crypto import KeyringKeyStore, KeyStore
from pos_member.i18n import QT_TRANSLATE_NOOP
from pos_member.integration.errors import PaymentNotPossible
from pos_member.integration.tokens import Authenticator
from pos_member.money import format_yuan
from pos_member.permissions import Action
from ui.host import TillAction, TillHost
from ui.i18n import translate
from ui.integration_dialog import IntegrationDialog
from ui.stored_value_ui import PayDialog
from ui.till_stored_value import open_pay

log = logging.getLogger(__name__)


@dataclass
class _Ask:
    request: PaymentRequest
    future: Future[PaymentOutcome]


class _Relay(QObject):
    """Lives on the GUI thread: the API thread's asks arrive there, queued."""

    ask = Signal(object)  # _Ask


class TillPayDesk:
    """The API's :class:`~integration_api.payments.PaymentDesk`: the till's pay dialog, for
    the member and amount the POS named (the amount cannot be changed); the member's second
    factor is entered there."""

    def __init__(self, host: TillHost) -> None:
        self.host = host
        self.relay = _Relay()
        self.relay.ask.connect(self._show)
        self.pending: set[Future[PaymentOutcome]] = set()

    def take_payment(self, request: PaymentRequest) -> PaymentOutcome:
        future: Future[PaymentOutcome] = Future()
        self.pending.add(future)
        self.relay.ask.emit(_Ask(request, future))
        try:
            return future.result(timeout=WAIT_SECONDS)
        except FutureTimeout:
            return PaymentOutcome(None)
        finally:
            self.pending.discard(future)

    def cancel_all(self) -> None:
        """The window closes: a payment still waiting is answered ``cancelled`` now."""
        for future in list(self.pending):
            if not future.done():
                future.set_result(PaymentOutcome(None))

    def _show(self, ask: _Ask) -> None:
        host, r = self.host, ask.request
        if host.dialog is not None:
            ask.future.set_exception(PaymentNotPossible(reason="a dialog is open at the till"))
            return
        host.show_card(r.card)
        open_pay(host)
        dialog = host.dialog
        if not isinstance(dialog, PayDialog):
            ask.future.set_exception(PaymentNotPossible(reason="the pay dialog did not open"))
            return
        dialog.txn_id = r.txn_id
        dialog.bill_no = r.bill_no
        dialog.amount.setText(format_yuan(r.amount_fen).lstrip("¥"))
        dialog.amount.setReadOnly(True)
        dialog.setWindowTitle(translate("TillWindow", "Pay with stored value: bill %1 (POS)")
                              .replace("%1", r.bill_no))
        dialog.secret.setFocus()

        def paid(result: object) -> None:
            if not ask.future.done():
                ask.future.set_result(PaymentOutcome(result))  # type: ignore[arg-type]

        def closed(*_: object) -> None:
            if not ask.future.done():
                ask.future.set_result(PaymentOutcome(None))

        dialog.done.connect(paid)
        dialog.finished.connect(closed)


class Integration:
    """The POS link as one till window sees it: the application's :class:`LinkService`, which
    runs while the till runs, lent this window's pay desk while it is open; a window opened
    without one (tests, a till window on its own) runs a service of its own for its lifetime."""

    def __init__(self, host: TillHost) -> None:
        from integration_api.service import LinkService

        self.host = host
        self.desk = TillPayDesk(host)
        shared = getattr(host.app, "link", None)
        self.owned = shared is None
        self.service: LinkService = shared if shared is not None else LinkService(
            host.app, keystore=lambda: self.keystore())
        self.config = self.service.config

    @property
    def auth(self) -> Authenticator:
        return self.service.auth

    @property
    def port(self) -> int | None:
        return self.service.port

    @property
    def problem(self) -> str | None:
        return self.service.problem

    @property
    def folder_problem(self) -> str | None:
        return self.service.folder_problem

    def keystore(self) -> KeyStore:
        if not self.owned:
            return self.service.keystore()
        sync = self.host.sync
        return sync.keystore() if sync is not None else KeyringKeyStore()

    def start(self) -> None:
        self.service.lend_desk(self.desk)
        if self.owned and self.service.wanted:
            self.service.start_in_background()

    def stop(self) -> None:
        self.service.lend_desk(None)
        self.desk.cancel_all()
        if self.owned:
            self.service.stop()


_OF: weakref.WeakKeyDictionary[object, Integration] = weakref.WeakKeyDictionary()


def of(host: TillHost) -> Integration:
    """The window's integration (tests, and support's diagnostics)."""
    return _OF[host]


def open_integration(host: TillHost, integration: Integration) -> None:
    if host.dialog is not None:
        return
    host.open_dialog(IntegrationDialog(host, integration.auth, keystore=integration.keystore,
                                       port=integration.port, problem=integration.problem,
                                       config=integration.config,
                                       folder_problem=integration.folder_problem))


def register(host: TillHost) -> None:
    integration = Integration(host)
    _OF[host] = integration
    may = host.clerk.may(Action.MANAGE_STAFF)
    host.add_action(TillAction("integration", QT_TRANSLATE_NOOP("TillWindow", "Ctrl+I POS link"),
                               lambda: open_integration(host, integration) if may else None,
                               ("Ctrl+I",), visible=may, button=False))
    host.on_start(integration.start)
    host.on_stop(integration.stop)
