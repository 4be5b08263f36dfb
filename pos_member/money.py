"""Money is integer fen (分). Parsing and formatting happen only at the edges."""

from __future__ import annotations

import re
from typing import NewType

from pos_member.errors import InvalidMoney

Fen = NewType("Fen", int)
Points = NewType("Points", int)

# Whole yuan: up to 9 digits, plain or grouped by thousands as format_yuan writes them.
_AMOUNT = re.compile(r"^\s*[¥￥]?\s*(\d{1,3}(?:,\d{3}){1,2}|\d{1,9})(?:\.(\d{1,2}))?\s*$")


def fen(value: int) -> Fen:
    """Checks that ``value`` is an int (never a float or bool) and brands it as fen."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"money must be integer fen, got {type(value).__name__}: {value!r}")
    return Fen(value)


def points(value: int) -> Points:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"points must be an integer, got {type(value).__name__}: {value!r}")
    return Points(value)


def parse_yuan(text: str) -> Fen:
    """``"¥123.4"`` → ``12340``, ``"¥1,234.50"`` → ``123450``. Refuses negatives, more than
    two decimals and junk."""
    m = _AMOUNT.match(text)
    if not m:
        raise InvalidMoney(value=text)
    whole, frac = m.group(1).replace(",", ""), (m.group(2) or "").ljust(2, "0")
    return Fen(int(whole) * 100 + int(frac))


def format_yuan(amount: int, *, symbol: bool = True) -> str:
    """``12345`` → ``"¥123.45"``; negative amounts as ``"-¥1.00"``."""
    amount = fen(amount)
    sign = "-" if amount < 0 else ""
    yuan, cents = divmod(abs(amount), 100)
    return f"{sign}{'¥' if symbol else ''}{yuan:,}.{cents:02d}"
