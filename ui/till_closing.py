"""The till's closing time (日结, F12, managers): runs on the sync thread; the dialog shows its
progress and the report. Plugs into the till window through :func:`register`."""

from __future__ import annotations

from pos_member.errors import DomainError, NotEnrolled
from pos_member.i18n import QT_TRANSLATE_NOOP
from pos_member.permissions import Action, require
from ui.close_day_dialog import CloseDayDialog
from ui.host import TillAction, TillHost


def close_day(host: TillHost) -> None:
    if host.sync is None:
        try:
            require(host.clerk, Action.CLOSE_DAY)
            raise NotEnrolled()
        except DomainError as e:
            host.show_error(e)
        return
    if _start_closing(host):  # False: refused (shown), or one is running already
        host.open_dialog(CloseDayDialog(worker=host.sync, again=lambda: _start_closing(host),
                                        parent=host.window()))


def _start_closing(host: TillHost) -> bool:
    if host.sync is None:
        return False
    try:
        return host.sync.close_day(host.clerk)
    except DomainError as e:
        host.show_error(e)
        return False


def register(host: TillHost) -> None:
    host.add_action(TillAction("close_day", QT_TRANSLATE_NOOP("TillWindow", "F12 Close the day"),
                               lambda: close_day(host), ("F12",),
                               visible=host.clerk.may(Action.CLOSE_DAY)))
