"""The till screen: the scan field on top (always focused), the member card, the buttons, the
status bar. The window is a host (:class:`ui.host.TillHost`): every feature plugs in the same
way, through its module's ``register(host)``, and reaches the window only through that face.

Keys: F2 register · F3 back to the scan field · F5 reveal personal data (manager) · F6 edit
profile · F4 checkout (the sale and its tenders), Shift+F4 refund from the bill, F7 points
ledger, Ctrl+F7 adjust points (manager's PIN) · Ctrl+G gifts and coupons for points · Ctrl+K
a coupon by hand (manager's PIN) · Ctrl+H the member's purchases · F8 top up stored value,
F10 pay with stored value outside a checkout,
Shift+F10 stored-value ledger ·
Ctrl+P print the card · Ctrl+O decode a code from a picture · F9 alerts (manager) ·
Ctrl+U staff (manager) · F11 recruitment dashboard (manager; a guide: own progress) ·
F12 close the day (manager) · Esc clear · Ctrl+L log out.

What changed: a feature's operation calls :meth:`TillWindow.notify_changed` with its result's
:class:`pos_member.changes.Changes`; the sync worker's ``pulled`` signal brings what a round
pulled from the server. Both go out on :attr:`TillWindow.changed`: the member card on screen
reloads when its member is among them, and each open screen refreshes what it shows.

The sync state in the status bar comes from :class:`ui.sync_worker.SyncWorker` (its signals); the
window never holds the HTTP client. After a local change the window asks the worker to sync soon.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from pos_member.bootstrap import App
from pos_member.changes import Changes
from pos_member.errors import ClerkNoLongerActive, DomainError, MemberNotFound
from pos_member.i18n import QT_TRANSLATE_NOOP
from pos_member.member_code import CodeKind, classify_code
from pos_member.permissions import ROLE_LABELS, Clerk
from pos_member.services import member_cards, remote_members
from pos_member.services.member_cards import MemberCard
from pos_member.services.staff import StaffInfo, list_staff
from ui import (
    till_alerts,
    till_camera,
    till_closing,
    till_coupons,
    till_insight,
    till_integration,
    till_kpi,
    till_member,
    till_member_service,
    till_points,
    till_remote_member,
    till_scan_image,
    till_serial,
    till_staff,
    till_stored_value,
)
from ui.host import SmsService, TillAction, TillHost
from ui.i18n import error_text, translate
from ui.member_card import MemberCardView
from ui.member_search import MemberSearch
from ui.operations import Operations
from ui.qr import with_qr
from ui.scan import ScanField
from ui.scan_router import PaymentCodeSlot, ScanRouter
from ui.screen_fit import ScrollBody, open_at
from ui.sync_view import status_line
from ui.sync_worker import SyncState, SyncStatus, SyncWorker

# Every feature of the till, in the order they plug in (the order their card listeners run).
FEATURES: tuple[Callable[[TillHost], None], ...] = (
    till_member.register,  # F2 register, F5 reveal, F6 edit, Ctrl+P print
    till_points.register,  # F4 sale, Shift+F4 refund, F7 ledger, Ctrl+F7 adjust, Ctrl+G gifts
    till_stored_value.register,  # F8 top-up, F10 pay, Shift+F10 ledger
    till_coupons.register,  # the coupons tile, Ctrl+K a coupon by hand (issue 18)
    till_remote_member.register,  # another store's member: HQ's card and balances (issue 14)
    till_member_service.register,  # Ctrl+M status, tier, lost card, phone, erasure (issue 20)
    till_alerts.register,  # F9 alerts
    till_staff.register,  # Ctrl+U staff (managers)
    till_kpi.register,  # F11 dashboard or my progress
    till_insight.register,  # Shift+F11 programme health (issue 19)
    till_closing.register,  # F12 close the day
    till_scan_image.register,  # Ctrl+O decode a code from a picture
    till_serial.register,  # a serial-port scanner, when config.toml names one
    till_camera.register,  # camera scanning, where QtMultimedia and a camera exist
    till_integration.register,  # the main POS: local API, watched folder, Ctrl+I (managers)
)

# Where the buttons go: the member in front of the till (sale, points, stored value) on top,
# the card in the middle, the store's back office (alerts, staff, the day) below: three short
# rows fit a 1024-pixel screen. A key not named here goes at the end of the last row.
BUTTON_ROWS = (
    ("register", "sale", "refund", "ledger", "gifts", "topup", "pay", "sv_ledger"),
    ("reveal", "edit", "print", "purchases", "adjust", "service"),
    ("alerts", "staff", "dashboard", "close_day", "decode_image", "logout"),
)


def unknown_phone(error: Exception, code: str) -> str | None:
    """The phone of a look-up that found no member ("" or None: not a phone, or not that)."""
    if not isinstance(error, MemberNotFound):
        return None
    try:
        scanned = classify_code(code)
    except DomainError:
        return None
    return scanned.value if scanned.kind is CodeKind.PHONE else None


class TillWindow(QMainWindow):
    card_shown = Signal(object)  # MemberCard, after the view shows it
    logout_requested = Signal()
    changed = Signal(object)  # Changes: a local operation's, or a sync round's pulled ones

    def __init__(self, *, app: App, clerk: Clerk, sync: SyncWorker | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if app.identity is None:
            raise ValueError("the till is not set up")
        self.app, self.clerk, self.identity = app, clerk, app.identity
        self.sync = sync  # None: this window has no server (shown as not enrolled)
        # Sends queued member notifications now; the controller wires its pump's kick here.
        self.notify_members: Callable[[], None] = lambda: None
        self.sv_sms: SmsService | None = None
        # A scan found nobody here: ask HQ (``till_remote_member``), else the refusal stands.
        self.remote_lookup: Callable[
            [str, Exception | None, Callable[[Exception], None]], None] | None = None
        self._sync_status = sync.status if sync else SyncStatus(SyncState.NOT_ENROLLED)
        self.uow = app.uow
        self.ops = Operations(self.show_error, self)
        self.setObjectName("tillWindow")
        self._guides: list[StaffInfo] = []
        self._actions: dict[str, TillAction] = {}
        self._start_jobs: list[Callable[[], None]] = []
        self._stop_jobs: list[Callable[[], None]] = []
        self.dialog: QDialog | None = None  # the open dialog, if any (tests drive it)
        self._unknown_phone: str | None = None  # a phone no member has: F2 registers it
        self.buttons: dict[str, QPushButton] = {}
        # a name or the phone's last four digits typed in the scan field
        self.member_search = MemberSearch(self, failed=self._lookup_failed)
        self.router = ScanRouter(self, lookup=self.lookup, malformed=self._lookup_failed,
                                 search=self.member_search.search)
        self._build()
        for keys, slot in (("F3", self.focus_scan), ("Esc", self.clear)):
            QShortcut(QKeySequence(keys), self, activated=slot)
        for feature in FEATURES:
            feature(self)
        self.add_action(TillAction("logout", QT_TRANSLATE_NOOP("TillWindow", "Ctrl+L Log out"),
                                   self.logout_requested.emit, ("Ctrl+L",)))
        self.changed.connect(self._reload_card_if_touched)
        if sync is not None:
            sync.status_changed.connect(self.show_sync_status)
            sync.pulled.connect(self._pulled)  # another till's change: screens refresh
        open_at(self, 1100, 720)  # a 1024×768 screen: 1008×720 (ui/screen_fit.py)
        self.retranslate()
        self._update_actions()
        self.ops.run(lambda: list_staff(self.uow), self._got_staff)
        if app.rules_refused is not None:
            self.show_error(app.rules_refused)
        self.focus_scan()

    def _build(self) -> None:
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
        self.card_view = MemberCardView(zone=self.uow.clock.zone)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.card_view)

        # Keys, not Tab stops: the scan field keeps the focus.
        self.actions_bar = QVBoxLayout()
        self.actions_bar.setSpacing(4)  # three rows of buttons still fit 768 pixels high
        self._rows: list[tuple[QHBoxLayout, list[int]]] = []  # each row's buttons' places
        for _ in BUTTON_ROWS:
            line = QHBoxLayout()
            line.addStretch(1)
            self.actions_bar.addLayout(line)
            self._rows.append((line, []))

        top = QFrame()
        top.setObjectName("scanBar")
        top_layout = QVBoxLayout(top)
        top_layout.addWidget(self.scan_label)
        top_layout.addWidget(self.scan)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(16, 12, 16, 4)
        layout.addWidget(top)
        # The banner and the card scroll when the screen is too small for both: at 1008×720
        # (a 1024×768 screen) the card leaves no room for a banner, which pushed the keys and
        # the status bar below the screen.
        body = ScrollBody()
        body.setObjectName("cardBody")
        body_layout = QVBoxLayout(body)
        body_layout.setContentsMargins(0, 0, 0, 0)
        body_layout.addWidget(self.banner)
        body_layout.addWidget(self.stack, 1)
        self.card_scroll = QScrollArea()
        self.card_scroll.setObjectName("cardScroll")
        self.card_scroll.setWidgetResizable(True)
        self.card_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.card_scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the scan field keeps it
        self.card_scroll.setWidget(body)
        layout.addWidget(self.card_scroll, 1)
        layout.addLayout(self.actions_bar)
        self.setCentralWidget(central)

        self.status_store = QLabel()
        self.status_clerk = QLabel()
        self.status_sync = QLabel()
        self.status_sync.setObjectName("syncState")
        for w in (self.status_store, self.status_clerk):
            self.statusBar().addWidget(w)
        self.statusBar().addPermanentWidget(self.status_sync)

    # -- the host's face (ui.host.TillHost) ---------------------------------------------------
    def add_action(self, action: TillAction) -> None:
        """A feature's action: its window-wide keys, and its button in its place of
        ``BUTTON_ROWS`` (labelled by :meth:`retranslate`)."""
        if action.key in self._actions:
            raise ValueError(f"the till has an action {action.key!r} already")
        self._actions[action.key] = action
        for keys in action.shortcuts:
            QShortcut(QKeySequence(keys), self, activated=action.slot)
        if not action.button:
            return
        row, place = next(((r, keys.index(action.key)) for r, keys in enumerate(BUTTON_ROWS)
                           if action.key in keys), (len(BUTTON_ROWS) - 1, 1000))
        line, places = self._rows[row]
        index = sum(1 for p in places if p < place)
        places.insert(index, place)
        b = QPushButton(translate("TillWindow", action.label))
        b.setObjectName(f"action_{action.key}")
        b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        b.clicked.connect(action.slot)
        b.setEnabled(not action.needs_card or self.card_view.card is not None)
        line.insertWidget(index, b)
        b.setVisible(action.visible)  # once it has its parent (else it would be a window)
        self.buttons[action.key] = b

    def on_changed(self, slot: Callable[[Changes], None]) -> None:
        self.changed.connect(slot)

    def on_card_shown(self, slot: Callable[[MemberCard], None]) -> None:
        self.card_shown.connect(slot)

    def on_payment_code(self, slot: PaymentCodeSlot) -> None:
        self.router.on_payment_code(slot)

    def on_coupon(self, slot: Callable[[str], None]) -> None:
        self.router.on_coupon(slot)

    def scan_code(self, text: str) -> None:
        """A code from a picture or a serial scanner: routed like the scan field's."""
        self.router.submit(text)

    def on_start(self, job: Callable[[], None]) -> None:
        self._start_jobs.append(job)

    def on_stop(self, job: Callable[[], None]) -> None:
        self._stop_jobs.append(job)

    def start(self) -> None:
        """Starts the features' background work (the controller calls it once)."""
        for job in self._start_jobs:
            job()

    def add_status_widget(self, widget: QWidget) -> None:
        self.statusBar().addWidget(widget)

    def current_card(self) -> MemberCard | None:
        return self.card_view.card

    def guides(self) -> list[StaffInfo]:
        return self._guides

    def sync_status(self) -> SyncStatus:
        return self._sync_status

    def notify_changed(self, changes: Changes) -> None:
        """A local operation committed ``changes``: open screens refresh from them, the worker
        syncs soon (debounced), and the notifications it queued for the member go out now
        rather than at the pump's next round."""
        self.changed.emit(changes)
        if self.sync is not None:
            self.sync.sync_now()
        self.notify_members()

    def _pulled(self, changes: Changes) -> None:
        """What a sync round pulled (a slot of the window: it runs on the GUI thread, whatever
        thread the worker emitted from)."""
        self.changed.emit(changes)

    def open_dialog(self, dialog: QDialog) -> None:
        """Window-modal and non-blocking; the scan field gets focus back when it closes."""
        self.dialog = dialog
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(self._dialog_closed)
        dialog.open()

    def _dialog_closed(self) -> None:
        self.dialog = None
        self.focus_scan()

    # -- text ---------------------------------------------------------------------------------
    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("POS Member — %1").replace("%1", self.identity.store_name))
        self.scan_label.setText(
            self.tr("&Scan member code, or type a phone, member number, name or the phone's "
                    "last four digits + Enter")
        )
        self.scan.setPlaceholderText(self.tr("Scan or type here…"))
        self.empty.setText(
            self.tr("Scan the member's code to show the card\n\nF2  Register a new member")
        )
        for key, b in self.buttons.items():
            b.setText(translate("TillWindow", self._actions[key].label))
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
        line = status_line(status, today=self.uow.clock.today(), zone=self.uow.clock.zone)
        self.status_sync.setText(line.text)
        self.status_sync.setToolTip(line.tooltip)
        if self.status_sync.property("kind") != line.kind:
            self.status_sync.setProperty("kind", line.kind)
            self.status_sync.style().unpolish(self.status_sync)
            self.status_sync.style().polish(self.status_sync)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    # -- the one error sink -------------------------------------------------------------------
    def show_error(self, error: Exception) -> None:
        if isinstance(error, ClerkNoLongerActive):  # deactivated or re-roled: log in again
            self.logout_requested.emit()
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
        """Routed by content (``ui.scan_router``), typed or scanned alike."""
        self.banner.hide()
        self.router.submit(text)

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
            lambda card: self._found(code, card),
            lambda e: self._not_found_here(code, e),
        )

    def _found(self, code: str, card: MemberCard) -> None:
        """A card from the chain's directory (another store's member) is shown at once, then
        HQ's card and balances replace it when HQ answers; when it cannot, it stays."""
        self.show_card(card)
        if self.remote_lookup is not None and remote_members.from_directory(card):
            self.remote_lookup(code, None, self._directory_lookup_failed)

    def _directory_lookup_failed(self, error: Exception) -> None:
        if not isinstance(error, MemberNotFound):  # HQ refused otherwise: say so, keep the card
            self.show_error(error)

    def _not_found_here(self, code: str, error: Exception) -> None:
        """Nobody here: HQ may know the member (another store's; ``till_remote_member``)."""
        if isinstance(error, MemberNotFound) and self.remote_lookup is not None:
            self.remote_lookup(code, error, lambda e: self._lookup_failed(e, code))
        else:
            self._lookup_failed(error, code)

    def _lookup_failed(self, error: Exception, code: str = "") -> None:
        """A refused scan clears the card, so nobody acts on the previous member by mistake.
        A phone no member has is offered for registration (F2 carries it into the form)."""
        self.clear()
        self.show_error(error)
        phone = unknown_phone(error, code)
        if phone is not None and isinstance(error, DomainError):
            self._unknown_phone = phone
            self._banner(error_text(error) + "  " + self.tr(
                "F2 registers a new member with this phone."), error=False)

    def take_unknown_phone(self) -> str | None:
        phone, self._unknown_phone = self._unknown_phone, None
        return phone

    def show_card(self, card: MemberCard) -> None:
        self._put_card(card)
        self.focus_scan()

    def _put_card(self, card: MemberCard) -> None:
        self.card_view.show_card(card)
        self.stack.setCurrentWidget(self.card_view)
        self._update_actions()
        self.card_shown.emit(card)  # the features fill in their tiles

    def _reload_card_if_touched(self, changes: Changes) -> None:
        """The member on screen is among ``changes``: the card reloads in place (the focus
        stays where it is: a dialog open on top keeps it)."""
        card = self.card_view.card
        if card is None or card.hq is not None or not changes.touches_member(card.id):
            return  # (a remote card is HQ's: nothing here changes it)
        clerk, member_id = self.clerk, card.id

        def put(fresh: MemberCard) -> None:
            if self.card_view.card is not None and self.card_view.card.id == member_id:
                self._put_card(fresh)

        self.ops.run(
            lambda: member_cards.get_member(self.uow, clerk=clerk, member_id=member_id), put)

    def clear(self) -> None:
        self._unknown_phone = None
        self.scan.clear()
        self.banner.hide()
        self.card_view.card = None
        self.stack.setCurrentWidget(self.empty)
        self._update_actions()
        self.focus_scan()

    def _update_actions(self) -> None:
        has_card = self.card_view.card is not None
        for key, b in self.buttons.items():
            if self._actions[key].needs_card:
                b.setEnabled(has_card)

    def _got_staff(self, staff: list[StaffInfo]) -> None:
        self._guides = staff

    def closeEvent(self, event: QEvent) -> None:
        for job in self._stop_jobs:
            job()
        self._stop_jobs.clear()
        self.ops.wait(3000)
        super().closeEvent(event)  # type: ignore[arg-type]
