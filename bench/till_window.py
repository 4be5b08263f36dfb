"""Shared by the benchmarks: time from a scan to the member card painted in the till window."""

from __future__ import annotations

import os
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop

from pos_member.bootstrap import App
from pos_member.permissions import Clerk


def show_card_for_bench(app: App, clerk: Clerk, codes: list[str]) -> list[float]:
    """For each code: submit it as a scan, wait for the card on screen, let the event loop
    paint it. Returns milliseconds per code."""
    from ui.app import make_qt_app
    from ui.till import TillWindow

    qt = make_qt_app("zh_CN")
    window = TillWindow(app=app, clerk=clerk)
    window.show()
    qt.processEvents()
    shown: list[object] = []
    window.card_shown.connect(shown.append)
    times: list[float] = []
    for code in codes:
        shown.clear()
        t0 = time.perf_counter()
        window.scan.submitted.emit(code, True)
        while not shown and not window.banner.isVisible():
            qt.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents)
        qt.processEvents()  # the paint of the card
        times.append((time.perf_counter() - t0) * 1000)
        if not shown:
            raise RuntimeError(f"no card for {code}: {window.banner.text()}")
    window.ops.wait()
    window.close()
    return times
