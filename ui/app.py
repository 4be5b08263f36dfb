"""Starting the till: the Qt application, language, style, login → till and back.

Start-up order, for a login window in well under a second: Qt and the login window first (the
store's name comes from a bare sqlite3 glance), then the core is opened on a worker thread
(SQLAlchemy, migrations, rules, the data key from the OS keyring) while the clerk types. The
login button waits for it; an Enter pressed before then logs in as soon as the core is ready.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtGui import QFont, QFontDatabase, QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from pos_member.errors import DomainError
from pos_member.permissions import Clerk
from pos_member.resources import resource_path
from ui.i18n import error_text, install_language, pick_language, translate
from ui.login import LoginWindow

if TYPE_CHECKING:
    from pos_member.bootstrap import App
    from pos_member.crypto import KeyStore
    from ui.notification_pump import NotificationPump
    from ui.sync_worker import SyncWorker
    from ui.till import TillWindow

log = logging.getLogger(__name__)

# CJK fonts by platform, first found wins; Qt falls back per glyph if none is present.
_FONTS = ("Microsoft YaHei UI", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC",
          "WenQuanYi Micro Hei", "PingFang SC")


def make_qt_app(language: str | None) -> QApplication:
    qt_app = QApplication.instance() or QApplication(sys.argv[:1])
    qt_app.setApplicationName("POS Member")
    qt_app.setOrganizationName("pos-member")
    families = set(QFontDatabase.families())
    font = QFont(next((f for f in _FONTS if f in families), qt_app.font().family()))
    font.setPointSize(11)
    qt_app.setFont(font)
    qt_app.setStyleSheet(resource_path("styles", "till.qss").read_text(encoding="utf-8"))
    install_language(pick_language(language))
    qt_app.setWindowIcon(QIcon(str(resource_path("icons", "pos-member.png"))))
    return qt_app  # type: ignore[return-value]


def show_refusal(error: DomainError, language: str | None) -> None:
    """A refusal before the till's window opens, in a window of its own (the windowed till
    program has no console): the same text the console program prints, translated."""
    make_qt_app(language)
    box = QMessageBox(QMessageBox.Icon.Critical, translate("TillStart", "POS Member"),
                      error_text(error))
    box.setObjectName("startRefusal")
    box.exec()


class TillController:
    """Login window ↔ till window. Holds the windows so Python keeps them alive.

    ``open_app`` builds the core (slow imports, migrations, keyring); it runs on a worker thread
    started by :meth:`start`. While a till window is open, a :class:`ui.sync_worker.SyncWorker`
    syncs in the background; it reads the server's address and the device token (from
    ``keystore``, default the OS keyring) on its own thread, and a till without them shows
    "not enrolled" and never syncs. Logging out or closing stops it.
    """

    def __init__(self, open_app: Callable[[], App], store_name: str, language: str, *,
                 keystore: Callable[[], KeyStore] | None = None,
                 sms_gateway_url: str | None = None) -> None:
        self._open_app = open_app
        self._sms_gateway_url = sms_gateway_url
        self.notifier: NotificationPump | None = None  # member notifications, while a till runs
        self._keystore = keystore or _os_keyring
        self.sync: SyncWorker | None = None
        self.app: App | None = None
        self.login = LoginWindow(store_name=store_name, login=self._login, language=language)
        self.login.logged_in.connect(self.open_till)
        self.login.language_chosen.connect(install_language)
        self.till: TillWindow | None = None
        self._when_done: Callable[[bool], None] | None = None

    def start(self, *, when_done: Callable[[bool], None] | None = None) -> None:
        """Opens the core on a worker thread; ``when_done(ok)`` is called on the GUI thread
        once it is open (True) or could not be opened (False)."""
        self._when_done = when_done
        self.login.set_ready(False)
        self.login.ops.run(self._open_app, self._opened, self._failed)

    def _opened(self, app: App) -> None:
        self.app = app
        self._start_link(app)
        self.login.set_ready(True)
        print("Till ready.", flush=True)
        if self._when_done is not None:
            self._when_done(True)

    def _failed(self, error: Exception) -> None:
        self.login.show_failure(error)
        if self._when_done is not None:
            self._when_done(False)

    def _login(self, code: str, secret: str) -> Clerk:
        from pos_member.services.staff import login

        app = self.app
        if app is None or app.identity is None:
            raise RuntimeError("the core is not open yet")
        return login(app.uow, code=code, secret=secret, device_id=app.identity.device_id)

    def show(self) -> None:
        self.login.show()
        self.login.raise_()
        self.login.code.setFocus()

    def open_till(self, clerk: Clerk) -> None:
        from ui.sync_worker import SyncWorker
        from ui.till import TillWindow

        if self.app is None:
            return
        self._stop_sync()
        self.sync = SyncWorker(self.app, self._keystore)
        self.till = TillWindow(app=self.app, clerk=clerk, sync=self.sync)
        self.till.start()  # the features' background work (points expiry, tier evaluation)
        self._start_notifier(self.till)
        self.sync.start()
        self.till.logout_requested.connect(self.logout)
        self.login.hide()
        self.till.showMaximized()  # a till's screen is the till's (issue 17); still resizable
        self.till.focus_scan()

    def logout(self) -> None:
        self._stop_sync()
        if self.till is not None:
            self.till.close()
            self.till.deleteLater()
            self.till = None
        self.login.reset()
        self.show()

    def _start_notifier(self, till: TillWindow) -> None:
        from ui.notification_pump import NotificationPump, channel_for

        if self.app is None:
            return
        url = self._sms_gateway_url
        self.notifier = NotificationPump(self.app.uow, till.ops, channel=lambda: channel_for(url),
                                         parent=till)
        till.notify_members = self.notifier.kick
        self.notifier.start()

    def _stop_sync(self) -> None:
        if self.notifier is not None:
            self.notifier.stop()
            self.notifier = None
        if self.sync is not None:
            self.sync.stop()
            self.sync.deleteLater()
            self.sync = None

    def _start_link(self, app: App) -> None:
        """The POS link runs from now until the application quits, between cashiers too
        (integration_api/service.py); each till window lends it its pay desk."""
        try:
            from integration_api.service import LinkService

            link = LinkService(app, keystore=self._keystore)
        except Exception:  # the till works without its POS link; the log says why
            log.exception("POS link not started")
            return
        if link.wanted:
            app.link = link
            link.start_in_background()

    def close(self) -> None:
        self._stop_sync()
        self.login.ops.wait()
        if self.app is not None:
            if self.app.link is not None:
                self.app.link.stop()
                self.app.link = None
            self.app.close()


def _os_keyring() -> KeyStore:
    from pos_member.crypto import KeyringKeyStore

    return KeyringKeyStore()


def run_till(
    open_app: Callable[[], App],
    *,
    store_name: str,
    language: str | None,
    exit_after: float | None = None,
    exit_when_ready: bool = False,
    sms_gateway_url: str | None = None,
) -> int:
    """Runs the till until its windows close. ``exit_after`` quits after that many seconds;
    ``exit_when_ready`` quits once the core is open (exit 0) or failed to open (exit 1), so a
    smoke test waits for the till, however slow the machine, not for a fixed time."""
    qt_app = make_qt_app(language)
    controller = TillController(open_app, store_name, pick_language(language),
                                sms_gateway_url=sms_gateway_url)
    controller.show()
    qt_app.processEvents()
    print("Login window shown.", flush=True)
    if exit_when_ready:
        def done(ok: bool) -> None:
            if not ok:
                print("Till could not open (see the login window's message).", file=sys.stderr)
            qt_app.exit(0 if ok else 1)

        controller.start(when_done=done)
    else:
        controller.start()
    if exit_after is not None:
        QTimer.singleShot(int(exit_after * 1000), qt_app.quit)
    try:
        return qt_app.exec()
    finally:
        controller.close()
