"""How many SMS codes HQ sends, counted by what HQ knows rather than by what a till says.

A till names a member and a phone; HQ sends a code only to a member it has seen registered
(``member.registered`` reached it: ``member_index``, or ``member_redirects`` for a merged
member) and only to that member's registered phone (its blind index, computed with the chain's
data key, must be the registration's). Then it counts the codes it sent (``sms_codes``) in
rolling windows: per phone (hour and day), per device (hour) and per store (hour). Varying
``member_id``, the phone or the transaction changes none of these counts.

The numbers are HQ's (``pos-member-server sms-limits``), kept in ``chain_settings`` under
``sms_limits`` (JSON); absent, :data:`DEFAULT` applies. A refusal is a 429 ``sms_rate_limited``
with ``Retry-After`` (seconds until a code leaves the window); nothing is written.
"""

from __future__ import annotations

import base64
import json
import math
from dataclasses import asdict, dataclass, fields, replace
from datetime import datetime, timedelta

from sqlalchemy import Connection, func, insert, select, update

from pos_member.crypto import PiiCipher
from pos_member.events import PHONE_CTX
from pos_member.sms_codes import phone_change_txn
from sync.server.context import DeviceIdentity, ServerContext
from sync.server.errors import BadRequest, SmsMemberUnknown, SmsRateLimited
from sync.server.locks import lock_keys
from sync.server.models import ChainSetting, MemberIndex, MemberRedirect, SmsCode

SETTING = "sms_limits"
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
MAX_LIMIT = 100_000
_T = SmsCode.__table__


@dataclass(frozen=True)
class SmsLimits:
    """Codes HQ sends at most, in any rolling window (1 hour, or 1 day)."""

    phone_per_hour: int = 5
    phone_per_day: int = 10
    device_per_hour: int = 60
    store_per_hour: int = 200


DEFAULT = SmsLimits()


def load(conn: Connection) -> SmsLimits:
    text = conn.execute(select(ChainSetting.value).where(ChainSetting.key == SETTING)).scalar()
    if text is None:
        return DEFAULT
    stored = json.loads(text)
    return replace(DEFAULT, **{f.name: int(stored[f.name]) for f in fields(SmsLimits)
                               if f.name in stored})


def current(ctx: ServerContext) -> SmsLimits:
    with ctx.db.read() as conn:
        return load(conn)


def configure(ctx: ServerContext, **changes: int | None) -> SmsLimits:
    """Sets some of the limits (each 1..100,000; None keeps it); returns all of them."""
    given = {name: value for name, value in changes.items() if value is not None}
    names = {f.name for f in fields(SmsLimits)}
    for name, value in given.items():
        if name not in names:
            raise BadRequest(detail=f"no SMS limit {name}")
        if not 1 <= value <= MAX_LIMIT:
            raise BadRequest(detail=f"{name} must be 1-{MAX_LIMIT}")
    with ctx.db.write() as conn:
        limits = replace(load(conn), **given)
        text = json.dumps(asdict(limits), sort_keys=True)
        if conn.execute(select(ChainSetting.key).where(ChainSetting.key == SETTING)).first():
            conn.execute(update(ChainSetting).where(ChainSetting.key == SETTING)
                         .values(value=text))
        else:
            conn.execute(insert(ChainSetting).values(key=SETTING, value=text))
    return limits


def registered_phone_index(conn: Connection, *, data_key: str, member_id: str, phone: str,
                           txn_id: str = "") -> str:
    """The blind index of ``phone`` (normalised) if it is ``member_id``'s registered phone;
    else ``SmsMemberUnknown``. A phone change's code (``txn_id`` bound to the new phone's
    index: ``sms_codes.phone_change_txn``) goes to a phone no member holds, for a member HQ
    knows (issue 20)."""
    owner = conn.execute(select(MemberRedirect.winner_member_id)
                         .where(MemberRedirect.loser_member_id == member_id)).scalar()
    registered = set(conn.execute(select(MemberIndex.phone_index)
                                  .where(MemberIndex.member_id == (owner or member_id))).scalars())
    cipher = PiiCipher(base64.b64decode(data_key))
    index = cipher.blind_index(phone, context=PHONE_CTX)
    if index in registered:
        return index
    if registered and txn_id == phone_change_txn(index) and conn.execute(
            select(MemberIndex.member_id).where(MemberIndex.phone_index == index)).first() is None:
        return index
    raise SmsMemberUnknown()


def lock(conn: Connection, *, device: DeviceIdentity, member_id: str, phone_index: str
         ) -> None:
    """Locks what a code's sending counts and replaces (``locks``): the member (its spacing,
    its earlier codes), the phone, the device and the store, so two sends beside each other
    never both pass a limit that allows one more."""
    lock_keys(conn, [f"sms-member:{member_id}", f"sms-phone:{phone_index}",
                     f"sms-device:{device.id}", f"sms-store:{device.store_id}"])


def check(conn: Connection, *, device: DeviceIdentity, phone_index: str,
          now: datetime) -> None:
    """Raises ``SmsRateLimited`` if one more code now would pass a limit; its ``seconds`` is
    the wait until every limit allows one (the longest of the waits)."""
    limits = load(conn)
    waits: list[tuple[float, str]] = []
    for scope, column, value, window, limit in (
        ("phone", _T.c.phone_index, phone_index, HOUR, limits.phone_per_hour),
        ("phone", _T.c.phone_index, phone_index, DAY, limits.phone_per_day),
        ("till", _T.c.device_id, device.id, HOUR, limits.device_per_hour),
        ("store", _T.c.store_id, device.store_id, HOUR, limits.store_per_hour),
    ):
        recent = select(_T.c.sent_at).where(column == value, _T.c.sent_at > now - window)
        count = conn.execute(select(func.count()).select_from(recent.subquery())).scalar_one()
        if count < limit:
            continue
        # the code whose leaving the window brings the count under the limit
        leaving = conn.execute(recent.order_by(_T.c.sent_at.desc())
                               .offset(limit - 1).limit(1)).scalar_one()
        waits.append(((leaving + window - now).total_seconds(), scope))
    if waits:
        wait, scope = max(waits)
        raise SmsRateLimited(scope=scope, seconds=max(1, math.ceil(wait)))
