"""HQ's check of a coupon before a till redeems it (issue 18): ``GET /v1/coupons/check``.

A till redeems against its own copy of a coupon; any coupon (another till's, another store's,
HQ's, and one it issued itself: the store's other tills hold it too, and a till put back from a
copy does not know what it redeemed since) may have been redeemed where this till has not yet
heard of it. Online, the till asks HQ first about each, sending the coupon's key (never its
code: the code is the key and an HMAC under the chain's data key, and HQ needs only the key).
HQ answers from ``coupon_uses``, the bill each coupon was redeemed on chain-wide as far as HQ
has been told, and ``coupon_terms``, its withdrawal (``sync/server/coupons.py``). Counted
and audited with the member lookups (HQ's limit per device, ``sync/server/lookup_limits.py``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sync.protocol import _Strict

COUPON_CHECK_PATH = "/coupons/check"
COUPON_KEY = r"^[0-9a-f]{12}$"  # a coupon's key: 6 random bytes as lowercase hex


class CouponCheckResponse(_Strict):
    """``redeemed``: HQ holds a bill the coupon was redeemed on (and not given back by a
    refund); then the bill's sale id, the store (number and name) and when HQ stored it.
    ``as_of``: HQ's time of the answer.

    ``state``: the coupon's life as HQ was told of it (``coupon_terms``): ``issued``,
    ``revoked`` (withdrawn at some till), ``expired``; None when HQ holds no issue of it.
    ``coupon``: the coupon as issued (template, name, terms — face value, threshold, tiers,
    stores —, validity, issuing store and till), only to a till of another store than the
    coupon's (the member's home store's tills hold it already); ``issued_event_id``: the
    ``coupon.issued`` event's id, so the asking till's ledger keeps the same entry a pull
    would have made."""

    key: str
    redeemed: bool
    sale_id: str | None = None
    store_no: int | None = None
    store_name: str = ""
    used_at: datetime | None = None
    as_of: datetime
    state: str | None = None
    coupon: dict[str, Any] | None = None
    issued_event_id: str | None = None
