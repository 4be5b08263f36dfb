"""Starting the till: the Qt application, language, style, login → till and back."""

from __future__ import annotations

import sys

from PySide6.QtCore import QTimer
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication

from pos_member.bootstrap import App
from pos_member.permissions import Clerk
from pos_member.resources import resource_path
from pos_member.services.staff import login
from ui.i18n import install_language, pick_language
from ui.login import LoginWindow
from ui.till import TillWindow

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
    return qt_app  # type: ignore[return-value]


class TillController:
    """Login window ↔ till window. Holds the windows so Python keeps them alive."""

    def __init__(self, app: App, language: str) -> None:
        if app.identity is None:
            raise ValueError("the till is not set up")
        self.app = app
        device_id = app.identity.device_id
        self.login = LoginWindow(
            store_name=app.identity.store_name,
            login=lambda code, secret: login(app.uow, code=code, secret=secret,
                                             device_id=device_id),
            language=language,
        )
        self.login.logged_in.connect(self.open_till)
        self.login.language_chosen.connect(install_language)
        self.till: TillWindow | None = None

    def show(self) -> None:
        self.login.show()
        self.login.raise_()
        self.login.code.setFocus()

    def open_till(self, clerk: Clerk) -> None:
        self.till = TillWindow(app=self.app, clerk=clerk)
        self.till.logout_requested.connect(self.logout)
        self.login.hide()
        self.till.show()
        self.till.focus_scan()

    def logout(self) -> None:
        if self.till is not None:
            self.till.close()
            self.till.deleteLater()
            self.till = None
        self.login.reset()
        self.show()


def run_till(app: App, *, language: str | None, exit_after: float | None = None) -> int:
    qt_app = make_qt_app(language)
    controller = TillController(app, pick_language(language))
    controller.show()
    print("Login window shown.", flush=True)
    if exit_after is not None:
        QTimer.singleShot(int(exit_after * 1000), qt_app.quit)
    try:
        return qt_app.exec()
    finally:
        app.close()
