"""Time-ordered UUIDv7 ids (RFC 9562 §5.7), monotonic within one process.

Python 3.11's ``uuid`` has no v7 (3.14 adds it); this is the RFC's "method 1": the 12-bit
``rand_a`` field is a counter seeded at random each millisecond, so ids made in the same
millisecond still sort in creation order.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable

_lock = threading.Lock()
_last_ms = -1
_counter = 0


def uuid7(now_ms: Callable[[], int]) -> uuid.UUID:
    return uuid.UUID(int=_uuid7_int(now_ms))


def _uuid7_int(now_ms: Callable[[], int]) -> int:
    global _last_ms, _counter
    with _lock:
        ms = now_ms()
        if ms <= _last_ms:
            # Same millisecond, or the wall clock went back: stay on the last ms and count on.
            ms = _last_ms
            _counter += 1
            if _counter > 0xFFF:
                ms += 1
                _counter = 0
        else:
            _counter = int.from_bytes(os.urandom(2), "big") & 0x7FF
        _last_ms = ms
        rand_b = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
        value = (ms & ((1 << 48) - 1)) << 80
        value |= 0x7 << 76
        value |= _counter << 64
        value |= 0b10 << 62
        value |= rand_b
    return value


def _text(value: int) -> str:
    """The canonical 8-4-4-4-12 text, formed without ``uuid.UUID`` (a third of the time)."""
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def uuid7_str(now_ms: Callable[[], int]) -> str:
    return _text(_uuid7_int(now_ms))


def uuid7_many(now_ms: Callable[[], int], n: int) -> list[str]:
    """``n`` ids as :func:`uuid7_str` makes them one by one (the same counter, so they sort in
    order after every id made before), for a job writing thousands of rows at once: the lock
    is taken once and the text formed without ``uuid.UUID`` (a third of the time)."""
    global _last_ms, _counter
    out: list[str] = []
    with _lock:
        ms = now_ms()
        if ms <= _last_ms:
            ms = _last_ms
        else:
            _counter = int.from_bytes(os.urandom(2), "big") & 0x7FF
            _last_ms = ms
            _counter -= 1  # the first id below counts it up again
        randoms = os.urandom(8 * n)
        for i in range(n):
            _counter += 1
            if _counter > 0xFFF:
                ms += 1
                _counter = 0
            rand_b = int.from_bytes(randoms[8 * i:8 * i + 8], "big") & ((1 << 62) - 1)
            value = ((ms & ((1 << 48) - 1)) << 80) | (0x7 << 76) | (_counter << 64) \
                | (0b10 << 62) | rand_b
            out.append(_text(value))
        _last_ms = ms
    return out
