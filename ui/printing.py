"""Printing the member card (a printer, or a PDF file) with the same QR the screen shows."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMarginsF, QRectF, Qt
from PySide6.QtGui import QFont, QFontMetricsF, QPageLayout, QPageSize, QPainter
from PySide6.QtPrintSupport import QPrinter

from pos_member.services.member_cards import MemberCard
from ui.i18n import translate
from ui.qr import paint_qr

# A member card is the size of a bank card: 85.6 × 54 mm.
CARD_SIZE_MM = (85.6, 54.0)


def card_lines(rect: QRectF, card: MemberCard, base: QFont
               ) -> list[tuple[QRectF, QFont, str]]:
    """Where each line of text goes on a card laid out in ``rect``, in which font. Each line
    is one line, its font made smaller until it fits its width (a long store name or the
    14-digit number in Chinese wrapped and hid the number under the phone)."""
    pad = rect.height() * 0.08
    qr_side = rect.height() - 2 * pad
    text_x = rect.x() + 2 * pad + qr_side
    width = rect.right() - text_x - pad
    line = rect.height() * 0.14
    top = rect.y() + pad
    rows = (
        (0.0, 1.0, 0.075, False, card.store_name),
        (1.3, 1.2, 0.11, True, translate("CardPrint", "Member card")),
        (2.8, 1.0, 0.075, False, translate("CardPrint", "No. %1").replace("%1", card.member_no)),
        (3.8, 1.0, 0.075, False, card.phone_masked),
    )
    laid: list[tuple[QRectF, QFont, str]] = []
    for at, high, size, bold, text in rows:
        box = QRectF(text_x, top + line * at, width, line * high)
        font = QFont(base)
        font.setBold(bold)
        pixels = max(6, int(rect.height() * size))
        font.setPixelSize(pixels)
        while pixels > 6 and QFontMetricsF(font).horizontalAdvance(text) > width:
            pixels -= 1
            font.setPixelSize(pixels)
        laid.append((box, font, text))
    return laid


def paint_card(painter: QPainter, rect: QRectF, card: MemberCard) -> None:
    """Lays the card out in ``rect`` (any device: printer, PDF, image)."""
    pad = rect.height() * 0.08
    qr_side = rect.height() - 2 * pad
    paint_qr(painter, QRectF(rect.x() + pad, rect.y() + pad, qr_side, qr_side), card.qr_payload)
    painter.save()
    painter.setPen(Qt.GlobalColor.black)
    flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
    for box, font, text in card_lines(rect, card, painter.font()):
        painter.setFont(font)
        painter.drawText(box, int(flags) | int(Qt.TextFlag.TextSingleLine), text)
    painter.restore()


def configure_card_page(printer: QPrinter) -> None:
    size = QPageSize(QRectF(0, 0, *CARD_SIZE_MM).size(), QPageSize.Unit.Millimeter, "Card")
    printer.setPageLayout(
        QPageLayout(size, QPageLayout.Orientation.Portrait, QMarginsF(0, 0, 0, 0),
                    QPageLayout.Unit.Millimeter)
    )


def print_card(printer: QPrinter, card: MemberCard) -> None:
    painter = QPainter(printer)
    try:
        paint_card(painter, QRectF(printer.pageLayout().paintRectPixels(printer.resolution())),
                   card)
    finally:
        painter.end()


def print_card_to_pdf(card: MemberCard, path: Path) -> None:
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(path))
    configure_card_page(printer)
    print_card(printer, card)
