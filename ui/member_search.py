"""A name or the phone's last four digits typed in the scan field (issue 17): the members who
match (pos_member.services.member_search), newest first. One match shows the card; several
open a list to pick from (Up/Down, Enter shows the card); none is told. A search whose answer
comes after the screen moved on (another card, a dialog) is dropped."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from pos_member.errors import MemberNotFound
from pos_member.services.member_cards import MemberCard
from pos_member.services.member_search import search_members
from ui.points_view import tier_name
from ui.qr import with_qr
from ui.screen_fit import open_at

if TYPE_CHECKING:
    from ui.host import TillHost


class MemberPickDialog(QDialog):
    """The members a search found; Enter shows the one selected."""

    picked = Signal(object)  # MemberCard

    def __init__(self, query: str, cards: list[MemberCard], parent: QWidget | None = None
                 ) -> None:
        super().__init__(parent)
        self.cards = cards
        self.setWindowTitle(self.tr("Members matching “%1”").replace("%1", query))
        hint = QLabel(self.tr("Ask the customer which one is theirs: ↑/↓ to choose, Enter to "
                              "show the card."))
        hint.setObjectName("hintLabel")
        self.table = QTableWidget(len(cards), 4)
        self.table.setObjectName("matches")
        self.table.setHorizontalHeaderLabels([self.tr("Name"), self.tr("Phone"),
                                              self.tr("Member number"), self.tr("Tier")])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        for r, card in enumerate(cards):
            for c, text in enumerate((card.name_masked or "—", card.phone_masked,
                                      card.member_no, tier_name(card.tier))):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.table.setMinimumHeight(min(8, max(3, len(cards))) * 30 + 30)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.show_button = buttons.addButton(self.tr("Show card (Enter)"),
                                             QDialogButtonBox.ButtonRole.AcceptRole)
        self.show_button.setDefault(True)
        buttons.accepted.connect(self._pick)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(hint)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.table.selectRow(0)
        self.table.setFocus()
        open_at(self, 620, 420)

    def _pick(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows:
            self.accept()
            self.picked.emit(self.cards[rows[0].row()])


class MemberSearch:
    """``failed(error)`` is the window's refused look-up: it clears the card and says why."""

    def __init__(self, host: TillHost, *, failed: Callable[[Exception], None]) -> None:
        self.w, self.failed = host, failed

    def search(self, query: str) -> None:
        w = self.w
        before = w.current_card()
        uow, clerk = w.uow, w.clerk
        w.ops.run(lambda: search_members(uow, clerk=clerk, query=query),
                  lambda cards: self._found(query, before, cards),
                  lambda e: self._failed(before, e))

    def _moved_on(self, before: MemberCard | None) -> bool:
        now = self.w.current_card()
        return self.w.dialog is not None or (now is not None and now is not before)

    def _failed(self, before: MemberCard | None, error: Exception) -> None:
        if not self._moved_on(before):
            self.failed(error)

    def _found(self, query: str, before: MemberCard | None, cards: list[MemberCard]) -> None:
        if self._moved_on(before):
            return
        if not cards:
            self._failed(before, MemberNotFound(query=query))
        elif len(cards) == 1:
            self._show(cards[0])
        else:
            dialog = MemberPickDialog(query, cards, parent=self.w.window())
            dialog.picked.connect(self._show)
            self.w.open_dialog(dialog)

    def _show(self, card: MemberCard) -> None:
        self.w.ops.run(lambda: with_qr(card), self.w.show_card)
