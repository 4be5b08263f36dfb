"""Free text a clerk types that travels in events (a manager's reason for a status, a tier, a
card, a coupon, a points adjustment, a stored-value freeze): one line, no control character.

A NUL in a payload is refused by HQ's push (PostgreSQL's JSON cannot hold it: docs/sync.md),
and a till whose push is refused keeps every later event in its outbox: one such reason would
stop the store's sync. So it is refused where it is typed, with nothing written.
"""

from __future__ import annotations

import unicodedata

from pos_member.errors import InvalidInput
from pos_member.i18n import QT_TRANSLATE_NOOP


def one_line(text: str | None) -> str:
    """``text`` with its runs of spaces and line breaks as one space, trimmed ("" for None).
    Raises :class:`InvalidInput` for a control, format or unassigned character (a NUL, an
    escape, a lone surrogate)."""
    text = " ".join((text or "").split())
    if any(unicodedata.category(c).startswith("C") for c in text):
        raise InvalidInput(QT_TRANSLATE_NOOP(
            "errors", "The text holds a control character: type it again."))
    return text
