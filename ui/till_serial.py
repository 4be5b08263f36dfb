"""A serial-port scanner (``scanner_port`` in config.toml): its lines are routed like the scan
field's, on the GUI thread; the port vanishing is said once in the banner and said again when
it is back. Plugs into the till window through :func:`register`; without the setting it does
nothing (the till works with no scanner of this kind)."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QObject, Signal

from pos_member.errors import ScannerUnavailable
from pos_member.serial_scanner import RETRY_S, SerialScanner
from ui.host import TillHost


class _Relay(QObject):
    """Lives on the GUI thread: the reader thread's emits arrive there, queued."""

    line = Signal(str)
    state = Signal(bool)


class SerialFeed:
    def __init__(self, host: TillHost, port: str, baud: int, retry_s: float = RETRY_S) -> None:
        self.host = host
        self.lost = False
        self.relay = _Relay()  # no parent: it must outlive the window until the thread stops
        self.relay.line.connect(host.scan_code)
        self.relay.state.connect(self._state)
        self.scanner = SerialScanner(port, baud, on_line=self.relay.line.emit,
                                     on_state=self.relay.state.emit, retry_s=retry_s)

    def _state(self, ok: bool) -> None:
        if not ok:
            self.lost = True
            self.host.show_error(ScannerUnavailable())
        elif self.lost:
            self.lost = False
            self.host.show_info(QCoreApplication.translate(
                "TillWindow", "The serial scanner is connected again."))


def register(host: TillHost) -> None:
    config = host.app.scanner
    if config is None:
        return
    feed = SerialFeed(host, config.port, config.baud, RETRY_S)
    host.on_start(lambda: feed.scanner.start())  # the closures keep the feed (and its relay)
    host.on_stop(lambda: feed.scanner.stop())
