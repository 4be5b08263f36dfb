"""Camera scanning, simulated by feeding frames: decoded off the GUI thread, one at a time, a
code in view handed on once; and a till without QtMultimedia works (docs/rules.md,
"Scanning")."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from pos_member.member_code import make_member_no
from pos_member.permissions import Clerk
from tests.factories import Till
from tests.ui.test_scan_image import canvas, qr
from ui.camera_frames import FrameDecoder
from ui.till import TillWindow
from ui.till_camera import multimedia

MEMBER_NO = make_member_no(store_no=1, device_no=1, seq=7)


def member_frame(degrees: float = 0) -> QImage:
    return canvas(640, 480, [(qr(f"PM1:{MEMBER_NO}", scale=5), 200, 100, degrees)])


def blank_frame() -> QImage:
    return canvas(640, 480, [])


def decoder(qtbot: QtBot, codes: list[str]) -> FrameDecoder:
    return FrameDecoder(codes.append)


def feed_and_wait(qtbot: QtBot, d: FrameDecoder, frame: QImage) -> None:
    before = d.decoded
    d.feed(frame)
    qtbot.waitUntil(lambda: d.decoded == before + 1)


def test_a_code_held_in_view_is_handed_on_once(qtbot: QtBot) -> None:
    codes: list[str] = []
    d = decoder(qtbot, codes)
    for degrees in (0, 3, -4, 0):  # a hand is never quite still
        feed_and_wait(qtbot, d, member_frame(degrees))
    assert codes == [f"PM1:{MEMBER_NO}"]


def test_the_same_code_counts_again_after_it_left_the_view(qtbot: QtBot) -> None:
    codes: list[str] = []
    d = decoder(qtbot, codes)
    feed_and_wait(qtbot, d, member_frame())
    feed_and_wait(qtbot, d, blank_frame())
    feed_and_wait(qtbot, d, member_frame())
    assert codes == [f"PM1:{MEMBER_NO}"] * 2


def test_another_code_is_handed_on_at_once(qtbot: QtBot) -> None:
    codes: list[str] = []
    d = decoder(qtbot, codes)
    feed_and_wait(qtbot, d, member_frame())
    feed_and_wait(qtbot, d, canvas(640, 480, [(qr("246810", scale=5), 100, 100, 0)]))
    assert codes == [f"PM1:{MEMBER_NO}", "246810"]


def test_frames_that_come_while_one_is_decoded_are_dropped(qtbot: QtBot) -> None:
    codes: list[str] = []
    d = decoder(qtbot, codes)
    frame = member_frame()
    for _ in range(5):  # all on the GUI thread before the first decode can come back
        d.feed(frame)
    qtbot.waitUntil(lambda: d.decoded == 1)
    d.wait()
    assert (d.decoded, d.dropped, codes) == (1, 4, [f"PM1:{MEMBER_NO}"])


def test_grey_bytes_are_a_frame_and_wrong_sized_ones_are_refused(qtbot: QtBot) -> None:
    codes: list[str] = []
    d = decoder(qtbot, codes)
    grey = member_frame().convertToFormat(QImage.Format.Format_Grayscale8)
    data = bytes(grey.constBits())[: grey.bytesPerLine() * grey.height()]
    assert grey.bytesPerLine() == grey.width()  # 640 bytes a row: no padding
    d.feed_gray(b"\x00" * 10, 640, 480)  # refused: nothing decoded
    assert d.busy is False and d.decoded == 0
    d.feed(QImage())  # a null frame is skipped, never decoded
    assert d.busy is False and d.decoded == 0
    d.feed_gray(data, grey.width(), grey.height())
    qtbot.waitUntil(lambda: codes == [f"PM1:{MEMBER_NO}"])


def test_a_frame_without_a_member_or_payment_code_hands_on_nothing(qtbot: QtBot) -> None:
    codes: list[str] = []
    d = decoder(qtbot, codes)
    feed_and_wait(qtbot, d, canvas(640, 480, [(qr("CP1:W7X2", scale=5), 100, 100, 0)]))
    feed_and_wait(qtbot, d, blank_frame())
    assert codes == []


def test_a_camera_frame_shows_the_card_at_the_till(
        qtbot: QtBot, open_till: Callable[[Clerk], TillWindow], till: Till) -> None:
    window = open_till(till.cashier)
    m = till.register(phone="13900008888")
    d = FrameDecoder(window.scan_code, window)
    d.feed(canvas(640, 480, [(qr(f"PM1:{m.member_no}", scale=5), 150, 90, 20)]))
    qtbot.waitUntil(lambda: window.card_view.card is not None)
    assert window.card_view.card.id == m.id  # type: ignore[union-attr]


def test_the_till_works_without_qtmultimedia(
        open_till: Callable[[Clerk], TillWindow], till: Till) -> None:
    assert multimedia() is None  # PySide6-Essentials only: no camera support installed
    window = open_till(till.cashier)
    window.start()
    assert window.buttons["decode_image"].isEnabled()
