"""Console output of the command-line programs, the same on every till.

Python writes to a pipe or a file in the locale's encoding: on a Windows till with a Western
code page (cp1252) a redirected ``close-day > day.txt`` or a scheduled task's log would stop
with ``UnicodeEncodeError`` at the first Chinese store name. The commands therefore always
write UTF-8 when their output is not a console (a console keeps Windows' own Unicode output).
"""

from __future__ import annotations

import io
import sys


def utf8_when_redirected() -> None:
    """Switches ``sys.stdout``/``sys.stderr`` to UTF-8 when they are a pipe or a file."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper) and not stream.isatty():
            stream.reconfigure(encoding="utf-8")


def os_error_line(error: OSError) -> str:
    """A failure of the disk or a path as one line: the path and the system's reason
    (``till.sqlite: Permission denied``), never a traceback (both programs' last resort)."""
    where = f"{error.filename}: " if error.filename else ""
    return f"{where}{error.strerror or error}"
