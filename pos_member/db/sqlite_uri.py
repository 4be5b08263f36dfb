"""``file:`` URIs for SQLite that work for any path a till may be given.

Building ``f"file:{path}?mode=ro"`` by hand breaks on a path holding ``?``, ``#`` or ``%``
(SQLite reads them as the query, the fragment or an escape), and ``Path.as_uri()`` turns a
Windows share (``\\\\server\\share\\till.sqlite``, or a mapped drive resolved to one) into
``file://server/share/…``, whose authority SQLite refuses. SQLite takes an empty authority
followed by the path, so a share is written ``file:////server/share/…`` and a drive path
``file:///C:/…`` (https://www.sqlite.org/uri.html).
"""

from __future__ import annotations

from pathlib import PurePath
from urllib.parse import quote

_SAFE = "/:"  # kept as they are in the path part; everything else is %-escaped


def sqlite_uri(path: PurePath, *, mode: str) -> str:
    """The URI that opens the database at ``path`` (made absolute by the caller) with
    ``mode`` (``ro``, ``rw`` or ``rwc``)."""
    posix = path.as_posix()
    if not posix.startswith("/"):  # a Windows drive path, C:/…
        posix = "/" + posix
    return f"file://{quote(posix, safe=_SAFE)}?mode={mode}"
