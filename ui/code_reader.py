"""Codes read from pictures: an image file (support staff's "decode an image file") and, where a
camera exists, its frames. zxing-cpp does the decoding; callers run it off the GUI thread
(``Operations.run``), since a large photo takes a noticeable time.

Several codes in one picture: they are put in reading order (rows from the top, then left to
right) and the first member or payment code wins (:func:`pos_member.scan_route.first_routable`;
docs/rules.md, "Scanning").
"""

from __future__ import annotations

import logging
from pathlib import Path

import zxingcpp
from PySide6.QtGui import QImage, QImageReader

from pos_member.errors import ImageUnreadable, NoCodeInImage
from pos_member.scan_route import first_routable, reading_order

log = logging.getLogger(__name__)

# Pictures a person picks: a screenshot, a phone photo, a scan. Larger files are refused before
# they are read (a 20 MB photo is already far more than a code needs).
MAX_FILE_BYTES = 25 * 1024 * 1024
IMAGE_SUFFIXES = ("png", "jpg", "jpeg", "bmp", "gif", "webp")


def decode_image(image: QImage) -> list[str]:
    """The text of every code in ``image``, in reading order."""
    if image.isNull():
        return []
    gray = image.convertToFormat(QImage.Format.Format_Grayscale8)
    found = [b for b in zxingcpp.read_barcodes(gray) if b.valid and b.text]
    centres, heights = [], []
    for b in found:
        p = b.position
        corners = (p.top_left, p.top_right, p.bottom_right, p.bottom_left)
        xs, ys = [c.x for c in corners], [c.y for c in corners]
        centres.append((sum(xs) / 4, sum(ys) / 4))
        heights.append(max(ys) - min(ys))
    row = min(heights) / 2 if heights else 0
    return [found[i].text for i in reading_order(centres, row_height=row)]


def read_image_file(path: Path) -> QImage:
    """The picture in ``path``, turned upright as the camera recorded it (EXIF); raises
    :class:`ImageUnreadable` for a file that is not a picture, or too big."""
    try:
        size = path.stat().st_size
    except OSError as e:
        raise ImageUnreadable() from e
    if size > MAX_FILE_BYTES:
        raise ImageUnreadable()
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)
    image = reader.read()
    if image.isNull():
        raise ImageUnreadable()
    return image


def code_in_file(path: Path) -> str:
    """The code a picture stands for (what the till then routes like a scan); raises
    :class:`NoCodeInImage` when it holds no member or payment code. Runs off the GUI thread."""
    texts = decode_image(read_image_file(path))
    found = first_routable(texts)
    log.info("picture decoded: %d code(s), %s", len(texts),
             found.kind.value if found else "none usable")  # kinds only: never a code
    if found is None:
        raise NoCodeInImage()
    return found.code
