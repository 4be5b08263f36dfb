"""The JSON of pulled changes, kept by position in each server process (``pull.pull_json``).

At closing time every till of the chain pulls the same rows: the day's registrations (the
directory, routed to everyone) and, three or so tills to a store, each store's events. Read
and encoded once per till, they were most of HQ's work at 22:00 (``close_300_tills_s``:
2.7 million changes pulled for 300,000 pushed). A stored row never changes (``events`` is
append-only: a trigger refuses UPDATE and DELETE) and a pull reads only committed, settled
rows, so the JSON of the change at a position, once encoded, is right for every till and
every later pull: a page then needs only its positions from the database, and the rows this
process has not encoded yet.

Bounded by ``MAX_BYTES``, the least recently pulled going first: the chain's registrations,
which every till pulls, stay while each store's own events, which a few tills pull, come and
go. One per ``ServerDatabase``
(one database: a test process opens many, each with positions from 1). What a process holds
is listed in docs/scale.md (statelessness): this changes nothing another process could
disagree on.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterable
from typing import Generic, TypeVar

MAX_BYTES = 64 * 1024 * 1024  # per server process: ~90,000 changes of ~700 bytes

K = TypeVar("K", bound=Hashable)


class KeptBytes(Generic[K]):
    """key → bytes that never change for their key, at most ``max_bytes`` of them, the least
    recently used going first; thread-safe. The pulled rows by position (``PulledRows``) and
    the compressed pull pages by digest (``gzip_answer.CompressedPages``)."""

    def __init__(self, max_bytes: int) -> None:
        self._rows: OrderedDict[K, bytes] = OrderedDict()  # least recently used first
        self._bytes = 0
        self._max = max_bytes
        self._lock = threading.Lock()

    def get_many(self, keys: list[K]) -> list[bytes | None]:
        """The bytes kept for ``keys`` (None: not kept), each now the most recently used."""
        rows, found = self._rows, []
        with self._lock:
            for key in keys:
                value = rows.get(key)
                if value is not None:
                    rows.move_to_end(key)
                found.append(value)
        return found

    def put(self, items: Iterable[tuple[K, bytes]]) -> None:
        """Keeps ``items`` (a key kept already keeps its bytes), then lets the least recently
        used go while more than ``max_bytes`` are kept."""
        with self._lock:
            for key, value in items:
                if key not in self._rows:
                    self._rows[key] = value
                    self._bytes += len(value)
            while self._bytes > self._max and self._rows:
                self._bytes -= len(self._rows.popitem(last=False)[1])

    def __len__(self) -> int:
        return len(self._rows)


class PulledRows(KeptBytes[int]):
    """position → the change's JSON (``{"position": …, "event": {…}}``), thread-safe."""

    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        super().__init__(max_bytes)
