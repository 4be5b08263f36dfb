"""Members of other stores, through HQ's remote lookup (issue 14).

A till holds its own store's members in full. A scan that finds nobody here (until the
chain-wide member directory lands: a member this till does not hold) asks HQ, when online,
for the member's card and chain-wide balances (``sync/remote_lookup.py``: ``GET
/v1/members/lookup`` with the member number or the phone's blind index — never the phone
itself); this module keeps the answer (``remote_members``) with the HQ position and time it
reflects and this till's acknowledged event seq at the time. Offline, the same scan shows the
cached card and balances (:func:`cached`).

The cap (docs/rules.md, "Another store's member"): offline, a balance payment for a member
HQ described to this till may take at most the balance HQ last reported, plus this till's own
money events for the member that HQ had not acknowledged when it answered (payments are
negative: spent here since), so two tills cannot both spend a balance they each saw whole
and never refreshed; HQ's overdraw flag stays the safety net. Earning points needs no cap.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import Connection, delete, insert, or_, select
from sqlalchemy.orm import Session

from pos_member.db.models import DeviceCounter, Event, RemoteMember
from pos_member.db.uow import UnitOfWork
from pos_member.errors import MemberNotFound
from pos_member.events import PHONE_CTX
from pos_member.member_code import CodeKind, classify_code, qr_payload
from pos_member.money import format_yuan
from pos_member.permissions import Action, Clerk, require
from pos_member.phone import mask_phone
from pos_member.services import coupon_remote
from pos_member.services.member_cards import Channel, Gender, MemberCard, RemoteBalances
from pos_member.services.member_directory import by_phone_index
from pos_member.services.stored_value_ledger import connection
from pos_member.stored_value_errors import RemoteBalanceCapReached

_T = RemoteMember.__table__
_EVENTS = Event.__table__


@dataclass(frozen=True, slots=True)
class Cap:
    known_fen: int  # the balance HQ last reported
    spent_fen: int  # this till's net money for the member since (payments positive)
    as_of: datetime

    @property
    def cap_fen(self) -> int:
        return max(0, self.known_fen - self.spent_fen)


def lookup_key(uow: UnitOfWork, code: str) -> tuple[str, str, str]:
    """(kind, key, what to name in a refusal) of a scanned code: ("no", member number) or
    ("phone", the phone's blind index). ``MalformedCode`` for anything else."""
    scanned = classify_code(code)
    if scanned.kind is CodeKind.MEMBER:
        return "no", scanned.value, scanned.value
    return ("phone", uow.cipher.blind_index(scanned.value, context=PHONE_CTX),
            mask_phone(scanned.value))


def from_directory(card: MemberCard) -> bool:
    """A card of another store's member known here only from the chain's member directory
    (``MemberCard.remote``, once the directory lands), without HQ's balances yet: online, the
    till asks HQ for the rest, as for a member not found at all."""
    return card.hq is None and getattr(card, "remote", False) is True


def cached(uow: UnitOfWork, *, clerk: Clerk, code: str) -> MemberCard:
    """The card and balances HQ last gave for ``code`` (offline, or HQ unreachable);
    ``MemberNotFound`` when HQ never described such a member to this till."""
    require(clerk, Action.VIEW_MEMBER)
    kind, key, shown = lookup_key(uow, code)
    with uow.read() as s:
        row = s.execute(select(_T).where(or_(_T.c.lookup_key == key, _T.c.member_no == key))
                        .order_by(_T.c.fetched_at.desc()).limit(1)).first()
        if row is None and kind == "phone":  # first asked by number: the directory knows
            # whose phone this is (its blind index), and the cache holds that member
            known = by_phone_index(connection(s), key)
            row = s.execute(select(_T).where(_T.c.member_id == known.id)).first() \
                if known is not None else None
    if row is None:
        raise MemberNotFound(query=shown)
    return _card(row.card, row.balance_fen, row.points, row.blocked, row.hq_as_of, fresh=False)


def remember(uow: UnitOfWork, answer: Mapping[str, Any], *, key: str,
             device_id: str) -> MemberCard:
    """Caches HQ's answer (``sync.member_lookup.MemberLookupResponse`` as JSON values; one row
    per member, the newest answer) and returns its card. The member's usable coupons HQ sent
    are kept with it (``coupon_remote.keep``: redeemable here offline, issue 18)."""
    card = answer["card"]
    as_of = _time(answer["as_of"])
    now = uow.clock.now()
    with uow.begin() as tx:
        conn = tx.conn
        acked = conn.scalar(select(DeviceCounter.acked_event_seq)
                            .where(DeviceCounter.device_id == device_id)) or 0
        conn.execute(delete(_T).where(_T.c.member_id == card["member_id"]))
        conn.execute(insert(_T).values(
            member_id=card["member_id"], member_no=card["member_no"], lookup_key=key,
            store_id=card.get("store_id"), card=dict(card),
            balance_fen=answer["balance_fen"], points=answer["points"],
            blocked=answer["blocked"], hq_position=answer["position"], hq_as_of=as_of,
            fetched_at=now, acked_seq=int(acked)))
        coupon_remote.keep(conn, card["member_id"], answer.get("coupons") or ())
        tx.commit()
    return _card(card, answer["balance_fen"], answer["points"], answer["blocked"], as_of,
                 fresh=True)


def _time(value: Any) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _card(c: Mapping[str, Any], balance_fen: int, points: int, blocked: bool,
          as_of: datetime, *, fresh: bool) -> MemberCard:
    channel = c.get("channel")
    gender = c.get("gender")
    registered = c["registered_at"]
    return MemberCard(
        id=c["member_id"], member_no=c["member_no"], qr_payload=qr_payload(c["member_no"]),
        phone_masked=c["phone_masked"], name_masked=c.get("name_masked"),
        gender=Gender(gender) if gender in ("F", "M") else None,
        birthday_month=c.get("birthday_month"), tags=tuple(c.get("tags") or ()),
        channel=Channel(channel) if channel in set(Channel) else Channel.WALK_IN,
        guide_name=None, referrer_no=c.get("referrer_no"), tier=c.get("tier") or "regular",
        status=c.get("status") or "active", store_name=c.get("store_name") or "",
        registered_at=_time(registered),
        marketing_consent=bool(c.get("marketing_consent")),
        hq=RemoteBalances(int(balance_fen), int(points), bool(blocked), as_of, fresh))


def cap_of(conn: Session | Connection, *, member_id: str, device_id: str,
           store_id: str | None = None) -> Cap | None:
    """The offline cap for ``member_id`` (None: HQ never described this member here, or HQ
    said the member is of ``store_id``, this till's own store, whose ledgers this till pulls)."""
    c = connection(conn)
    row = c.execute(select(_T.c.balance_fen, _T.c.acked_seq, _T.c.hq_as_of, _T.c.store_id)
                    .where(_T.c.member_id == member_id)).first()
    if row is None or (store_id is not None and row.store_id == store_id):
        return None
    net = 0
    for (payload,) in c.execute(
        select(_EVENTS.c.payload).where(
            _EVENTS.c.entity_id == member_id, _EVENTS.c.device_id == device_id,
            _EVENTS.c.seq > row.acked_seq, _EVENTS.c.type.like("sv.%"))
    ):
        deltas = [payload.get("principal_delta_fen"), payload.get("bonus_delta_fen")]
        net += sum(d for d in deltas if type(d) is int)
    return Cap(int(row.balance_fen), -net, row.hq_as_of)


def check_cap(conn: Session | Connection, *, member_id: str, device_id: str,
              amount_fen: int, zone: tzinfo | None, store_id: str | None = None) -> None:
    """Refuses (``RemoteBalanceCapReached``) an offline payment over the cap; nothing for a
    member HQ never described here, or one of this till's own store (``store_id``)."""
    cap = cap_of(conn, member_id=member_id, device_id=device_id, store_id=store_id)
    if cap is None or amount_fen <= cap.cap_fen:
        return
    raise RemoteBalanceCapReached(
        known=format_yuan(cap.known_fen), at=cap.as_of.astimezone(zone).strftime(
            "%Y-%m-%d %H:%M"),
        spent=format_yuan(max(0, cap.spent_fen)), cap=format_yuan(cap.cap_fen))
