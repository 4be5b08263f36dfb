"""Values as pulled events carry them on the wire: base64 bytes and ISO 8601 times."""

from __future__ import annotations

import base64
from datetime import UTC, datetime


def unb64(value: str | None) -> bytes | None:
    """Base64 text → bytes (None stays None)."""
    return base64.b64decode(value) if value is not None else None


def wire_datetime(value: str | datetime) -> datetime:
    """Wire times are ISO 8601; one without an offset is taken as UTC."""
    when = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)
