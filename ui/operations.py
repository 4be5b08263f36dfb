"""Runs core calls on a thread pool and hands results back on the GUI thread.

Every change the till makes is an operation: a function of the core run off the GUI thread, so
the window never freezes on a slow disk or a long hash. ``done`` is called with the result and
``failed`` with the exception, both on the GUI thread (a queued signal to a QObject living there).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)


class _Relay(QObject):
    finished = Signal(int, bool, object)


class _Task(QRunnable):
    def __init__(self, token: int, fn: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self.token, self.fn, self.relay = token, fn, relay

    def run(self) -> None:
        try:
            result = self.fn()
        except Exception as e:  # handed to the GUI thread's error sink
            self.relay.finished.emit(self.token, False, e)
        else:
            self.relay.finished.emit(self.token, True, result)


class Operations(QObject):
    """``on_error`` is the window's one error sink, used when a caller gives no ``failed``."""

    def __init__(self, on_error: Callable[[Exception], None], parent: QObject | None = None):
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(2)
        self._relay = _Relay(self)
        self._relay.finished.connect(self._deliver)
        self._pending: dict[int, tuple[Callable[[Any], None], Callable[[Exception], None]]] = {}
        self._tokens = itertools.count(1)
        self._on_error = on_error

    def run(
        self,
        fn: Callable[[], Any],
        done: Callable[[Any], None],
        failed: Callable[[Exception], None] | None = None,
    ) -> None:
        token = next(self._tokens)
        self._pending[token] = (done, failed or self._on_error)
        self._pool.start(_Task(token, fn, self._relay))

    def busy(self) -> bool:
        return bool(self._pending)

    def wait(self, msecs: int = 5000) -> bool:
        return self._pool.waitForDone(msecs)

    @Slot(int, bool, object)
    def _deliver(self, token: int, ok: bool, value: object) -> None:
        done, failed = self._pending.pop(token)
        if ok:
            done(value)
        else:
            if not hasattr(value, "message"):
                log.exception("operation failed", exc_info=value)  # type: ignore[arg-type]
            else:  # a refusal: its name only, never its text (it may quote what was typed)
                log.info("refused: %s", type(value).__name__)
            failed(value)  # type: ignore[arg-type]
