"""Mainland mobile numbers: normalise what a cashier types or pastes, validate, mask."""

from __future__ import annotations

import re
import unicodedata

from pos_member.errors import InvalidPhone

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u00a0()（）]")


def normalise_phone(raw: str) -> str:
    """Returns the 11-digit number or raises :class:`InvalidPhone`.

    Full-width digits and signs become ASCII (NFKC); spaces, dashes and brackets go; a leading
    ``+86``, ``0086`` or ``86`` country code goes when what remains is 11 digits.
    """
    text = _SEPARATORS.sub("", unicodedata.normalize("NFKC", raw))
    for prefix in ("+86", "0086", "86"):
        if text.startswith(prefix) and len(text) == len(prefix) + 11:
            text = text[len(prefix):]
            break
    if not _MOBILE.match(text):
        raise InvalidPhone()
    return text


def looks_like_phone(raw: str) -> bool:
    try:
        normalise_phone(raw)
    except InvalidPhone:
        return False
    return True


def mask_phone(phone: str) -> str:
    """``13812345678`` → ``138****5678``."""
    if len(phone) != 11:
        return "*" * len(phone)
    return f"{phone[:3]}****{phone[7:]}"


def mask_name(name: str | None) -> str | None:
    """王小明 → 王*明, 王明 → 王*, Alice → A****. (The till's card and HQ's lookup.)"""
    if not name:
        return None
    if len(name) <= 2:
        return name[0] + "*" * (len(name) - 1)
    if len(name) == 3:
        return name[0] + "*" + name[-1]
    return name[0] + "*" * (len(name) - 1)
