"""The till window's public face: what a feature (points, stored value, the dashboard, …) may
ask of the window it plugs into, and the one way it plugs in.

A feature module has one ``register(host: TillHost) -> None``. In it the feature adds its
actions (``host.add_action``: a button, its keys, whether it needs a member on screen),
listens to what it cares about (``host.on_changed``, ``host.on_card_shown``,
``host.on_payment_code``), feeds codes it reads (``host.scan_code``) and asks for
work at start (``host.on_start``). After an operation it calls ``host.notify_changed`` with
what the operation changed; the window hands that, and what a sync round pulled, to every
screen that listens. Features import this module and never ``ui.till``; nothing here imports
a feature, so the ui package has no import circles (tests/ui/test_ui_structure.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from pos_member.errors import DomainError
from pos_member.permissions import Action, require
from pos_member.services.stored_value import SmsVerifier

if TYPE_CHECKING:
    from PySide6.QtWidgets import QDialog, QWidget

    from pos_member.bootstrap import App
    from pos_member.changes import Changes
    from pos_member.db.uow import UnitOfWork
    from pos_member.permissions import Clerk
    from pos_member.services.member_cards import MemberCard
    from pos_member.services.setup import TillIdentity
    from pos_member.services.staff import StaffInfo
    from ui.member_card import MemberCardView
    from ui.operations import Operations
    from ui.sync_worker import SyncStatus, SyncWorker


@dataclass(frozen=True, slots=True)
class TillAction:
    """One thing the cashier can do from the till window.

    ``key`` names the button (object name ``action_<key>``) and its place in the window's
    layout; ``label`` is marked with ``QT_TRANSLATE_NOOP("TillWindow", …)`` and translated by
    the window; ``shortcuts`` are window-wide keys. ``button=False``: keys only."""

    key: str
    label: str
    slot: Callable[[], None]
    shortcuts: tuple[str, ...] = ()
    needs_card: bool = False  # enabled only while a member's card is on screen
    visible: bool = True  # False: this clerk may not (the button is hidden, the key stays)
    button: bool = True


class SmsService(SmsVerifier, Protocol):
    """HQ's SMS codes as the till reaches them (``sync.client.SyncClient`` has these): the
    pay dialog sends the code; :func:`stored_value.pay` has it verified."""

    def sms_send(self, *, member_id: str, phone: str, amount_fen: int, txn_id: str) -> str: ...


@runtime_checkable
class TillHost(Protocol):
    """What the till window offers its features (implemented by ``ui.till.TillWindow``)."""

    app: App
    clerk: Clerk
    identity: TillIdentity
    uow: UnitOfWork
    ops: Operations
    sync: SyncWorker | None  # None: no server (not enrolled)
    card_view: MemberCardView
    dialog: QDialog | None  # the open dialog, if any
    sv_sms: SmsService | None  # HQ's SMS codes for stored-value payments, once made
    # A scan found nobody here, or only a directory card: (code, the local refusal or None,
    # how to report a refusal) → ask HQ (issue 14).
    remote_lookup: Callable[[str, Exception | None, Callable[[Exception], None]], None] | None

    # -- plugging in -------------------------------------------------------------------------
    def add_action(self, action: TillAction) -> None: ...

    def on_changed(self, slot: Callable[[Changes], None]) -> None:
        """``slot`` gets what each local operation and each sync round changed."""

    def on_card_shown(self, slot: Callable[[MemberCard], None]) -> None: ...

    def on_payment_code(self, slot: Callable[[MemberCard, str], None]) -> None:
        """``slot(card, code)``: the member's dynamic payment code was scanned while their
        card is on screen (the pay dialog opens with it, or an open one takes it)."""

    def on_coupon(self, slot: Callable[[str], None]) -> None:
        """``slot(code)``: a coupon was scanned or typed (the checkout takes it)."""

    def scan_code(self, text: str) -> None:
        """A code from a picture or a serial scanner, routed like the scan field's."""

    def on_start(self, job: Callable[[], None]) -> None:
        """``job`` runs when the controller starts the window's background work."""

    def on_stop(self, job: Callable[[], None]) -> None:
        """``job`` runs when the window closes (a feature's own thread stops there)."""

    def add_status_widget(self, widget: QWidget) -> None: ...

    # -- asking the window -------------------------------------------------------------------
    def window(self) -> QWidget: ...  # the parent of a feature's dialogs

    def current_card(self) -> MemberCard | None: ...

    def show_card(self, card: MemberCard) -> None: ...

    def focus_scan(self) -> None: ...

    def open_dialog(self, dialog: QDialog) -> None:
        """Window-modal and non-blocking; the scan field gets the focus back after."""

    def show_error(self, error: Exception) -> None: ...

    def show_info(self, text: str) -> None: ...

    def notify_changed(self, changes: Changes) -> None:
        """A local operation committed ``changes``: open screens refresh, the sync worker
        pushes soon, the member's queued notifications go out now."""

    def guides(self) -> list[StaffInfo]: ...

    def sync_status(self) -> SyncStatus: ...

    def take_unknown_phone(self) -> str | None:
        """The phone the last look-up found no member for (once; None if none): F2 offers
        to register it."""
        ...


def permitted(host: TillHost, action: Action) -> bool:
    """Whether the logged-in clerk may do ``action``; when not, the refusal is shown on the
    till (a screen a clerk may not open is not opened)."""
    try:
        require(host.clerk, action)
    except DomainError as e:
        host.show_error(e)
        return False
    return True
