"""A scanner on a serial port (RS-232, or USB presenting a COM port): each code arrives as a
line ended by CR, LF or both. Read on a thread of its own; every good line goes to
``on_line`` (the till routes it like a scan, on the GUI thread).

Refused, with a log line that names the reason only (never what was read): bytes that are not
UTF-8, control characters, a line over ``MAX_LINE`` characters (the rest of it up to the next
line end is dropped too). The port vanishing (a USB scanner unplugged) is reported once
(``on_state(False)``) and the port is tried again every ``retry_s`` seconds; ``on_state(True)``
each time it opens.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from enum import Enum

import serial

log = logging.getLogger(__name__)

MAX_LINE = 200  # the scan field's own limit: no member, coupon or payment code comes near it
RETRY_S = 2.0
_READ_TIMEOUT_S = 0.2  # how soon the thread sees stop()


class Refused(Enum):
    NOT_UTF8 = "not UTF-8"
    CONTROL = "control characters"
    TOO_LONG = "line too long"


class LineFramer:
    """Bytes in, lines out: splits on CR and LF (an empty line between them is no line)."""

    def __init__(self, max_line: int = MAX_LINE) -> None:
        self.max_line = max_line
        self._buf = bytearray()
        self._overlong = False

    def feed(self, data: bytes) -> list[str | Refused]:
        out: list[str | Refused] = []
        for byte in data:
            if byte in (0x0D, 0x0A):
                if self._overlong:
                    out.append(Refused.TOO_LONG)
                elif self._buf:
                    out.append(_line(bytes(self._buf)))
                self._buf.clear()
                self._overlong = False
            elif not self._overlong:
                self._buf.append(byte)
                # A UTF-8 character is at most 4 bytes: past 4 per character it is too long.
                if len(self._buf) > 4 * self.max_line or (
                        len(self._buf) > self.max_line and _chars(self._buf) > self.max_line):
                    self._overlong = True
                    self._buf.clear()
        return out


def _chars(buf: bytearray) -> int:
    return len(bytes(buf).decode("utf-8", errors="replace"))


def _line(raw: bytes) -> str | Refused:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return Refused.NOT_UTF8
    if not text.isprintable():
        return Refused.CONTROL
    return text


class SerialScanner:
    def __init__(self, port: str, baud: int, *, on_line: Callable[[str], None],
                 on_state: Callable[[bool], None], retry_s: float = RETRY_S) -> None:
        self.port, self.baud, self.retry_s = port, baud, retry_s
        self.on_line, self.on_state = on_line, on_state
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="serial-scanner", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 3.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        reported = False
        while not self._stop.is_set():
            try:
                with serial.Serial(self.port, self.baud, timeout=_READ_TIMEOUT_S) as port:
                    log.info("serial scanner on %s open", self.port)
                    reported = False
                    self.on_state(True)
                    self._read(port)
            except (serial.SerialException, OSError) as e:
                if not reported and not self._stop.is_set():
                    log.warning("serial scanner on %s unavailable (%s); retrying every %ss",
                                self.port, type(e).__name__, self.retry_s)
                    self.on_state(False)
                    reported = True
            self._stop.wait(self.retry_s)

    def _read(self, port: serial.Serial) -> None:
        framer = LineFramer()
        while not self._stop.is_set():
            data = port.read(max(1, port.in_waiting))
            for item in framer.feed(data):
                if isinstance(item, Refused):
                    log.info("serial scanner: line refused (%s)", item.value)
                else:
                    self.on_line(item)
