"""Member numbers and what the till can tell from a scanned or typed code.

A member number is made on the till without asking a server and is unique chain-wide:
``SSSS DD NNNNNNN C`` — store number (4 digits), device number within the store (2), the
device's own member sequence (7) and a Luhn check digit (1), 14 digits in all. The member QR
carries a versioned payload, ``PM1:<member number>``, so the format can change later without
old cards becoming unreadable.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import Enum

from pos_member.errors import MalformedCode
from pos_member.phone import looks_like_phone, normalise_phone

QR_PREFIX = "PM1:"
MEMBER_NO_LENGTH = 14
_DIGITS = re.compile(r"^\d+$")
_QR_VERSIONED = re.compile(r"^PM(\d+):(.*)$")


def luhn_digit(digits: str) -> int:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return (10 - total % 10) % 10


def make_member_no(*, store_no: int, device_no: int, seq: int) -> str:
    if not (0 < store_no <= 9999 and 0 < device_no <= 99 and 0 < seq <= 9_999_999):
        raise ValueError(f"member number out of range: {store_no=} {device_no=} {seq=}")
    body = f"{store_no:04d}{device_no:02d}{seq:07d}"
    return body + str(luhn_digit(body))


def is_valid_member_no(text: str) -> bool:
    return (
        len(text) == MEMBER_NO_LENGTH
        and bool(_DIGITS.match(text))
        and luhn_digit(text[:-1]) == int(text[-1])
    )


def qr_payload(member_no: str) -> str:
    return QR_PREFIX + member_no


def card_code(member_no: str, generation: int = 0) -> str:
    """The code on the member's card: ``PM1:<number>`` for the first card, and after a lost
    card's re-issue ``PM2:<number>:<generation>`` (issue 20): the older codes are refused."""
    return qr_payload(member_no) if generation <= 0 else f"PM2:{member_no}:{generation}"


class CodeKind(Enum):
    MEMBER = "member"
    PHONE = "phone"


@dataclass(frozen=True, slots=True)
class ScannedCode:
    kind: CodeKind
    value: str
    generation: int = 0  # a member code's card generation (``card_code``)


def classify_code(raw: str) -> ScannedCode:
    """Routes what the scan field received. Raises :class:`MalformedCode` for anything else.

    Coupon codes and dynamic payment codes join here when those issues land.
    """
    text = unicodedata.normalize("NFKC", raw).strip()
    m = _QR_VERSIONED.match(text)
    if m:
        if m.group(1) == "2":
            return _second_card(text, m.group(2))
        if m.group(1) != "1" or not is_valid_member_no(m.group(2)):
            raise MalformedCode(code=text[:40])
        return ScannedCode(CodeKind.MEMBER, m.group(2))
    if is_valid_member_no(text):
        return ScannedCode(CodeKind.MEMBER, text)
    if looks_like_phone(text):
        return ScannedCode(CodeKind.PHONE, normalise_phone(text))
    raise MalformedCode(code=text[:40])


def _second_card(text: str, body: str) -> ScannedCode:
    number, _, generation = body.partition(":")
    if not (is_valid_member_no(number) and generation.isdigit() and 0 < len(generation) <= 4
            and int(generation) > 0):
        raise MalformedCode(code=text[:40])
    return ScannedCode(CodeKind.MEMBER, number, int(generation))
