"""The member card on the till screen: QR and number on the left, facts on the right, and the
tiles that points, stored value and coupons will fill."""

from __future__ import annotations

from datetime import tzinfo

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from pos_member.clock import DEFAULT_TZ
from pos_member.services.member_cards import MemberCard
from ui.qr import QrWidget
from ui.viewmodels import card_view


class ElidedLabel(QLabel):
    """A one-line label that never widens its window: what does not fit ends in "…", the
    whole text in its tooltip."""

    def __init__(self) -> None:
        super().__init__()
        self.full_text = ""

    def set_full_text(self, text: str) -> None:
        self.full_text = text
        self.setToolTip(text)
        self._elide()

    def minimumSizeHint(self) -> QSize:
        return QSize(0, super().minimumSizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        self.setText(self.fontMetrics().elidedText(self.full_text, Qt.TextElideMode.ElideRight,
                                                   max(self.width(), 0)))


class MemberCardView(QFrame):
    def __init__(self, parent: QWidget | None = None, *, zone: tzinfo = DEFAULT_TZ) -> None:
        super().__init__(parent)
        self.setObjectName("memberCard")
        self._zone = zone  # the store's: the registration time is shown in it
        self.card: MemberCard | None = None
        # Loaded after the card was shown, kept across a re-render: each tile's figure and a
        # detail for its caption (0 points, 1 stored value, 2 coupons), the tier's benefits.
        self._tile_values: dict[int, tuple[str, str]] = {}
        self._benefits = ""
        self._insight = ""  # tags, lifecycle, suggested action (issue 19; ui/till_insight.py)

        self.qr = QrWidget()
        self.qr.setFixedSize(190, 190)
        self.number = QLabel()
        self.number.setObjectName("memberNo")
        self.number.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.number.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        left = QVBoxLayout()
        left.addWidget(self.qr, 0, Qt.AlignmentFlag.AlignHCenter)
        left.addWidget(self.number)
        left.addStretch(1)

        self.title = QLabel()
        self.title.setObjectName("memberTitle")
        self.grid = QGridLayout()
        self.grid.setHorizontalSpacing(18)
        self.grid.setVerticalSpacing(6)
        self._rows: list[tuple[QLabel, QLabel]] = []
        self.tiles_row = QHBoxLayout()
        self.tiles_row.setSpacing(12)
        self._tiles: list[tuple[QLabel, QLabel]] = []
        # Beside the title, one line that elides: a 1024×768 till has no height to spare.
        self.insight = ElidedLabel()
        self.insight.setObjectName("memberInsight")
        title_row = QHBoxLayout()
        title_row.addWidget(self.title)
        title_row.addWidget(self.insight, 1)
        right = QVBoxLayout()
        right.addLayout(title_row)
        self.benefits = QLabel()  # tier and its benefits (points issue)
        self.benefits.setObjectName("tierBenefits")
        self.benefits.setWordWrap(True)
        right.addWidget(self.benefits)
        right.addLayout(self.grid)
        right.addSpacing(8)
        right.addLayout(self.tiles_row)
        right.addStretch(1)

        outer = QHBoxLayout(self)
        outer.setContentsMargins(20, 16, 20, 16)
        outer.setSpacing(28)
        outer.addLayout(left)
        outer.addLayout(right, 1)

    def show_card(self, card: MemberCard) -> None:
        if self.card is None or self.card.id != card.id:
            self._tile_values, self._benefits, self._insight = {}, "", ""
        self.card = card
        self.refresh()

    def refresh(self) -> None:
        """Re-renders the strings (after a language switch too)."""
        if self.card is None:
            return
        view = card_view(self.card, self._zone)
        self.qr.set_payload(self.card.qr_payload)
        self.number.setText(view.member_no)
        self.title.setText(view.title)
        self._ensure_rows(len(view.rows))
        for (label, value), (lw, vw) in zip(view.rows, self._rows, strict=True):
            lw.setText(label)
            vw.setText(value)
        self._ensure_tiles(len(view.tiles))
        for index, (value, detail) in self._tile_values.items():
            if index < len(view.tiles):
                label = view.tiles[index][0]
                view.tiles[index] = (f"{label} · {detail}" if detail else label, value)
        self.benefits.setText(self._benefits)
        self.insight.set_full_text(self._insight)
        for (label, value), (lw, vw) in zip(view.tiles, self._tiles, strict=True):
            lw.setText(label)
            vw.setText(value)

    def tile_text(self, index: int) -> tuple[str, str]:
        """(caption, figure) of a tile as shown."""
        label, value = self._tiles[index]
        return label.text(), value.text()

    def set_tile_value(self, index: int, value: str, detail: str = "") -> None:
        """Fills one tile (0 points, 1 stored value, 2 coupons) once its figure is loaded;
        ``detail`` goes beside the tile's caption, in its small type (the stored value's
        split)."""
        self._tile_values[index] = (value, detail)
        self.refresh()

    def _ensure_rows(self, n: int) -> None:
        while len(self._rows) < n:
            i = len(self._rows)
            label, value = QLabel(), QLabel()
            label.setObjectName("fieldLabel")
            value.setObjectName("fieldValue")
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.grid.addWidget(label, i // 2, (i % 2) * 2)
            self.grid.addWidget(value, i // 2, (i % 2) * 2 + 1)
            self._rows.append((label, value))
        self.grid.setColumnStretch(1, 1)
        self.grid.setColumnStretch(3, 1)

    def _ensure_tiles(self, n: int) -> None:
        while len(self._tiles) < n:
            tile = QFrame()
            tile.setObjectName("tile")
            lay = QVBoxLayout(tile)
            label, value = QLabel(), QLabel()
            label.setObjectName("tileLabel")
            value.setObjectName("tileValue")
            value.setAlignment(Qt.AlignmentFlag.AlignRight)
            lay.addWidget(label)
            lay.addWidget(value)
            self.tiles_row.addWidget(tile, 1)
            self._tiles.append((label, value))

    def set_points(self, balance: str, benefits: str) -> None:
        """The points tile and the tier-benefits line (loaded after the card is shown)."""
        self._benefits = benefits
        self.set_tile_value(0, balance)

    def set_insight(self, text: str) -> None:
        """The member's tags, lifecycle stage and suggested action (loaded after the card)."""
        self._insight = text
        self.refresh()
