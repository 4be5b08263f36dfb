"""The till's staff feature (Ctrl+U, managers and administrators): the store's staff dialog.
Plugs into the till window through :func:`register`; a cashier or guide pressing the key is
told no (the core refuses them too)."""

from __future__ import annotations

from PySide6.QtCore import QTimer

from pos_member.changes import Area, Changes
from pos_member.errors import ClerkNoLongerActive
from pos_member.i18n import QT_TRANSLATE_NOOP
from pos_member.permissions import Action, Role
from pos_member.services import staff as staff_core
from pos_member.services import staff_admin
from ui.host import TillAction, TillHost, permitted
from ui.staff_dialog import StaffCalls, StaffDialog

CHECK_MS = 60_000  # how often the clerk logged in is checked still active in their role


def calls_for(host: TillHost) -> StaffCalls:
    """The core's staff calls, bound to the clerk logged in at ``host``."""
    clerk, uow = host.clerk, host.uow
    roles = tuple(Role) if clerk.may(Action.MANAGE_MANAGERS) else (Role.CASHIER, Role.GUIDE)
    return StaffCalls(
        load=lambda: staff_admin.staff_roster(uow, clerk=clerk),
        create=lambda code, name, role, pin: staff_core.create_staff(
            uow, clerk=clerk, code=code, name=name, role=role, secret=pin),
        update=lambda sid, code, name, role: staff_admin.update_staff(
            uow, clerk=clerk, staff_id=sid, code=code, name=name, role=role),
        set_active=lambda sid, active: staff_admin.set_staff_active(
            uow, clerk=clerk, staff_id=sid, active=active),
        reset_pin=lambda sid, pin: staff_admin.reset_staff_pin(
            uow, clerk=clerk, staff_id=sid, secret=pin),
        roles=roles,
        own_id=clerk.staff_id,
    )


def open_staff(host: TillHost) -> None:
    if not permitted(host, Action.MANAGE_STAFF):
        return
    dialog = StaffDialog(ops=host.ops, calls=calls_for(host),
                         changed=lambda: host.notify_changed(Changes.of(Area.STAFF)),
                         show_error=host.show_error,
                         parent=host.window())
    host.open_dialog(dialog)


def _refresh(host: TillHost, changes: Changes) -> None:
    """A staff change (here, or pulled from another till or HQ): the open staff list shows it,
    and a clerk it deactivated or re-roled is logged out (docs/rules.md, "Staff")."""
    if not changes.touches(Area.STAFF):
        return
    if isinstance(host.dialog, StaffDialog):
        host.dialog.reload()
    _check_clerk(host)


def _check_clerk(host: TillHost) -> None:
    """Logs the clerk out when no longer active in their role (off the GUI thread)."""
    clerk, uow = host.clerk, host.uow

    def checked(valid: bool) -> None:
        if not valid:
            host.show_error(ClerkNoLongerActive())  # the window's sink logs them out

    host.ops.run(lambda: staff_core.still_valid(uow, clerk=clerk), checked)


def register(host: TillHost) -> None:
    may = host.clerk.may(Action.MANAGE_STAFF)
    host.add_action(TillAction("staff", QT_TRANSLATE_NOOP("TillWindow", "Ctrl+U Staff"),
                               lambda: open_staff(host), ("Ctrl+U",), visible=may))
    host.on_changed(lambda changes: _refresh(host, changes))
    # A change this window never hears of (pulled by a headless ``pos-member sync`` or
    # ``close-day`` beside it) is caught within a minute: the clerk is checked on a timer too.
    timer = QTimer(host.window())
    timer.setObjectName("staffCheck")
    timer.setInterval(CHECK_MS)
    timer.timeout.connect(lambda: _check_clerk(host))
    timer.start()
