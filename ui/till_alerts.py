"""The till's alerts feature (F9, managers): the open alerts dialog (with the log folder for
support), and a line at start when there are open alerts. Plugs into the till window through
:func:`register`."""

from __future__ import annotations

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices

from pos_member.config import log_folder
from pos_member.i18n import QT_TRANSLATE_NOOP
from pos_member.permissions import Action
from pos_member.services import alerts
from ui.alerts_dialog import FlagsDialog
from ui.host import TillAction, TillHost, permitted
from ui.i18n import translate


def open_alerts(host: TillHost) -> None:
    clerk, uow = host.clerk, host.uow
    if not permitted(host, Action.REVIEW_FLAGS):
        return
    dialog = FlagsDialog(
        ops=host.ops, zone=uow.clock.zone,
        load=lambda: alerts.open_flags(uow, clerk=clerk),
        resolve=lambda fid, note: alerts.resolve_flag(uow, clerk=clerk, flag_id=fid, note=note),
        open_logs=open_log_folder,
        parent=host.window(),
    )
    host.open_dialog(dialog)


def open_log_folder() -> None:
    """Shows the till's log folder in the system's file manager (support asks for its files)."""
    folder = log_folder()
    folder.mkdir(parents=True, exist_ok=True)
    QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))


def _got_flags(host: TillHost, open_flags: list[alerts.FlagView]) -> None:
    if open_flags:
        host.show_info(translate("TillWindow", "%1 open alert(s) need your attention: press F9.")
                       .replace("%1", str(len(open_flags))))


def register(host: TillHost) -> None:
    may = host.clerk.may(Action.REVIEW_FLAGS)
    host.add_action(TillAction("alerts", QT_TRANSLATE_NOOP("TillWindow", "F9 Alerts"),
                               lambda: open_alerts(host), ("F9",), visible=may))
    if may:
        clerk, uow = host.clerk, host.uow
        host.ops.run(lambda: alerts.open_flags(uow, clerk=clerk), lambda f: _got_flags(host, f))
