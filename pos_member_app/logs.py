"""Log files of the till and of HQ's server: rotating, in the platform's log folder.

``start_logging("pos-member")`` sends every ``logging`` record of INFO and above to
``<log folder>/pos-member.log`` (5 files of 5 MB, UTF-8): ``~/.local/state/pos-member/log`` on
Linux, ``%LOCALAPPDATA%\\pos-member\\Logs`` on Windows (``platformdirs``), or
``$POS_MEMBER_LOG_DIR``. The first line of each start names the program, its version and the
platform; the till adds its store and device, the sync engine every round's outcome, refusals
their error's name, and anything unexpected its traceback.

No PIN, code, token, key, phone number or name is ever logged: the code logs identifiers and
counts only, and as a last guard the formatter masks what looks like a mainland mobile number
or a bearer token in any line, tracebacks included.
"""

from __future__ import annotations

import logging
import logging.handlers
import platform
import re
import sys
from pathlib import Path
from types import TracebackType

from pos_member import __version__
from pos_member.config import log_folder

FILE_BYTES = 5_000_000
FILES = 5
FORMAT = "%(asctime)s %(levelname)s [%(threadName)s] %(name)s: %(message)s"

_MOBILE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)")
_BEARER = re.compile(r"(?i)(bearer\s+)[^\s'\"]+")
_handler: logging.Handler | None = None
log = logging.getLogger(__name__)


def scrub(text: str) -> str:
    """``text`` with mobile numbers and bearer tokens masked."""
    return _BEARER.sub(r"\1***", _MOBILE.sub("1**********", text))


class ScrubbingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


def start_logging(program: str, *, instance: str | None = None,
                  level: int = logging.INFO) -> Path:
    """Starts (or moves) this process's log file; returns its path. Safe to call again.

    ``instance`` names one of several processes of a program on one host (the HQ server's
    port): each gets its own file, since a rotating file shared by processes loses lines
    when one of them rotates it under the others."""
    global _handler
    folder = log_folder(program)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (f"{program}-{instance}.log" if instance else f"{program}.log")
    stop_logging()
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=FILE_BYTES, backupCount=FILES, encoding="utf-8", delay=True)
    handler.setFormatter(ScrubbingFormatter(FORMAT))
    handler.setLevel(level)
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level > level or root.level == logging.NOTSET:
        root.setLevel(level)
    _handler = handler
    for chatty in ("httpx", "httpcore"):  # a line per request: the sync round's line says it
        logging.getLogger(chatty).setLevel(logging.WARNING)
    logging.captureWarnings(True)
    sys.excepthook = _log_uncaught
    log.info("%s %s starting (Python %s, %s)", program, __version__,
             platform.python_version(), platform.platform(terse=True))
    return path


def stop_logging() -> None:
    """Closes the log file started here (tests, and before moving it)."""
    global _handler
    if _handler is not None:
        logging.getLogger().removeHandler(_handler)
        _handler.close()
        _handler = None
    if sys.excepthook is _log_uncaught:
        sys.excepthook = sys.__excepthook__


def _log_uncaught(kind: type[BaseException], value: BaseException,
                  tb: TracebackType | None) -> None:
    """Anything no one caught (a slot of a Qt window, say) goes to the log with its traceback,
    and on to stderr as before."""
    if not issubclass(kind, KeyboardInterrupt):
        log.critical("unexpected error", exc_info=(kind, value, tb))
    sys.__excepthook__(kind, value, tb)
