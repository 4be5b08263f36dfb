"""The store manager's recall list (召回名单, Ctrl+Shift+F11, issue 19): the store's members away
for the dormant threshold or more, most valuable or longest away first, with the suggested
action and RFM segment. F4 sends the coupon or the plain message picked beside it to the
selected members (a campaign) after a confirmation that shows how many (and a coupon's face
value, a message's text and that only members who agreed to marketing get it); F5 shows the
campaigns' 召回率 and ROI. Exported to .xlsx (Ctrl+E: the list and the campaigns). Loaded and
issued off the GUI thread."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from datetime import tzinfo
from decimal import Decimal
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from pos_member.errors import DomainError
from pos_member.money import format_yuan
from pos_member.rules_config import CouponTemplate
from pos_member.services import recall_campaigns as rc
from pos_member.services.kpi_report import SavedReport
from pos_member.services.notifications import render
from pos_member.services.recall import COLUMNS, RecallEntry, RecallOrder, entry_values
from pos_member.services.recall_messages import MESSAGES, POINTS_REMINDER, RecallMessage
from ui.confirm import ask
from ui.dialog_parts import key_buttons
from ui.health_dialog import cell_text
from ui.i18n import error_text, translate
from ui.kpi_texts import STYLE
from ui.member_card import ElidedLabel
from ui.operations import Operations
from ui.screen_fit import open_at

Issue = Callable[[str, list[str], str], rc.RecallIssue]  # (campaign, members, template code)
Message = Callable[[str, list[str], str], RecallMessage]  # (campaign, members, message kind)


class RecallDialog(QDialog):
    """``load(order)`` returns the list and ``load_campaigns()`` the campaigns (thread pool);
    ``issue`` sends the coupons, ``message`` the messages; ``export(entries, campaigns)``
    writes both."""

    issued = Signal(object)  # RecallIssue or RecallMessage

    def __init__(self, *, ops: Operations, load: Callable[[RecallOrder], list[RecallEntry]],
                 export: Callable[[list[RecallEntry], list[rc.CampaignResult]], SavedReport],
                 tiers: Mapping[str, str], templates: tuple[CouponTemplate, ...] = (),
                 describe: Callable[[CouponTemplate], str] = lambda t: "",
                 issue: Issue | None = None, message: Message | None = None,
                 load_campaigns: Callable[[], list[rc.CampaignResult]] = list,
                 zone: tzinfo | None = None, default_template: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops, self._load, self._export, self.tiers = ops, load, export, tiers
        self._issue, self._message = issue, message
        self._load_campaigns, self.zone = load_campaigns, zone
        self.templates = {t.code: t for t in templates}
        self.entries: list[RecallEntry] | None = None
        self.campaigns: list[rc.CampaignResult] | None = None
        self.exported: Path | None = None
        self.confirming: QDialog | None = None  # the coupon's confirmation, while open
        self.pending: tuple[str, tuple[str, ...], str] | None = None  # a campaign not yet done
        self.order = RecallOrder.VALUE
        self.setObjectName("recallDialog")
        self.setStyleSheet(STYLE)
        self.setWindowTitle(translate("RecallDialog", "Recall list (Ctrl+Shift+F11)"))
        title = QLabel(translate("RecallDialog", "召回名单: members away for a while"))
        title.setObjectName("kpiTitle")
        self.table = _table("recallTable", [translate("recall", c) for c, _ in COLUMNS])
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.results = _table("recallResults",
                              [translate("recall", c) for c, _ in rc.COLUMNS])
        self.tabs = QTabWidget()
        self.tabs.addTab(self.table, translate("RecallDialog", "召回名单"))
        self.tabs.addTab(self.results, translate("RecallDialog", "召回率 (F5)"))
        self.coupon = QComboBox()
        self.coupon.setObjectName("recallCoupon")
        for t in templates if issue is not None else ():
            self.coupon.addItem(f"{t.name} · {describe(t)}", t.code)
        for kind, label in MESSAGES.items() if message is not None else ():
            self.coupon.addItem(translate("recall", label), kind)  # a plain message
        if (i := self.coupon.findData(default_template)) >= 0:
            self.coupon.setCurrentIndex(i)  # the rules' win-back coupon first
        self.status_line = ElidedLabel()  # a saved file's path: long, and never widens
        self.status_line.setObjectName("kpiStatusLine")
        self.buttons = key_buttons("recall", (
            ("value", translate("RecallDialog", "F2 Most valuable first"),
             lambda: self.sort(RecallOrder.VALUE)),
            ("away", translate("RecallDialog", "F3 Longest away first"),
             lambda: self.sort(RecallOrder.AWAY)),
            ("send", translate("RecallDialog", "F4 Send to the selected"), self.send),
            ("results", translate("RecallDialog", "F5 召回率"), self.show_results),
            ("export", translate("RecallDialog", "Ctrl+E Export (.xlsx)"), self.export),
            ("close", translate("RecallDialog", "Esc Close"), self.reject),
        ))
        top, bottom = QHBoxLayout(), QHBoxLayout()
        b = self.buttons
        for w in (b["value"], b["away"], None, self.coupon, b["send"]):
            if w is None:
                top.addStretch(1)
            else:
                top.addWidget(w, 2 if w is self.coupon else 0)
        for w in (self.status_line, b["results"], b["export"], b["close"]):
            bottom.addWidget(w, 1 if w is self.status_line else 0)
        self.buttons["send"].setEnabled(self.coupon.count() > 0)
        for keys, slot in (("F2", lambda: self.sort(RecallOrder.VALUE)),
                           ("F3", lambda: self.sort(RecallOrder.AWAY)),
                           ("F4", self.send), ("F5", self.show_results),
                           ("Ctrl+E", self.export)):
            QShortcut(QKeySequence(keys), self, activated=slot)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 14, 18, 12)
        layout.addWidget(title)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(top)
        layout.addLayout(bottom)
        open_at(self, 1100, 700)
        self.refresh()
        self.refresh_campaigns()

    def sort(self, order: RecallOrder) -> None:
        self.order = order
        self.tabs.setCurrentIndex(0)
        self.refresh()

    def refresh(self) -> None:
        order = self.order
        self.status_line.set_full_text(translate("RecallDialog", "Loading…"))
        self.ops.run(lambda: self._load(order), self._loaded, self._failed)

    def refresh_campaigns(self) -> None:
        self.ops.run(self._load_campaigns, self._campaigns_loaded, self._failed)

    def show_results(self) -> None:
        self.tabs.setCurrentIndex(1)
        self.refresh_campaigns()

    def _loaded(self, entries: list[RecallEntry]) -> None:
        self.entries = entries
        self.table.setRowCount(len(entries))
        for r, e in enumerate(entries):
            for c, (value, (_, fmt)) in enumerate(zip(
                    entry_values(e, self.tiers, translate), COLUMNS, strict=True)):
                text = str(value) if c == 2 else cell_text(
                    value, None if fmt is None else ("¥" if "¥" in fmt else "#"))
                _put(self.table, r, c, text, right=bool(fmt) and c != 2)
        self.status_line.set_full_text(translate("RecallDialog", "%1 members").replace(
            "%1", str(len(entries))))

    def _campaigns_loaded(self, results: list[rc.CampaignResult]) -> None:
        self.campaigns = results
        self.results.setRowCount(len(results))
        zone = self.zone
        for r, res in enumerate(results):
            values = rc.result_values(res, zone, translate) if zone is not None else ()
            for c, (value, (_, fmt)) in enumerate(zip(values, rc.COLUMNS, strict=True)):
                _put(self.results, r, c, _text(value, fmt), right=fmt not in (None, "yyyy-mm-dd"))

    def selected(self) -> list[RecallEntry]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.entries[r] for r in rows] if self.entries else []

    def send(self) -> None:
        """F4: the picked coupon or message to the selected members, once confirmed."""
        picked, code = self.selected(), self.coupon.currentData()
        if code is None or self.confirming is not None:
            return
        if not picked:
            self.status_line.set_full_text(translate(
                "RecallDialog", "Select the members first (click, Shift or Ctrl+click, Ctrl+A)."))
            return
        ids = tuple(e.member_id for e in picked)
        if self.pending is None or self.pending[1:] != (ids, code):
            self.pending = (uuid.uuid4().hex[:16], ids, code)  # a retry repeats this campaign
        campaign = self.pending[0]
        if code in MESSAGES:
            self._confirm_message(campaign, ids, code)
            return
        issue = self._issue
        assert issue is not None  # a coupon is offered only with it
        face = rc.face_value_fen(self.templates[code], len(ids))
        lines = [translate("RecallDialog", "Members: %1").replace("%1", str(len(ids))),
                 translate("RecallDialog", "Coupon: %1").replace("%1", self.coupon.currentText()),
                 translate("RecallDialog", "Face value in all: %1").replace(
                     "%1", "—" if face is None else format_yuan(face))]

        def go() -> None:
            self.buttons["send"].setEnabled(False)
            self.status_line.set_full_text(translate("RecallDialog", "Sending…"))
            self.ops.run(lambda: issue(campaign, list(ids), code), self._sent, self._send_failed)

        ask(self, title=translate("RecallDialog", "Send a win-back coupon to %1 members?")
            .replace("%1", str(len(ids))), lines=lines,
            action=translate("RecallDialog", "Send"), then=go)

    def _confirm_message(self, campaign: str, ids: tuple[str, ...], kind: str) -> None:
        """The message's confirmation: how many, its text, who will not get it."""
        message = self._message
        assert message is not None  # a message is offered only with it
        their = translate("RecallDialog", "(their own)")  # each member's own balance
        sample = render(kind, {"points": their} if kind == POINTS_REMINDER else {})
        lines = [translate("RecallDialog", "Members: %1").replace("%1", str(len(ids))),
                 *_short_lines(translate("RecallDialog", "Text: %1").replace("%1", sample))]

        def go() -> None:
            self.buttons["send"].setEnabled(False)
            self.status_line.set_full_text(translate("RecallDialog", "Sending…"))
            self.ops.run(lambda: message(campaign, list(ids), kind), self._sent,
                         self._send_failed)

        ask(self, title=translate("RecallDialog", "Send a message to %1 members?")
            .replace("%1", str(len(ids))), lines=lines,
            action=translate("RecallDialog", "Send the message"), then=go,
            check=translate("RecallDialog", "Only members who agreed to marketing get it,\n"
                                            "at most the day's marketing messages each."))

    def _sent(self, result: rc.RecallIssue | RecallMessage) -> None:
        self.pending = None
        self.buttons["send"].setEnabled(True)
        if isinstance(result, RecallMessage):
            text = translate("RecallDialog", "Sent %1 messages; %2 members passed over (no "
                                             "marketing consent, today's limit, barred).")
            sent = result.sent
        else:
            text = translate("RecallDialog", "Sent %1 coupons; %2 members passed over.")
            sent = result.issued
        self.status_line.set_full_text(text.replace("%1", str(sent)).replace(
            "%2", str(result.skipped)))
        self.issued.emit(result)
        self.refresh_campaigns()

    def _send_failed(self, error: Exception) -> None:
        self.buttons["send"].setEnabled(True)
        self._failed(error)

    def _failed(self, error: Exception) -> None:
        self.status_line.set_full_text(
            error_text(error) if isinstance(error, DomainError)
            else translate("RecallDialog", "Could not load (%1).").replace(
                "%1", type(error).__name__))

    def export(self) -> None:
        entries, campaigns = self.entries, self.campaigns or []
        if entries is None:
            return
        self.ops.run(lambda: self._export(entries, campaigns), self._exported, self._failed)

    def _exported(self, saved: SavedReport) -> None:
        self.exported = saved.path
        self.status_line.set_full_text(translate("RecallDialog", "Saved: %1").replace(
            "%1", str(saved.path)))


def _short_lines(text: str, width: int = 22) -> list[str]:
    """A message's text in lines of about ``width`` characters, broken after its punctuation:
    the confirmation's figures are never wrapped, and a whole SMS is wider than the dialog."""
    lines, line = [], ""
    for piece in re.split(r"(?<=[，。！？；])", text):
        if line and len(line) + len(piece) > width:
            lines.append(line)
            line = "    "
        line += piece
    return [*lines, line] if line.strip() else lines


def _table(name: str, labels: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(labels))
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(labels)
    table.verticalHeader().hide()
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    return table


def _put(table: QTableWidget, r: int, c: int, text: str, *, right: bool) -> None:
    item = QTableWidgetItem(text)
    if right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    table.setItem(r, c, item)


def _text(value: object, fmt: str | None) -> str:
    if value is None:
        return "—"
    if fmt == rc.TIMES:
        return f"{Decimal(str(value)):.2f}×"
    if fmt == rc.PERCENT:
        return cell_text(value, "%")
    if fmt == rc.YUAN:
        return cell_text(value, "¥")
    if fmt == rc.COUNT:
        return cell_text(value, "#")
    return str(value)
