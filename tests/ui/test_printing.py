"""The printed card and the card on screen carry a QR code that decodes to the member's payload."""

from __future__ import annotations

import re
from itertools import pairwise
from pathlib import Path

import pytest
import zxingcpp
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QFont, QFontMetricsF, QImage, QPainter
from pytestqt.qtbot import QtBot

from pos_member.services.member_cards import MemberCard
from tests.factories import Till
from tests.ui.test_till import scan_card
from ui.printing import CARD_SIZE_MM, card_lines, paint_card, print_card_to_pdf
from ui.till import TillWindow

pytestmark = pytest.mark.usefixtures("zh_app")

MM_PER_POINT = 25.4 / 72


@pytest.fixture
def card(till: Till) -> MemberCard:
    return till.register("13812345678")


def decoded(image: QImage) -> list[str]:
    """The QR codes zxing-cpp finds in the image, as text."""
    gray = image.convertToFormat(QImage.Format.Format_Grayscale8)
    found = zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode)
    return [b.text for b in found]


def painted(card: MemberCard, width: int, height: int) -> QImage:
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(Qt.GlobalColor.white)
    painter = QPainter(image)
    paint_card(painter, QRectF(image.rect()), card)
    painter.end()
    return image


def test_the_card_prints_to_a_pdf(tmp_path: Path, card: MemberCard) -> None:
    pdf = tmp_path / "card.pdf"
    print_card_to_pdf(card, pdf)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    assert len(data) > 2000


def test_the_pdf_page_is_the_size_of_a_bank_card(tmp_path: Path, card: MemberCard) -> None:
    pdf = tmp_path / "card.pdf"
    print_card_to_pdf(card, pdf)
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf.read_bytes())
    assert len(boxes) == 1
    width, height = (float(v) * MM_PER_POINT for v in boxes[0])
    assert (width, height) == pytest.approx(CARD_SIZE_MM, abs=0.5)


def test_the_painted_card_qr_decodes_to_the_member_payload(card: MemberCard) -> None:
    assert decoded(painted(card, 1712, 1080)) == [card.qr_payload]


def test_a_card_painted_at_printer_resolution_of_300_dpi_still_decodes(card: MemberCard) -> None:
    width, height = (round(mm * 300 / 25.4) for mm in CARD_SIZE_MM)
    image = painted(card, width, height)
    assert decoded(image) == [card.qr_payload]


def test_the_qr_on_screen_decodes_to_the_member_payload(qtbot: QtBot, window: TillWindow,
                                                         card: MemberCard) -> None:
    scan_card(qtbot, window, card.qr_payload)
    image = window.card_view.qr.grab().toImage()
    assert decoded(image) == [card.qr_payload]


@pytest.mark.parametrize("size", [(1712, 1080), (1011, 638)])  # the screenshot, 300 dpi
def test_every_line_of_the_card_fits_on_one_line_and_none_overlap(
        till: Till, size: tuple[int, int]) -> None:
    card = till.register("13812345678")
    rect = QRectF(0, 0, *size)
    lines = card_lines(rect, card, QFont())  # the application's font, as a painter's
    for box, font, text in lines:
        metrics = QFontMetricsF(font)
        assert metrics.horizontalAdvance(text) <= box.width(), text
        assert box.right() <= rect.right() and box.bottom() <= rect.bottom()
    assert [card.member_no in text for _, _, text in lines].count(True) == 1
    for (a, _, _), (b, _, _) in pairwise(lines):
        assert a.bottom() <= b.top()
