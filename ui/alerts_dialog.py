"""Alerts for the manager (F9): registration bursts now, sync's overdraws and merges later;
and the log folder, for support."""

from __future__ import annotations

from collections.abc import Callable
from datetime import tzinfo

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from pos_member.services.alerts import FlagView
from ui.operations import Operations


class FlagsDialog(QDialog):
    def __init__(
        self,
        *,
        ops: Operations,
        zone: tzinfo,  # the store's: the alerts' times are shown in it
        load: Callable[[], list[FlagView]],
        resolve: Callable[[str, str], None],
        open_logs: Callable[[], None] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ops, self._load, self._resolve, self._zone = ops, load, resolve, zone
        self.setMinimumSize(560, 360)
        self.setWindowTitle(self.tr("Alerts (F9)"))
        self.list = QListWidget()
        self.empty = QLabel(self.tr("No open alerts."))
        self.handle = QPushButton(self.tr("Mark &handled…"))
        self.handle.clicked.connect(self._handle)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        self.logs = QPushButton(self.tr("Open the &log folder"))  # for support
        self.logs.setObjectName("openLogs")
        self.logs.setVisible(open_logs is not None)
        if open_logs is not None:
            self.logs.clicked.connect(open_logs)
        buttons.addButton(self.logs, QDialogButtonBox.ButtonRole.ActionRole)
        layout = QVBoxLayout(self)
        layout.addWidget(self.empty)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.handle)
        layout.addWidget(buttons)
        self.reload()

    def describe(self, flag: FlagView) -> str:
        when = flag.raised_at.astimezone(self._zone).strftime("%m-%d %H:%M")
        if flag.kind == "registration_burst":
            return self.tr("%1  Registration burst: %2 in %3 min by %4").replace(
                "%1", when).replace("%2", str(flag.detail.get("registrations", "?"))).replace(
                "%3", str(flag.detail.get("window_minutes", "?"))).replace(
                "%4", str(flag.detail.get("clerk_name", "?")))
        if flag.kind == "events_quarantined":
            return self.tr("%1  %2 change(s) from head office cannot be applied on this till "
                           "and are held; they are tried again after every update of this "
                           "program").replace("%1", when).replace(
                "%2", str(flag.detail.get("held", "?")))
        if flag.kind == "staff_number_clash":
            return self.tr("%1  Staff number %2 was given to two colleagues on two tills: the "
                           "later one cannot log in until you give them another number "
                           "(Ctrl+U Staff)").replace("%1", when).replace(
                "%2", str(flag.detail.get("code", "?")))
        return f"{when}  {flag.kind}"

    def reload(self) -> None:
        self.ops.run(self._load, self._show)

    def _show(self, flags: list[FlagView]) -> None:
        self.list.clear()
        for f in flags:
            item = QListWidgetItem(self.describe(f))
            item.setData(256, f.id)
            self.list.addItem(item)
        self.empty.setVisible(not flags)
        self.handle.setEnabled(bool(flags))
        if flags:
            self.list.setCurrentRow(0)
            self.list.setFocus()

    def _handle(self) -> None:
        item = self.list.currentItem()
        if item is None:
            return
        note, ok = QInputDialog.getText(self, self.tr("Mark handled"), self.tr("What was done?"))
        if ok and note.strip():
            flag_id = item.data(256)
            self.ops.run(lambda: self._resolve(flag_id, note), lambda _: self.reload())
