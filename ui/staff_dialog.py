"""The store's staff (Ctrl+U, managers and administrators): the list with who is active, and
the forms to add a colleague, edit their number, name and role, deactivate or reactivate them,
and give a new PIN to one who forgot theirs. The dialog holds no database: it is given the
core's calls (``StaffCalls``) and runs them through the window's operations.

Keyboard: the list has the focus; Ins adds, Enter edits the selected colleague, Ctrl+D
deactivates or reactivates, Ctrl+P gives a new PIN, Esc closes. The list scrolls; the dialog
is resizable and fits 1024×768.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from pos_member.errors import ClerkNoLongerActive, InvalidInput
from pos_member.i18n import QT_TRANSLATE_NOOP
from pos_member.permissions import ROLE_LABELS, Role
from pos_member.services.staff_admin import StaffRow
from ui.dialog_parts import accept_buttons, message_label, show_error_in
from ui.i18n import translate
from ui.operations import Operations

PIN_MISMATCH = QT_TRANSLATE_NOOP("errors", "The two PINs are not the same.")


@dataclass(frozen=True, slots=True)
class StaffCalls:
    """The core's staff calls, bound to the logged-in clerk (``ui.till_staff``)."""

    load: Callable[[], list[StaffRow]]
    create: Callable[[str, str, Role, str], Any]  # number, name, role, PIN
    update: Callable[[str, str, str, Role], Any]  # staff id, number, name, role
    set_active: Callable[[str, bool], Any]  # staff id, active
    reset_pin: Callable[[str, str], Any]  # staff id, PIN
    roles: tuple[Role, ...]  # the roles this clerk may give
    own_id: str | None  # the clerk's own staff id (not deactivated, role not changed)


def status_key(row: StaffRow) -> str:
    """The status column's English text (translated in context ``StaffDialog``)."""
    if not row.holds_number:
        return QT_TRANSLATE_NOOP("StaffDialog", "Number clash: give a new number")
    if not row.active:
        return QT_TRANSLATE_NOOP("StaffDialog", "Inactive")
    if row.locked:
        return QT_TRANSLATE_NOOP("StaffDialog", "Active, locked (wrong PINs)")
    return QT_TRANSLATE_NOOP("StaffDialog", "Active")


class StaffDialog(QDialog):
    def __init__(self, *, ops: Operations, calls: StaffCalls, changed: Callable[[], None],
                 show_error: Callable[[Exception], None] | None = None,
                 parent: QWidget | None = None) -> None:
        """``show_error``: the window's sink, for a clerk no longer allowed to act (it logs
        them out); other refusals are shown in the dialog or form."""
        super().__init__(parent)
        self.ops, self.calls, self._changed = ops, calls, changed
        self._sink = show_error
        self.rows: list[StaffRow] = []
        self.setObjectName("staffDialog")
        self.setWindowTitle(self.tr("Staff (Ctrl+U)"))
        self.setMinimumSize(600, 400)
        self.resize(760, 520)
        self.table = QTableWidget(0, 4)
        self.table.setObjectName("staffTable")
        self.table.setHorizontalHeaderLabels(
            [self.tr("No."), self.tr("Name"), self.tr("Role"), self.tr("Status")])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(
            3, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.itemActivated.connect(lambda _: self.edit())
        self.status = QLabel()  # what the last change did
        self.status.setObjectName("dialogInfo")
        self.status.setWordWrap(True)
        self.status.hide()
        self.error = message_label()  # a refusal of a change made from the list
        self.add_button = QPushButton(self.tr("&Add… (Ins)"))
        self.edit_button = QPushButton(self.tr("&Edit… (Enter)"))
        self.active_button = QPushButton(self.tr("&Deactivate (Ctrl+D)"))
        self.pin_button = QPushButton(self.tr("New &PIN… (Ctrl+P)"))
        for b, slot in ((self.add_button, self.add), (self.edit_button, self.edit),
                        (self.active_button, self.toggle_active),
                        (self.pin_button, self.new_pin)):
            b.clicked.connect(slot)
        for keys, slot in (("Ins", self.add), ("Ctrl+D", self.toggle_active),
                           ("Ctrl+P", self.new_pin)):
            QShortcut(QKeySequence(keys), self, activated=slot)
        side = QHBoxLayout()
        for b in (self.add_button, self.edit_button, self.active_button, self.pin_button):
            side.addWidget(b)
        side.addStretch(1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(side)
        layout.addWidget(self.status)
        layout.addWidget(self.error)
        layout.addWidget(close)
        self.form: QDialog | None = None  # the open form, if any (tests drive it)
        self._update_buttons()
        self.reload()

    # -- the list ----------------------------------------------------------------------------
    def reload(self, select: str | None = None) -> None:
        self.ops.run(self.calls.load, lambda rows: self._show(rows, select))

    def _show(self, rows: list[StaffRow], select: str | None) -> None:
        current = select or (self.selected().id if self.selected() else None)
        self.rows = rows
        self.table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            texts = (r.code, r.name, translate("roles", ROLE_LABELS[r.role]),
                     translate("StaffDialog", status_key(r)))
            for j, text in enumerate(texts):
                item = QTableWidgetItem(text)
                if not r.active or not r.holds_number:
                    item.setForeground(Qt.GlobalColor.darkGray)
                self.table.setItem(i, j, item)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(
            3, QHeaderView.ResizeMode.Stretch)
        index = next((i for i, r in enumerate(rows) if r.id == current), 0 if rows else -1)
        if index >= 0:
            self.table.selectRow(index)
        self.table.setFocus()
        self._update_buttons()

    def selected(self) -> StaffRow | None:
        i = self.table.currentRow()
        return self.rows[i] if 0 <= i < len(self.rows) else None

    def _may_manage(self, row: StaffRow) -> bool:
        return row.role in self.calls.roles

    def _update_buttons(self) -> None:
        row = self.selected()
        manageable = row is not None and self._may_manage(row)
        self.edit_button.setEnabled(manageable)
        self.pin_button.setEnabled(manageable)
        self.active_button.setEnabled(manageable and row is not None
                                      and row.id != self.calls.own_id)
        self.active_button.setText(self.tr("Reac&tivate (Ctrl+D)") if row and not row.active
                                   else self.tr("&Deactivate (Ctrl+D)"))

    def _done(self, text: str, select: str | None = None) -> None:
        self.error.hide()
        self.status.setText(text)
        self.status.show()
        self._changed()
        self.reload(select)

    # -- actions -------------------------------------------------------------------------------
    def add(self) -> None:
        self._open_form(StaffForm(calls=self.calls, row=None, parent=self))

    def edit(self) -> None:
        row = self.selected()
        if row is not None and self._may_manage(row):
            self._open_form(StaffForm(calls=self.calls, row=row, parent=self))

    def new_pin(self) -> None:
        row = self.selected()
        if row is not None and self._may_manage(row):
            self._open_form(PinForm(row=row, parent=self))

    def toggle_active(self) -> None:
        row = self.selected()
        if row is None or not self.active_button.isEnabled():
            return
        text = (self.tr("%1 %2 is active again.") if not row.active
                else self.tr("%1 %2 is deactivated: they can no longer log in.")
                ).replace("%1", row.code).replace("%2", row.name)
        self.ops.run(lambda: self.calls.set_active(row.id, not row.active),
                     lambda _: self._done(text, row.id),
                     lambda e: self._refused_here(e))

    def _refused_here(self, error: Exception) -> None:
        self.status.hide()
        self.refused(self.error, error)

    def refused(self, label: QLabel, error: Exception) -> None:
        """A refusal under the list or the form; a clerk deactivated or re-roled since they
        logged in goes to the window's sink instead (which logs them out)."""
        if isinstance(error, ClerkNoLongerActive) and self._sink is not None:
            if self.form is not None:
                self.form.reject()
            self.reject()
            self._sink(error)
            return
        show_error_in(label, error)

    def _open_form(self, form: QDialog) -> None:
        self.form = form
        form.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        form.finished.connect(self._form_closed)
        form.open()

    def _form_closed(self) -> None:
        self.form = None
        self.table.setFocus()

    def submit_form(self, fn: Callable[[], Any], form: QDialog, error: QLabel,
                    text: str) -> None:
        """Runs a form's core call; the form closes on success and stays with the refusal
        under it (nothing changed) otherwise."""
        def ok(result: Any) -> None:
            form.accept()
            self._done(text, getattr(result, "id", None))
        self.ops.run(fn, ok, lambda e: self.refused(error, e))


class StaffForm(QDialog):
    """A new colleague (``row`` None: number, name, role, PIN twice) or an edit of one
    (number, name, role)."""

    def __init__(self, *, calls: StaffCalls, row: StaffRow | None,
                 parent: StaffDialog) -> None:
        super().__init__(parent)
        self.owner, self.calls, self.row = parent, calls, row
        self.setWindowTitle(self.tr("New colleague") if row is None
                            else self.tr("Edit colleague"))
        self.setMinimumWidth(420)
        self.code = QLineEdit(row.code if row else "")
        self.code.setMaxLength(8)
        self.code.setObjectName("staffCode")
        self.name = QLineEdit(row.name if row else "")
        self.name.setMaxLength(50)
        self.name.setObjectName("staffName")
        self.role = QComboBox()
        self.role.setObjectName("staffRole")
        for r in calls.roles:
            self.role.addItem(translate("roles", ROLE_LABELS[r]), r)
        if row is not None:
            self.role.setCurrentIndex(max(0, self.role.findData(row.role)))
            self.role.setEnabled(row.id != calls.own_id)
        self.pin, self.pin2 = pin_fields()
        form = QFormLayout()
        form.addRow(self.tr("Staff &number (3–8 digits)"), self.code)
        form.addRow(self.tr("N&ame"), self.name)
        form.addRow(self.tr("&Role"), self.role)
        if row is None:
            form.addRow(self.tr("&PIN or password"), self.pin)
            form.addRow(self.tr("PIN a&gain"), self.pin2)
            form.addRow(QLabel(self.tr("Managers and administrators approve payments with "
                                       "their PIN: no easy patterns.")))
        self.error = message_label()
        buttons, self.ok, _ = accept_buttons(self, self.tr("Save"))
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.code.setFocus()

    def submit(self) -> None:
        code, name, role = self.code.text(), self.name.text(), Role(self.role.currentData())
        calls, row = self.calls, self.row
        if row is None:
            pin = self.pin.text()
            if pin != self.pin2.text():
                show_error_in(self.error, InvalidInput(PIN_MISMATCH))
                return
            text = self.tr("%1 %2 added: they can log in now.")
            fn: Callable[[], Any] = lambda: calls.create(code, name, role, pin)  # noqa: E731
        else:
            text = self.tr("%1 %2 saved.")
            fn = lambda: calls.update(row.id, code, name, role)  # noqa: E731
        self.owner.submit_form(fn, self, self.error,
                               text.replace("%1", code.strip()).replace("%2", name.strip()))


class PinForm(QDialog):
    """A new PIN for a colleague who forgot theirs, on the logged-in manager's authority."""

    def __init__(self, *, row: StaffRow, parent: StaffDialog) -> None:
        super().__init__(parent)
        self.owner, self.row = parent, row
        self.setWindowTitle(self.tr("New PIN for %1 %2").replace("%1", row.code)
                            .replace("%2", row.name))
        self.setMinimumWidth(420)
        self.pin, self.pin2 = pin_fields()
        form = QFormLayout()
        form.addRow(self.tr("New &PIN or password"), self.pin)
        form.addRow(self.tr("PIN a&gain"), self.pin2)
        self.error = message_label()
        buttons, self.ok, _ = accept_buttons(self, self.tr("Set PIN"))
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.pin.setFocus()

    def submit(self) -> None:
        pin, row = self.pin.text(), self.row
        if pin != self.pin2.text():
            show_error_in(self.error, InvalidInput(PIN_MISMATCH))
            return
        text = self.tr("%1 %2 has a new PIN; their lock is lifted.").replace(
            "%1", row.code).replace("%2", row.name)
        self.owner.submit_form(lambda: self.owner.calls.reset_pin(row.id, pin), self,
                               self.error, text)


def pin_fields() -> tuple[QLineEdit, QLineEdit]:
    fields = (QLineEdit(), QLineEdit())
    for f, name in zip(fields, ("staffPin", "staffPin2"), strict=True):
        f.setEchoMode(QLineEdit.EchoMode.Password)
        f.setMaxLength(64)
        f.setObjectName(name)
    return fields
