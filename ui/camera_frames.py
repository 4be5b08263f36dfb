"""Codes from a camera's frames. Whatever delivers the frames (QtMultimedia's video sink where
PySide6-Addons is installed, see ``ui.till_camera``; a test) calls :meth:`FrameDecoder.feed`;
decoding runs off the GUI thread, one frame at a time, and a code found is handed to
``on_code`` on the GUI thread, to be routed like a scan (docs/rules.md, "Scanning").

A camera delivers 15-30 frames a second and decoding one takes longer: a frame that arrives
while one is being decoded is dropped (the next free moment takes the newest). A code held in
front of the camera is handed on once: the same code again only after a frame without it, or
after another code.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject
from PySide6.QtGui import QImage

from pos_member.scan_route import Route, first_routable
from ui.code_reader import decode_image
from ui.operations import Operations

log = logging.getLogger(__name__)


class FrameDecoder(QObject):
    def __init__(self, on_code: Callable[[str], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.on_code = on_code
        self.ops = Operations(self._failed, self)  # its own threads: the till's stay free
        self.busy = False
        self.last: str | None = None  # the code handed on last, while it stays in view
        self.decoded = 0  # frames decoded (tests and the log read it)
        self.dropped = 0  # frames that came while another was being decoded

    def feed(self, frame: QImage) -> None:
        """A frame from the camera (any QImage format); the GUI thread's."""
        if self.busy:
            self.dropped += 1
            return
        if frame.isNull():
            return
        self.busy = True
        image = frame.copy()  # the camera may reuse the frame's memory
        self.ops.run(lambda: first_routable(decode_image(image)), self._decoded)

    def feed_gray(self, data: bytes, width: int, height: int) -> None:
        """A frame as 8-bit grey pixels, row by row (a camera that gives raw bytes)."""
        if len(data) != width * height or width <= 0 or height <= 0:
            log.info("camera frame refused: %d bytes for %dx%d", len(data), width, height)
            return
        self.feed(QImage(data, width, height, width, QImage.Format.Format_Grayscale8))

    def _decoded(self, found: Route | None) -> None:
        self.busy = False
        self.decoded += 1
        code = found.code if found is not None else None
        if code is None:
            self.last = None  # the code left the view: shown again, it counts again
            return
        if code != self.last:
            self.last = code
            self.on_code(code)

    def _failed(self, error: Exception) -> None:
        self.busy = False
        log.info("camera frame not decoded: %s", type(error).__name__)

    def wait(self, msecs: int = 5000) -> bool:
        return self.ops.wait(msecs)
