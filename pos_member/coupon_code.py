"""A coupon's code (issue 18): unguessable, checkable offline, never stored.

A coupon's ``key`` is 6 bytes (48 bits, hex): its chain-wide identity — random, or for a
coupon a trigger issues, an HMAC of its ``trigger_key`` (:func:`trigger_key_of`). Its code is the
key followed by 4 bytes of an HMAC of the key under the chain's data key (the same key every
till and HQ hold for the blind indexes), written as 16 Crockford base-32 characters: typed as
``XXXX-XXXX-XXXX-XXXX``, scanned as the QR payload ``CP1:XXXXXXXXXXXXXXXX``. A code whose HMAC
does not match was not issued by the chain (forged, or mistyped): refused before anything is
looked up. Guessing a real coupon needs both the key (one in 2⁴⁸ per issued coupon) and its
HMAC (one in 2³²).

Pure: the HMAC comes from the caller's ``Signer`` (``pos_member.crypto.PiiCipher``).
"""

from __future__ import annotations

import os
import re
import unicodedata
from typing import Protocol

from pos_member.errors import CouponForged, MalformedCode

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
_VALUE = {c: i for i, c in enumerate(ALPHABET)} | {"O": 0, "I": 1, "L": 1}
PREFIX = "CP1:"
KEY_BYTES, MAC_BYTES = 6, 4
# A typed code: 16 characters, in groups of four or not (the scan route's rule).
TYPED = re.compile(r"^[0-9A-Za-z]{4}(-?[0-9A-Za-z]{4}){3}$")
PAYLOAD = re.compile(r"^CP\d+:\S+$", re.IGNORECASE)
_CONTEXT = "coupon.code"
_KEY_CONTEXT = "coupon.trigger_key"


class Signer(Protocol):
    def blind_index(self, value: str, *, context: str) -> str: ...


def new_key() -> str:
    return os.urandom(KEY_BYTES).hex()


def trigger_key_of(signer: Signer | None, trigger_key: str | None) -> str:
    """The key of a coupon issued for ``trigger_key`` (a rule's member and period:
    ``birthday:<member>:<year>``, ``winback:<member>:<day>``, ``welcome:<member>:<i>``, …):
    derived from it under the chain's data key, so that the same coupon issued twice — by a
    till restored from a backup before it synced, by two tills of one store — is one coupon at
    every till and at HQ (their ``coupons`` rows and HQ's ``coupon_terms`` are keyed by it).
    Unguessable as a random key is (an HMAC); a random one without a trigger or a data key."""
    if signer is None or trigger_key is None:
        return new_key()
    return signer.blind_index(trigger_key, context=_KEY_CONTEXT)[:KEY_BYTES * 2]


def _mac(signer: Signer, key: str) -> bytes:
    return bytes.fromhex(signer.blind_index(key, context=_CONTEXT))[:MAC_BYTES]


def _b32(data: bytes) -> str:
    n = int.from_bytes(data, "big")
    return "".join(ALPHABET[(n >> (5 * i)) & 31] for i in reversed(range(len(data) * 8 // 5)))


def code_of(signer: Signer, key: str) -> str:
    """The 16-character code of the coupon ``key``."""
    return _b32(bytes.fromhex(key) + _mac(signer, key))


def typed_form(code: str) -> str:
    return "-".join(code[i:i + 4] for i in range(0, 16, 4))


def qr_payload(code: str) -> str:
    return PREFIX + code


def looks_like_coupon(text: str) -> bool:
    """A QR payload, or a typed code with its dashes or at least one digit and one letter
    (16 letters alone may be a name being searched for)."""
    text = unicodedata.normalize("NFKC", text).strip()
    if PAYLOAD.match(text):
        return True
    if not TYPED.match(text):
        return False
    return "-" in text or (any(c.isdigit() for c in text) and any(c.isalpha() for c in text))


def key_of(signer: Signer, text: str) -> str:
    """The key of a scanned or typed code. Raises :class:`MalformedCode` for what is not a
    coupon code at all, :class:`CouponForged` when its HMAC is wrong."""
    text = unicodedata.normalize("NFKC", text).strip().upper()
    if text.startswith(PREFIX):
        text = text[len(PREFIX):]
    body = text.replace("-", "").replace(" ", "")
    if len(body) != 16 or any(c not in _VALUE for c in body):
        raise MalformedCode(code="")  # never echo a code
    n = 0
    for c in body:
        n = (n << 5) | _VALUE[c]
    raw = n.to_bytes(KEY_BYTES + MAC_BYTES, "big")
    key = raw[:KEY_BYTES].hex()
    if raw[KEY_BYTES:] != _mac(signer, key):
        raise CouponForged()
    return key
