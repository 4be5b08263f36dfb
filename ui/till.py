"""The till screen: the scan field on top (always focused), the member card, the status bar.

Keys: F2 register · F3 back to the scan field · F5 reveal personal data (manager) · F6 edit
profile · F4 sale, Shift+F4 refund, F7 points ledger, Ctrl+F7 adjust points (manager's PIN) ·
Ctrl+G gifts and coupons for points ·
F8 top up stored value, F10 pay with stored value, Shift+F10 stored-value ledger ·
Ctrl+P print the card · F9 alerts (manager) · F11 recruitment dashboard (manager;
a guide: own progress) · F12 close the day (manager) · Esc clear
· Ctrl+L log out.

The sync state in the status bar comes from :class:`ui.sync_worker.SyncWorker` (its signals); the
window never holds the HTTP client. After a local change the window asks the worker to sync soon.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from pos_member.bootstrap import App
from pos_member.errors import DomainError, NotEnrolled
from pos_member.member_code import classify_code
from pos_member.permissions import ROLE_LABELS, Action, Clerk, Role, require
from pos_member.services import flags, member_cards, members
from pos_member.services.member_cards import MemberCard, RevealedData
from pos_member.services.staff import StaffInfo, list_staff
from ui import dashboard as kpi_ui
from ui import stored_value_ui
from ui.close_day_dialog import CloseDayDialog
from ui.flags_dialog import FlagsDialog
from ui.i18n import error_text, translate
from ui.member_card import MemberCardView
from ui.operations import Operations
from ui.printing import configure_card_page, print_card
from ui.profile_dialog import ProfileDialog
from ui.qr import qr_matrix
from ui.register_dialog import RegisterDialog
from ui.scan import ScanField
from ui.sync_view import status_line
from ui.sync_worker import SyncState, SyncStatus, SyncWorker
from ui.till_points import PointsActions


def with_qr(card: MemberCard) -> MemberCard:
    """Builds the card's QR matrix on the worker thread (segno's mask choice takes a couple of
    milliseconds), so the GUI thread only paints it."""
    qr_matrix(card.qr_payload)
    return card


class TillWindow(QMainWindow):
    card_shown = Signal(object)  # MemberCard, after the view shows it
    logout_requested = Signal()
    kpi_changed = Signal()  # a registration or sale was committed here (the dashboard reloads)

    def __init__(self, *, app: App, clerk: Clerk, sync: SyncWorker | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if app.identity is None:
            raise ValueError("the till is not set up")
        self.app, self.clerk, self.identity = app, clerk, app.identity
        self.sync = sync  # None: this window has no server (shown as not enrolled)
        # Sends queued member notifications now; the controller wires its pump's kick here.
        self.notify_members: Callable[[], None] = lambda: None
        self._sync_status = sync.status if sync else SyncStatus(SyncState.NOT_ENROLLED)
        self.uow = app.uow
        self.ops = Operations(self.show_error, self)
        self.setObjectName("tillWindow")
        self._guides: list[StaffInfo] = []
        self.dialog: QDialog | None = None  # the open dialog, if any (tests drive it)

        self.scan = ScanField()
        self.scan.submitted.connect(self.on_submitted)
        self.scan_label = QLabel()
        self.scan_label.setObjectName("scanLabel")
        self.scan_label.setBuddy(self.scan)
        self.banner = QLabel()
        self.banner.setObjectName("banner")
        self.banner.setWordWrap(True)
        self.banner.hide()

        self.empty = QLabel()
        self.empty.setObjectName("emptyHint")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.card_view = MemberCardView()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.card_view)

        # Two rows of buttons, each naming its key: the member in front of the till (sale,
        # points, stored value) above, the card and the day below. Keys, not Tab stops: the
        # scan field keeps the focus.
        self.actions_bar = QVBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        self.points = PointsActions(self)  # F4 sale, Shift+F4 refund, F7 ledger, Ctrl+F7 adjust
        rows = (
            (("register", self.open_register),
             ("sale", self.points.open_sale),
             ("refund", self.points.open_refund),
             ("ledger", self.points.open_ledger),
             ("gifts", self.points.open_gifts),
             ("topup", lambda: stored_value_ui.open_topup(self)),
             ("pay", lambda: stored_value_ui.open_pay(self)),
             ("sv_ledger", lambda: stored_value_ui.open_ledger(self))),
            (("reveal", self.reveal),
             ("edit", self.edit_profile),
             ("print", self.print_card),
             ("adjust", self.points.open_adjust),
             ("alerts", self.open_alerts),
             ("dashboard", self.open_dashboard),
             ("close_day", self.close_day),
             ("logout", self.logout_requested.emit)),
        )
        for row in rows:
            line = QHBoxLayout()
            for key, slot in row:
                b = QPushButton()
                b.setObjectName(f"action_{key}")
                b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
                b.clicked.connect(slot)
                line.addWidget(b)
                self.buttons[key] = b
            line.addStretch(1)
            self.actions_bar.addLayout(line)

        top = QFrame()
        top.setObjectName("scanBar")
        top_layout = QVBoxLayout(top)
        top_layout.addWidget(self.scan_label)
        top_layout.addWidget(self.scan)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(16, 12, 16, 8)
        layout.addWidget(top)
        layout.addWidget(self.banner)
        layout.addWidget(self.stack, 1)
        layout.addLayout(self.actions_bar)
        self.setCentralWidget(central)

        self.status_store = QLabel()
        self.status_clerk = QLabel()
        self.status_sync = QLabel()
        self.status_sync.setObjectName("syncState")
        for w in (self.status_store, self.status_clerk):
            self.statusBar().addWidget(w)
        self.statusBar().addPermanentWidget(self.status_sync)

        for keys, slot in (
            ("F2", self.open_register),
            ("F3", self.focus_scan),
            ("F4", self.points.open_sale),
            ("Shift+F4", self.points.open_refund),
            ("F7", self.points.open_ledger),
            ("Ctrl+F7", self.points.open_adjust),
            ("Ctrl+G", self.points.open_gifts),
            ("F5", self.reveal),
            ("F6", self.edit_profile),
            ("Ctrl+P", self.print_card),
            ("F9", self.open_alerts),
            ("F12", self.close_day),
            ("F11", self.open_dashboard),
            ("Esc", self.clear),
            ("Ctrl+L", self.logout_requested.emit),
        ):
            QShortcut(QKeySequence(keys), self, activated=slot)

        self.buttons["reveal"].setVisible(clerk.may(Action.REVEAL_PERSONAL_DATA))
        self.buttons["alerts"].setVisible(clerk.may(Action.REVIEW_FLAGS))
        self.buttons["close_day"].setVisible(clerk.may(Action.CLOSE_DAY))
        self.buttons["dashboard"].setVisible(
            clerk.may(Action.VIEW_KPI) or clerk.role is Role.GUIDE)
        if sync is not None:
            sync.status_changed.connect(self.show_sync_status)
        self.resize(1100, 720)
        self.retranslate()
        self._update_actions()
        self.ops.run(lambda: list_staff(self.uow), self._got_staff)
        self.my_progress = kpi_ui.attach_progress(self)  # a guide's target and progress
        stored_value_ui.attach(self)  # F8 top-up, F10 pay, Shift+F10 ledger
        if clerk.may(Action.REVIEW_FLAGS):
            self.ops.run(lambda: flags.open_flags(self.uow, clerk=clerk), self._got_flags)
        if app.rules_refused is not None:
            self.show_error(app.rules_refused)
        self.focus_scan()

    # -- text ---------------------------------------------------------------------------------
    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("POS Member — %1").replace("%1", self.identity.store_name))
        self.scan_label.setText(
            self.tr("&Scan member code, or type a phone or member number + Enter")
        )
        self.scan.setPlaceholderText(self.tr("Scan or type here…"))
        self.empty.setText(
            self.tr("Scan the member's code to show the card\n\nF2  Register a new member")
        )
        labels = {
            "register": self.tr("F2 Register"),
            "sale": self.tr("F4 Sale"),
            "ledger": self.tr("F7 Points"),
            "gifts": self.tr("Ctrl+G Gifts"),
            "refund": self.tr("Shift+F4 Refund"),
            "adjust": self.tr("Ctrl+F7 Adjust points"),
            "topup": self.tr("F8 Top up"),
            "pay": self.tr("F10 Pay by balance"),
            "sv_ledger": self.tr("Shift+F10 Stored value"),
            "reveal": self.tr("F5 Show full phone"),
            "edit": self.tr("F6 Edit profile"),
            "print": self.tr("Ctrl+P Print card"),
            "alerts": self.tr("F9 Alerts"),
            "close_day": self.tr("F12 Close the day"),
            "dashboard": self.tr("F11 Dashboard") if self.clerk.may(Action.VIEW_KPI)
            else self.tr("F11 My progress"),
            "logout": self.tr("Ctrl+L Log out"),
        }
        for key, text in labels.items():
            self.buttons[key].setText(text)
        self.status_store.setText(
            self.tr("Store: %1 · Till %2").replace("%1", self.identity.store_name).replace(
                "%2", str(self.identity.device_number))
        )
        self.status_clerk.setText(
            self.tr("Clerk: %1 (%2)").replace("%1", self.clerk.name).replace(
                "%2", translate("roles", ROLE_LABELS[self.clerk.role]))
        )
        self.show_sync_status(self._sync_status)
        self.card_view.refresh()

    def show_sync_status(self, status: SyncStatus) -> None:
        self._sync_status = status
        line = status_line(status, today=self.uow.clock.now().astimezone().date())
        self.status_sync.setText(line.text)
        self.status_sync.setToolTip(line.tooltip)
        if self.status_sync.property("kind") != line.kind:
            self.status_sync.setProperty("kind", line.kind)
            self.status_sync.style().unpolish(self.status_sync)
            self.status_sync.style().polish(self.status_sync)

    def _changed(self) -> None:
        """Something was written locally: the worker syncs it soon (debounced), and the
        notifications it queued for the member go out now rather than at the pump's next
        round."""
        self.kpi_changed.emit()  # a registration or sale: the dashboard and guide's line reload
        if self.sync is not None:
            self.sync.sync_now()
        self.notify_members()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    # -- the one error sink -------------------------------------------------------------------
    def show_error(self, error: Exception) -> None:
        if isinstance(error, DomainError):
            self._banner(error_text(error), error=True)
        else:
            self._banner(self.tr("Unexpected error (%1); nothing was changed.").replace(
                "%1", type(error).__name__), error=True)
        self.focus_scan()

    def show_info(self, text: str) -> None:
        self._banner(text, error=False)

    def _banner(self, text: str, *, error: bool) -> None:
        self.banner.setProperty("kind", "error" if error else "info")
        self.banner.style().unpolish(self.banner)
        self.banner.style().polish(self.banner)
        self.banner.setText(text)
        self.banner.show()

    # -- scanning -----------------------------------------------------------------------------
    def focus_scan(self) -> None:
        self.activateWindow()
        self.scan.setFocus(Qt.FocusReason.OtherFocusReason)

    def on_submitted(self, text: str, is_scan: bool) -> None:
        self.lookup(text)

    def lookup(self, code: str) -> None:
        """Code → card. Malformed input is told at once, without a trip to the database."""
        self.banner.hide()
        try:
            classify_code(code)
        except DomainError as e:
            self._lookup_failed(e)
            return
        clerk = self.clerk
        self.ops.run(
            lambda: with_qr(member_cards.find_member(self.uow, clerk=clerk, code=code)),
            self.show_card,
            self._lookup_failed,
        )

    def _lookup_failed(self, error: Exception) -> None:
        """A refused scan clears the card, so nobody acts on the previous member by mistake."""
        self.clear()
        self.show_error(error)

    def show_card(self, card: MemberCard) -> None:
        self.card_view.show_card(card)
        self.stack.setCurrentWidget(self.card_view)
        self._update_actions()
        self.points.card_shown(card)
        self.card_shown.emit(card)
        self.focus_scan()

    def clear(self) -> None:
        self.scan.clear()
        self.banner.hide()
        self.card_view.card = None
        self.stack.setCurrentWidget(self.empty)
        self._update_actions()
        self.focus_scan()

    def _update_actions(self) -> None:
        has_card = self.card_view.card is not None
        for key in ("reveal", "edit", "print", "ledger", "gifts", "adjust", "topup", "pay",
                    "sv_ledger"):
            self.buttons[key].setEnabled(has_card)

    # -- actions ------------------------------------------------------------------------------
    def _got_staff(self, staff: list[StaffInfo]) -> None:
        self._guides = staff

    def _got_flags(self, open_flags: list[flags.FlagView]) -> None:
        if open_flags:
            self.show_info(self.tr("%1 open alert(s) need your attention: press F9.").replace(
                "%1", str(len(open_flags))))

    def open_register(self) -> None:
        clerk = self.clerk
        dialog = RegisterDialog(
            ops=self.ops,
            register=lambda **kw: with_qr(members.register_member(self.uow, **kw)),
            clerk=clerk,
            guides=self._guides,
            privacy_version=self.uow.rules.registration.privacy_policy_version,
            parent=self,
        )
        dialog.registered.connect(self._registered)
        dialog.open_existing.connect(self._open_member)
        self._open_dialog(dialog)

    def _registered(self, card: MemberCard) -> None:
        self._changed()
        self.show_card(card)
        self.show_info(self.tr("Member %1 registered.").replace("%1", card.member_no))

    def _open_member(self, member_id: str) -> None:
        clerk = self.clerk
        self.ops.run(
            lambda: with_qr(member_cards.get_member(self.uow, clerk=clerk, member_id=member_id)),
            self.show_card,
        )

    def reveal(self) -> None:
        card = self.card_view.card
        if card is None:
            return
        clerk = self.clerk
        self.ops.run(
            lambda: member_cards.reveal_personal_data(self.uow, clerk=clerk, member_id=card.id),
            lambda data: self._show_revealed(card, data),
        )

    def _show_revealed(self, card: MemberCard, data: RevealedData) -> None:
        box = QMessageBox(self)
        box.setWindowTitle(self.tr("Personal data of %1").replace("%1", card.member_no))
        lines = [
            self.tr("Phone: %1").replace("%1", data.phone),
            self.tr("Name: %1").replace("%1", data.name or "—"),
            self.tr("Birthday: %1").replace(
                "%1", data.birthday.isoformat() if data.birthday else "—"),
            "",
            self.tr("This look-up has been recorded in the audit log."),
        ]
        box.setText("\n".join(lines))
        self._open_dialog(box)

    def edit_profile(self) -> None:
        card = self.card_view.card
        if card is None:
            return
        clerk = self.clerk
        dialog = ProfileDialog(
            ops=self.ops,
            card=card,
            save=lambda **kw: members.update_profile(
                self.uow, clerk=clerk, member_id=card.id, **kw),
            parent=self,
        )
        dialog.saved.connect(self.show_card)
        dialog.saved.connect(self._changed)
        self._open_dialog(dialog)

    def print_card(self) -> None:
        card = self.card_view.card
        if card is None:
            return
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        configure_card_page(printer)
        dialog = QPrintDialog(printer, self)
        if dialog.exec() == QPrintDialog.DialogCode.Accepted:
            print_card(printer, card)
        self.focus_scan()

    def open_alerts(self) -> None:
        clerk = self.clerk
        try:
            require(clerk, Action.REVIEW_FLAGS)
        except DomainError as e:
            self.show_error(e)
            return
        dialog = FlagsDialog(
            ops=self.ops,
            load=lambda: flags.open_flags(self.uow, clerk=clerk),
            resolve=lambda fid, note: flags.resolve_flag(
                self.uow, clerk=clerk, flag_id=fid, note=note),
            parent=self,
        )
        self._open_dialog(dialog)

    def close_day(self) -> None:
        """Closing time (日结, F12): managers only; runs on the sync thread, the dialog shows
        its progress and the report."""
        if self.sync is None:
            try:
                require(self.clerk, Action.CLOSE_DAY)
                raise NotEnrolled()
            except DomainError as e:
                self.show_error(e)
            return
        if self._start_closing():  # False: refused (shown), or one is running already
            self._open_dialog(
                CloseDayDialog(worker=self.sync, again=self._start_closing, parent=self))

    def _start_closing(self) -> bool:
        if self.sync is None:
            return False
        try:
            return self.sync.close_day(self.clerk)
        except DomainError as e:
            self.show_error(e)
            return False

    def open_dashboard(self) -> None:
        """F11: the recruitment dashboard (manager) or the guide's own progress."""
        kpi_ui.open_dashboard(self)

    def _open_dialog(self, dialog: QDialog) -> None:
        """Window-modal and non-blocking; the scan field gets focus back when it closes."""
        self.dialog = dialog
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(self._dialog_closed)
        dialog.open()

    def _dialog_closed(self) -> None:
        self.dialog = None
        self.focus_scan()

    def closeEvent(self, event: QEvent) -> None:
        self.ops.wait(3000)
        super().closeEvent(event)  # type: ignore[arg-type]

