"""A QR code painted straight from segno's module matrix: no image encode/decode on the way."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import segno
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

if TYPE_CHECKING:
    from pos_member.services.member_cards import MemberCard

QUIET_ZONE = 4  # modules of white around the symbol, as the standard asks


@lru_cache(maxsize=256)
def qr_matrix(payload: str) -> tuple[tuple[bool, ...], ...]:
    qr = segno.make(payload, error="m", micro=False)
    return tuple(tuple(bool(v) for v in row) for row in qr.matrix)


def with_qr(card: MemberCard) -> MemberCard:
    """Builds the card's QR matrix on the worker thread (segno's mask choice takes a couple of
    milliseconds), so the GUI thread only paints it."""
    qr_matrix(card.qr_payload)
    return card


def paint_qr(painter: QPainter, rect: QRectF, payload: str) -> None:
    """Paints the symbol with its quiet zone, square, centred in ``rect``."""
    matrix = qr_matrix(payload)
    n = len(matrix) + 2 * QUIET_ZONE
    side = min(rect.width(), rect.height())
    module = side / n
    x0 = rect.x() + (rect.width() - side) / 2 + QUIET_ZONE * module
    y0 = rect.y() + (rect.height() - side) / 2 + QUIET_ZONE * module
    painter.save()
    painter.setPen(Qt.PenStyle.NoPen)
    painter.fillRect(QRectF(x0 - QUIET_ZONE * module, y0 - QUIET_ZONE * module, side, side),
                     QColor("white"))
    painter.setBrush(QColor("black"))
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                # A hair of overlap so no seams show between modules when scaled.
                painter.drawRect(QRectF(x0 + c * module, y0 + r * module, module + 0.3,
                                        module + 0.3))
    painter.restore()


class QrWidget(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._payload = ""
        self.setMinimumSize(160, 160)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)

    def sizeHint(self) -> QSize:
        return QSize(200, 200)

    def set_payload(self, payload: str) -> None:
        self._payload = payload
        self.update()

    def payload(self) -> str:
        return self._payload

    def paintEvent(self, event: QPaintEvent) -> None:
        if not self._payload:
            return
        painter = QPainter(self)
        paint_qr(painter, QRectF(self.rect()), self._payload)
        painter.end()
