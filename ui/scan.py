"""The scan field: always focused, tells a scanner burst from a person typing.

USB and Bluetooth scanners type like a keyboard, a few milliseconds per key, and end with Enter.
People type 80+ ms per key. A submission counts as a scan when it has at least ``MIN_LENGTH``
characters, every gap between keys is under ``MAX_GAP_MS`` and Enter follows within the same gap.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from itertools import pairwise

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QLineEdit, QWidget

MAX_GAP_MS = 35.0
MIN_LENGTH = 6


@dataclass
class ScanClassifier:
    """Pure timing logic, tested without a display. Times are milliseconds."""

    max_gap_ms: float = MAX_GAP_MS
    min_length: int = MIN_LENGTH
    _times: list[float] = field(default_factory=list)

    def key(self, t_ms: float) -> None:
        self._times.append(t_ms)

    def reset(self) -> None:
        self._times.clear()

    def enter(self, t_ms: float, length: int) -> bool:
        """True when the text just submitted arrived as a scanner burst."""
        times = [*self._times, t_ms]
        self._times.clear()
        if length < self.min_length or len(times) < self.min_length + 1:
            return False
        gaps = [b - a for a, b in pairwise(times)]
        return max(gaps) <= self.max_gap_ms


class ScanField(QLineEdit):
    """Emits ``submitted(text, is_scan)`` on Enter and clears itself."""

    submitted = Signal(str, bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.classifier = ScanClassifier()
        self.setObjectName("scanField")
        self.setClearButtonEnabled(True)
        self.setMaxLength(200)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        now = time.monotonic() * 1000
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            text = self.text().strip()
            is_scan = self.classifier.enter(now, len(text))
            self.clear()
            if text:
                self.submitted.emit(text, is_scan)
            return
        if event.key() == Qt.Key.Key_Escape:
            self.classifier.reset()
            self.clear()
            return
        if event.text() and event.text().isprintable():
            if not self.text():
                self.classifier.reset()
            self.classifier.key(now)
        super().keyPressEvent(event)
