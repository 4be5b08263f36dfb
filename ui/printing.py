"""Printing the member card (a printer, or a PDF file) with the same QR the screen shows."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMarginsF, QRectF, Qt
from PySide6.QtGui import QFont, QPageLayout, QPageSize, QPainter
from PySide6.QtPrintSupport import QPrinter

from pos_member.services.member_cards import MemberCard
from ui.i18n import translate
from ui.qr import paint_qr

# A member card is the size of a bank card: 85.6 × 54 mm.
CARD_SIZE_MM = (85.6, 54.0)


def paint_card(painter: QPainter, rect: QRectF, card: MemberCard) -> None:
    """Lays the card out in ``rect`` (any device: printer, PDF, image)."""
    pad = rect.height() * 0.08
    qr_side = rect.height() - 2 * pad
    paint_qr(painter, QRectF(rect.x() + pad, rect.y() + pad, qr_side, qr_side), card.qr_payload)
    text_x = rect.x() + 2 * pad + qr_side
    text = QRectF(text_x, rect.y() + pad, rect.right() - text_x - pad, qr_side)
    painter.save()
    painter.setPen(Qt.GlobalColor.black)
    big = QFont(painter.font())
    big.setPixelSize(max(8, int(rect.height() * 0.11)))
    big.setBold(True)
    small = QFont(painter.font())
    small.setPixelSize(max(6, int(rect.height() * 0.075)))
    painter.setFont(small)
    line = rect.height() * 0.14
    painter.drawText(QRectF(text.x(), text.y(), text.width(), line), card.store_name)
    painter.setFont(big)
    painter.drawText(QRectF(text.x(), text.y() + line * 1.3, text.width(), line * 1.2),
                     translate("CardPrint", "Member card"))
    painter.setFont(small)
    painter.drawText(QRectF(text.x(), text.y() + line * 2.8, text.width(), line),
                     translate("CardPrint", "No. %1").replace("%1", card.member_no))
    painter.drawText(QRectF(text.x(), text.y() + line * 3.8, text.width(), line),
                     card.phone_masked)
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
