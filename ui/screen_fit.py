"""Window sizes that fit the till's screen.

The smallest till screens are 1024×768 (SPEC §5). A window asks for the size it looks best at
(:func:`open_at`) and gets it bounded by the screen it opens on, less a window frame and title
bar (``FRAME``): a 1180×820 dashboard opens at 1008×720 on a 1024×768 screen and keeps 1180
wide on a 1366×768 one. Never below the window's own smallest size, which every screen keeps
within 1024×720 (tests/ui/test_screen_fit.py); what does not fit scrolls.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

FRAME = QSize(16, 48)  # a window's borders and title bar (the taskbar is outside availableGeometry)


def opening_size(wanted: QSize, available: QRect, minimum: QSize) -> QSize:
    """``wanted`` bounded by ``available`` (a screen's free area) less the frame, never below
    ``minimum``."""
    room = QSize(available.width() - FRAME.width(), available.height() - FRAME.height())
    return wanted.boundedTo(room).expandedTo(minimum)


def open_at(window: QWidget, width: int, height: int) -> None:
    """Resizes ``window`` to width×height, or what of it the screen has room for. The screen
    is the parent's (a dialog opens over the till), else the primary one."""
    parent = window.parentWidget()
    screen = (parent.screen() if parent is not None else None) or QGuiApplication.primaryScreen()
    if screen is None:  # no screen at all (never on a till): the size asked for
        window.resize(width, height)
        return
    window.resize(opening_size(QSize(width, height), screen.availableGeometry(),
                               window.minimumSizeHint()))



class ScrollBody(QWidget):
    """The content of a window's scroll area: it fills the view down to its smallest size and
    scrolls only below that. (A scroll area gives content with wrapping text its *preferred*
    height for the width, which scrolled the dashboard's charts off a 1024×768 screen that had
    room for them at their smallest.)"""

    def heightForWidth(self, width: int) -> int:
        layout = self.layout()
        return -1 if layout is None else layout.totalMinimumHeightForWidth(width)
