"""A payload against its declaration (``pos_member.events``): the typed decode the reader
does, as the check HQ makes at push (``sync.server.payloads``) and the one the till makes on
what it writes when strict (the test suite: every event a till writes in a test is one HQ
takes).

An event of a type and version declared here must decode as that version of that type: every
required field present, each of its declared type (no ``"3"`` for an integer, no float for an
integer, no number over the struct's bounds), and no number that is not finite (``1e400`` is
infinity to a JSON parser) or an integer past ±(2^63 − 1) anywhere in it, in a field the
declaration names or not (the whole text is read untyped as well as typed). An older
version is upcast first, as a reader does. A type not declared, or a newer version of one,
is not looked at (None).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from functools import cache
from typing import Any

import msgspec

from pos_member.events import EVENTS
from pos_member.events.errors import EventNotReadable

MAX_BIGINT = 2**63 - 1  # SQLite's and PostgreSQL's BIGINT; sync.protocol's bound is this one

# Set by the test suite (tests/conftest.py): the till refuses to write an event of its own
# that HQ's push would refuse (a declaration and its writer disagreeing). Off in production,
# where such an event waits in the outbox and HQ flags the till (docs/rules.md).
STRICT = os.environ.get("POS_MEMBER_STRICT_EVENTS") == "1"


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("not a finite number")
    return value


class _Unsealed:
    """Upcasting an older version only to check it: what it would seal is not kept."""

    def encrypt(self, plaintext: str, *, context: str) -> bytes:
        return b""

    def decrypt(self, blob: bytes, *, context: str) -> str:
        return ""


_AS_DICT = msgspec.json.Decoder(dict[str, Any], float_hook=_finite)


@cache
def _decoder(kind: str) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(EVENTS[kind].payload, float_hook=_finite)


# An integer past MAX_BIGINT has 19 digits or more: looked for as a run of 19 digits (each
# digit read as "0", all else as a space; ~0.4 µs for a 340-byte payload, a regular
# expression ~3 µs), and only then is the payload walked.
DIGITS = bytes(48 if 48 <= i <= 57 else 32 for i in range(256))
LONG_RUN = b"0" * 19


def any_value(value: Any, test: Callable[[Any], bool]) -> bool:
    """Whether ``test`` holds for any value in a decoded JSON ``value`` (walked without
    recursion: a payload's depth is bounded elsewhere, not trusted here)."""
    todo = [value]
    while todo:
        item = todo.pop()
        if test(item):
            return True
        if isinstance(item, dict):
            todo.extend(item.values())
        elif isinstance(item, list):
            todo.extend(item)
    return False


def _too_big(value: Any) -> bool:
    """Whether an integer in ``value`` is past ``MAX_BIGINT`` either way: SQLite's and
    PostgreSQL's integers, and the till's, stop there (a till held such an event in
    quarantine, b6ced37; HQ's reporting copy left it out, 65ac5e2)."""
    return any_value(value, lambda v: isinstance(v, int)
                     and not -MAX_BIGINT - 1 <= v <= MAX_BIGINT)


def problem(kind: str, version: int, raw: bytes | msgspec.Raw, *,
            long_run: bool | None = None) -> str | None:
    """What is wrong with a payload of ``kind`` at ``version`` (its JSON text), or None when
    it is what its declaration says (or this server does not declare that type or version).
    ``long_run``: False when the caller knows the text has no run of 19 digits."""
    declared = EVENTS.get(kind)
    if declared is None or version > declared.version:
        return None
    if long_run is None:
        long_run = LONG_RUN in bytes(raw).translate(DIGITS)
    try:
        # The whole payload read untyped: a number not finite in a field the declaration
        # does not name, which the typed decode skips unread (~0.5 µs for 340 bytes; no gate
        # on the text is cheaper: ids in hex hold "digit e digit" in most payloads).
        data = _AS_DICT.decode(raw)
        if long_run and _too_big(data):
            return f"an integer no database holds (past ±{MAX_BIGINT})"
        if version == declared.version:
            _decoder(kind).decode(raw)
            return None
        for n in range(version, declared.version):
            data = declared.upcasters[n](data, _Unsealed())
        msgspec.convert(data, declared.payload)
    except (msgspec.ValidationError, msgspec.DecodeError) as e:
        return str(e)
    except (EventNotReadable, KeyError, TypeError, ValueError, AttributeError) as e:
        return f"cannot upcast v{version}: {type(e).__name__}"
    return None


def check_written(kind: str, version: int, payload: dict[str, Any] | str | bytes) -> None:
    """When :data:`STRICT`: refuses (``TypeError``) a payload the till is about to write that
    HQ's push would refuse."""
    if not STRICT:
        return
    raw = payload if isinstance(payload, str | bytes) else msgspec.json.encode(payload)
    wrong = problem(kind, version, msgspec.Raw(raw))
    if wrong is not None:
        raise TypeError(f"{kind} v{version} is not as declared: {wrong}")
