"""A recruitment target and its month as a manager or HQ types them: the checks at the
boundary, shared by the till (``services.targets``) and the central server."""

from __future__ import annotations

import unicodedata
from datetime import date

from pos_member.errors import InvalidMonth, InvalidTarget

MAX_MONTH_TARGET = 100_000
MAX_DAY_TARGET = 10_000


def parse_target(value: object, *, maximum: int = MAX_MONTH_TARGET) -> int:
    """A target as the manager typed it (``"120"``, full-width digits too) or an int. Refuses
    negatives, fractions, floats, booleans and anything above ``maximum``."""
    if isinstance(value, bool):
        raise InvalidTarget(value=str(value), maximum=maximum)
    if isinstance(value, int):
        number = value
    elif isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip().replace(",", "")
        if not text.isascii() or not text.isdigit():
            raise InvalidTarget(value=value.strip() or "—", maximum=maximum)
        number = int(text)
    else:
        raise InvalidTarget(value=str(value), maximum=maximum)
    if not 0 <= number <= maximum:
        raise InvalidTarget(value=str(number), maximum=maximum)
    return number


def parse_month(value: str | date) -> str:
    """``YYYY-MM`` (or a date: its month)."""
    if isinstance(value, date):
        return f"{value.year:04d}-{value.month:02d}"
    text = value.strip()
    try:
        year, month = (int(p) for p in text.split("-"))
        if len(text) != 7 or not (2000 <= year <= 2999 and 1 <= month <= 12):
            raise ValueError(text)
    except ValueError:
        raise InvalidMonth(value=text or "—") from None
    return f"{year:04d}-{month:02d}"
