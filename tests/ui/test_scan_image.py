"""Decoding a code from a picture (Ctrl+O): real QR images rendered by segno, turned, scaled,
faint, several in one picture; the code found is routed like a scan (docs/rules.md,
"Scanning")."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
import segno
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QTransform
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

from pos_member.errors import ImageUnreadable, NoCodeInImage
from pos_member.member_code import make_member_no
from pos_member.permissions import Clerk
from tests.factories import Till
from tests.ui.conftest import settle
from ui.code_reader import code_in_file, decode_image
from ui.till import TillWindow

MEMBER_NO = make_member_no(store_no=1, device_no=1, seq=42)


def qr(payload: str, *, scale: int = 6, dark: str = "#000", light: str = "#fff") -> QImage:
    buffer = io.BytesIO()
    segno.make(payload, error="m", micro=False).save(buffer, kind="png", scale=scale, border=4,
                                                     dark=dark, light=light)
    image = QImage.fromData(buffer.getvalue())
    assert not image.isNull()
    return image


def canvas(width: int, height: int, placed: list[tuple[QImage, float, float, float]],
           background: str = "#fff") -> QImage:
    """A picture with each (image, x, y, degrees) drawn at x, y turned about its centre."""
    out = QImage(width, height, QImage.Format.Format_RGB32)
    out.fill(QColor(background))
    painter = QPainter(out)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    for image, x, y, degrees in placed:
        cx, cy = x + image.width() / 2, y + image.height() / 2
        painter.setTransform(QTransform().translate(cx, cy).rotate(degrees).translate(-cx, -cy))
        painter.drawImage(QPointF(x, y), image)
    painter.end()
    return out


def saved(image: QImage, path: Path) -> Path:
    assert image.save(str(path))
    return path


@pytest.mark.parametrize("degrees", [0, 17, 45, 90, 180, 233])
def test_a_turned_code_is_read(degrees: float) -> None:
    picture = canvas(600, 600, [(qr(f"PM1:{MEMBER_NO}"), 150, 150, degrees)])
    assert decode_image(picture) == [f"PM1:{MEMBER_NO}"]


@pytest.mark.parametrize("scale", [2, 3, 12, 30])
def test_a_small_or_large_code_is_read(scale: int) -> None:
    image = qr(f"PM1:{MEMBER_NO}", scale=scale)
    picture = canvas(image.width() + 200, image.height() + 200, [(image, 100, 100, 0)])
    assert decode_image(picture) == [f"PM1:{MEMBER_NO}"]


def test_a_smoothly_scaled_down_photo_is_read() -> None:
    big = canvas(1600, 1600, [(qr(f"PM1:{MEMBER_NO}", scale=20), 300, 300, 8)])
    small = big.scaled(420, 420, Qt.AspectRatioMode.KeepAspectRatio,
                       Qt.TransformationMode.SmoothTransformation)
    assert decode_image(small) == [f"PM1:{MEMBER_NO}"]


@pytest.mark.parametrize(("dark", "light"), [("#777", "#999"), ("#404040", "#5a5a5a"),
                                             ("#fff", "#000")])  # faint; dim; light on dark
def test_a_low_contrast_or_inverted_code_is_read(dark: str, light: str) -> None:
    image = qr("654321", dark=dark, light=light)
    picture = canvas(500, 500, [(image, 100, 100, 0)], background=light)
    assert decode_image(picture) == ["654321"]


def test_several_codes_come_in_reading_order_and_the_first_member_or_payment_code_wins(
        tmp_path: Path) -> None:
    url, coupon, payment = qr("https://example.com/menu"), qr("CP1:W7X2"), qr("246810")
    member = qr(f"PM1:{MEMBER_NO}")
    # Top row: a web address, then a coupon; bottom row: the member code left of a payment code.
    picture = canvas(1000, 800, [(coupon, 560, 40, 0), (url, 60, 50, 0),
                                 (payment, 600, 420, 0), (member, 80, 430, 4)])
    assert decode_image(picture) == ["https://example.com/menu", "CP1:W7X2",
                                     f"PM1:{MEMBER_NO}", "246810"]
    assert code_in_file(saved(picture, tmp_path / "several.png")) == f"PM1:{MEMBER_NO}"


def test_a_picture_without_a_code_is_told(tmp_path: Path) -> None:
    blank = canvas(300, 200, [])
    with pytest.raises(NoCodeInImage):
        code_in_file(saved(blank, tmp_path / "blank.png"))
    only_coupon = canvas(400, 400, [(qr("CP1:W7X2"), 50, 50, 0)])
    with pytest.raises(NoCodeInImage):
        code_in_file(saved(only_coupon, tmp_path / "coupon.png"))


def test_a_file_that_is_not_a_picture_is_told(tmp_path: Path) -> None:
    bad = tmp_path / "notes.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 50)
    with pytest.raises(ImageUnreadable):
        code_in_file(bad)
    with pytest.raises(ImageUnreadable):
        code_in_file(tmp_path / "missing.png")


# --- the till action -------------------------------------------------------------------------


def choose(qtbot: QtBot, window: TillWindow, path: Path) -> None:
    qtbot.keyClick(window, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: isinstance(window.dialog, QFileDialog))
    dialog = window.dialog
    assert isinstance(dialog, QFileDialog)
    dialog.selectFile(str(path))
    dialog.accept()
    qtbot.waitUntil(lambda: window.dialog is None)
    settle(qtbot, window)


def test_ctrl_o_shows_the_card_of_the_member_in_the_picture(
        qtbot: QtBot, window: TillWindow, till: Till, tmp_path: Path) -> None:
    m = till.register(phone="13900005555")
    picture = canvas(700, 500, [(qr(f"PM1:{m.member_no}"), 200, 80, 30)])
    choose(qtbot, window, saved(picture, tmp_path / "member.jpg"))
    qtbot.waitUntil(lambda: window.card_view.card is not None)
    assert window.card_view.card.id == m.id  # type: ignore[union-attr]


def test_ctrl_o_on_a_picture_without_a_code_tells_and_keeps_the_card(
        qtbot: QtBot, window: TillWindow, till: Till, tmp_path: Path) -> None:
    m = till.register(phone="13900005555")
    qtbot.keyClicks(window.scan, m.member_no)
    qtbot.keyClick(window.scan, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.card_view.card is not None)
    choose(qtbot, window, saved(canvas(300, 300, []), tmp_path / "blank.png"))
    assert window.banner.isVisible() and window.banner.property("kind") == "error"
    assert window.card_view.card is not None and window.card_view.card.id == m.id


def test_the_button_rows_fit_a_1024_pixel_screen(
        open_till: Callable[[Clerk], TillWindow], till: Till) -> None:
    window = open_till(till.manager)  # a manager sees every button
    layout = window.centralWidget().layout()
    margins = layout.contentsMargins()
    for r in range(window.actions_bar.count()):
        row = window.actions_bar.itemAt(r).layout()
        width = row.minimumSize().width() + margins.left() + margins.right()
        print(f"row {r}: {width} px")
        assert width <= 1024, r
