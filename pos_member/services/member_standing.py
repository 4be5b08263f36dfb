"""A member's standing (issue 20): the projection every till keeps of member service events,
and the checks the till's operations make against it.

``member_standing`` has a row only for a member a service action touched (status, re-issued
card, tier set by hand, erasure), for members held here in full and directory members alike:
the events are directory events (HQ sends them to every till), so a scan at any till of the
chain answers the same after sync. Local operations (``services/member_service.py``) and pulled
events post through the same writers here; each part applies only when newer than the one
in force (hybrid clock, the event id breaking a tie is not needed: one writer per change).
A writer answers False when its change is not newer; a local operation then refuses
(``StandingEditedAheadElsewhere``, nothing written): the one in force came from a till whose
clock runs far ahead, and the change would lose at every other till.

The checks (docs/rules.md, "Member service"):

- frozen: the sale is recorded, no points are earned; redeeming and stored-value spending are
  refused (top-ups and refunds still go in);
- blacklisted: every operation for the member is refused; the manager's reason is shown only
  to a clerk who may change statuses;
- erased: nothing is served (the member's personal data is gone; ledgers stay).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from pos_member import events
from pos_member.db.models import (
    DirectoryEntry,
    Member,
    MemberAlias,
    MemberFieldVersion,
    MemberStanding,
    NotificationOutbox,
    RemoteMember,
    SvCredential,
)
from pos_member.db.prepared import Prepared
from pos_member.member_service_errors import (
    CardReplaced,
    MemberBlacklisted,
    MemberErasedError,
    MemberFrozen,
)
from pos_member.permissions import Action, Clerk
from pos_member.services import member_directory
from pos_member.services.wire_values import wire_datetime

STATUS_SET = events.MEMBER_STATUS_SET.type
CARD_REISSUED = events.MEMBER_CARD_REISSUED.type
PHONE_CHANGED = events.MEMBER_PHONE_CHANGED.type
ERASED = events.MEMBER_ERASED.type
TIER_SET = events.MEMBER_TIER_SET.type
SERVICE_TYPES = frozenset(t.type for t in events.SERVICE_TYPES)
NORMAL, FROZEN, BLACKLISTED = events.STATUSES

# What a use of the member needs (check()).
EARN, REDEEM, SPEND, SERVE = "earn", "redeem", "spend", "serve"
MAINTAIN = "maintain"  # a manager's service action: refused only for an erased member

_T = MemberStanding.__table__
_MEMBERS = Member.__table__
_DIR = DirectoryEntry.__table__
_ROW = select(_T).where(_T.c.member_id == bindparam("member_id"))
# Read on every sale and coupon checkout (twice with a coupon): compiled once (db/prepared.py).
_FAST_ROW = Prepared(_ROW)
_FAST_TIER_UNTIL = Prepared(select(_T.c.tier_until).where(_T.c.member_id == bindparam("m")))


class Standing(NamedTuple):
    status: str
    reason: str | None
    card_generation: int
    tier_override: str | None
    tier_until: datetime | None
    erased: bool


NO_STANDING = Standing(NORMAL, None, 0, None, None, False)


def of(conn: Connection, member_id: str) -> Standing:
    row = _FAST_ROW.first(conn, {"member_id": member_id})
    if row is None:
        return NO_STANDING
    return Standing(row.status, row.reason, row.card_generation, row.tier_override,
                    row.tier_until, row.erased)


def is_erased(conn: Connection, member_id: str) -> bool:
    return bool(conn.scalar(select(_T.c.erased).where(_T.c.member_id == member_id)))


def may_read_reason(clerk: Clerk | None) -> bool:
    return clerk is not None and clerk.may(Action.MEMBER_STATUS)


def check(conn: Connection, member_id: str, use: str, *, member_no: str = "",
          clerk: Clerk | None = None, standing: Standing | None = None) -> bool:
    """Refuses ``use`` of the member as their standing says; for ``EARN`` returns whether the
    member earns points (a frozen member's sale is recorded without any). ``standing``: as
    read already in this transaction (a checkout reads it once for its sale and payment)."""
    s = of(conn, member_id) if standing is None else standing
    if s is NO_STANDING:
        return True
    no = member_no or _member_no(conn, member_id)
    if s.erased:
        raise MemberErasedError(member_no=no)
    if use == MAINTAIN:
        return True
    if s.status == BLACKLISTED:
        raise MemberBlacklisted(member_no=no,
                                reason=(s.reason or "") if may_read_reason(clerk) else "")
    if s.status == FROZEN:
        if use == EARN:
            return False
        if use in (REDEEM, SPEND):
            raise MemberFrozen(member_no=no)
    return True


def check_card(conn: Connection, member_id: str, member_no: str, generation: int) -> None:
    """A scanned member code must be the member's current card (``generation`` 0: the first
    card, a ``PM1`` code or the bare number)."""
    refuse_old_card(conn.scalar(select(_T.c.card_generation).where(_T.c.member_id == member_id)),
                    member_no, generation)


def refuse_old_card(current: int | None, member_no: str, generation: int) -> None:
    """Raises ``CardReplaced`` when a code of card ``generation`` is scanned while the
    member's card is ``current`` (None or 0: never re-issued), read by the caller."""
    if current and current != generation:
        raise CardReplaced(member_no=member_no)


def _member_no(conn: Connection, member_id: str) -> str:
    no = conn.scalar(select(_MEMBERS.c.member_no).where(_MEMBERS.c.id == member_id))
    if no is None:
        found = member_directory.by_id(conn, member_id)
        no = found.member_no if found is not None else member_id[:8]
    return str(no)


def _ensure(conn: Connection, member_id: str, member_no: str) -> Any:
    row = conn.execute(_ROW, {"member_id": member_id}).first()
    if row is None:
        conn.execute(insert(_T), {
            "member_id": member_id, "member_no": member_no, "status": NORMAL, "reason": None,
            "status_hlc": "", "card_generation": 0, "tier_override": None, "tier_until": None,
            "tier_hlc": "", "phone_hlc": "", "erased": False})
        row = conn.execute(_ROW, {"member_id": member_id}).first()
    return row


# -- writers (local operations and pulled events alike) -------------------------------------


def set_status(conn: Connection, p: events.MemberStatusSet, hlc: str) -> bool:
    row = _ensure(conn, p.member_id, p.member_no)
    if row.status_hlc >= hlc:
        return False
    conn.execute(update(_T).where(_T.c.member_id == p.member_id).values(
        status=p.status, reason=p.reason if p.status != NORMAL else None, status_hlc=hlc))
    return True


def reissue_card(conn: Connection, p: events.MemberCardReissued, hlc: str) -> bool:
    row = _ensure(conn, p.member_id, p.member_no)
    if row.card_generation >= p.generation:
        return False
    conn.execute(update(_T).where(_T.c.member_id == p.member_id)
                 .values(card_generation=p.generation))
    return True


def set_tier(conn: Connection, p: events.MemberTierSet, hlc: str) -> bool:
    """A tier set by hand: the override and its end, and the member's tier (held here in full:
    ``members``/``points_accounts``; the directory's tier either way)."""
    from pos_member.services.tiers import set_tier as set_member_tier

    row = _ensure(conn, p.member_id, p.member_no)
    if row.tier_hlc >= hlc:
        return False
    conn.execute(update(_T).where(_T.c.member_id == p.member_id).values(
        tier_override=p.tier, tier_until=wire_datetime(p.until), tier_hlc=hlc))
    if member_directory.holds(conn, p.member_id):
        set_member_tier(conn, p.member_id, p.tier, hlc, None)
    at = member_directory.hlc_int(hlc)
    conn.execute(update(_DIR).where(_DIR.c.member_id == member_directory.id_bytes(p.member_id),
                                    _DIR.c.tier_at < at).values(tier=p.tier, tier_at=at))
    return True


def end_tier_override(conn: Connection, member_id: str) -> None:
    conn.execute(update(_T).where(_T.c.member_id == member_id)
                 .values(tier_override=None, tier_until=None))


def tier_locked(conn: Connection, member_id: str, now: datetime) -> bool:
    """Whether a tier set by hand is in force (upgrades and evaluations leave it alone)."""
    row = _FAST_TIER_UNTIL.first(conn, {"m": member_id})
    until = row[0] if row is not None else None
    return until is not None and until > now


def change_phone(conn: Connection, p: events.MemberPhoneChanged, hlc: str,
                 phone_enc: bytes) -> bool:
    """The member's new phone: the directory's blind index, and the member's row when held
    here in full (a row another member holds the new phone in keeps it: HQ's duplicate rule
    decides, docs/rules.md)."""
    row = _ensure(conn, p.member_id, p.member_no)
    if row.erased or row.phone_hlc >= hlc:
        return False
    conn.execute(update(_T).where(_T.c.member_id == p.member_id).values(phone_hlc=hlc))
    conn.execute(update(_DIR).where(_DIR.c.member_id == member_directory.id_bytes(p.member_id))
                 .where(_DIR.c.status == "active")
                 .values(phone=member_directory.phone_bytes(p.phone_index)))
    taken = conn.scalar(select(_MEMBERS.c.id).where(_MEMBERS.c.phone_index == p.phone_index,
                                                    _MEMBERS.c.id != p.member_id))
    if taken is None:
        conn.execute(update(_MEMBERS).where(_MEMBERS.c.id == p.member_id)
                     .values(phone_index=p.phone_index, phone_enc=phone_enc))
    _forget_cached(conn, p.member_id)
    return True


def erase(conn: Connection, member_id: str, member_no: str) -> bool:
    """Drops the member's personal data here (a till's own erasure or a pulled one): phone,
    name, gender, birthday, tags, consents' details; the per-field versions that held values;
    the payment PIN and dynamic-code secret; unsent messages; HQ's cached card; the same of
    the records merged into the member. The rows, their numbers and every ledger stay."""
    row = _ensure(conn, member_id, member_no)
    if row.erased:
        return False
    conn.execute(update(_T).where(_T.c.member_id == member_id)
                 .values(erased=True, reason=None))
    conn.execute(update(_DIR).where(_DIR.c.member_id == member_directory.id_bytes(member_id))
                 .values(phone=None))
    conn.execute(update(_MEMBERS).where(_MEMBERS.c.id == member_id).values(
        **erased_values(member_id)))
    # The records merged into the member (one phone registered at two stores) are the same
    # person's: their personal data goes too (their phone index already names no one).
    losers = list(conn.scalars(select(MemberAlias.loser_member_id)
                               .where(MemberAlias.member_id == member_id)))
    if losers:
        kept = {k: v for k, v in erased_values(member_id).items() if k != "phone_index"}
        conn.execute(update(_MEMBERS).where(_MEMBERS.c.id.in_(losers)).values(**kept))
    people = [member_id, *losers]
    fields = MemberFieldVersion.__table__
    conn.execute(delete(fields).where(fields.c.member_id.in_(people)))
    # Their payment PIN and dynamic-code secret, and the messages not sent yet (every till of
    # the store holds them: the credentials sync, each till queues its own messages).
    creds, outbox = SvCredential.__table__, NotificationOutbox.__table__
    conn.execute(delete(creds).where(creds.c.member_id.in_(people)))
    conn.execute(delete(outbox).where(outbox.c.member_id.in_(people), outbox.c.status != "sent"))
    _forget_cached(conn, member_id)
    return True


def erased_values(member_id: str) -> dict[str, Any]:
    """What an erased member's row holds in place of personal data (the phone index keeps the
    column unique and matches no blind index)."""
    return {"phone_index": f"erased:{member_id}", "phone_enc": b"", "name_enc": None,
            "gender": None, "birthday": None, "tags": [], "gender_enc": None,
            "birthday_enc": None, "tags_enc": None,
            "marketing_consent": False, "marketing_consent_at": None}


def _forget_cached(conn: Connection, member_id: str) -> None:
    t = RemoteMember.__table__
    conn.execute(delete(t).where(t.c.member_id == member_id))


# -- pulled events --------------------------------------------------------------------------


def _pulled(conn: Connection, cipher: Any, ev: Mapping[str, Any], p: Any, position: int) -> bool:
    kind, hlc = ev["type"], str(ev["hlc"])
    if kind == STATUS_SET:
        return set_status(conn, p, hlc)
    if kind == CARD_REISSUED:
        return reissue_card(conn, p, hlc)
    if kind == TIER_SET:
        return set_tier(conn, p, hlc)
    if kind == PHONE_CHANGED:
        import base64
        return change_phone(conn, p, hlc, base64.b64decode(p.phone_enc, validate=True))
    if kind == ERASED:
        return erase(conn, p.member_id, p.member_no)
    return False


SERVICE_HANDLERS = {kind: _pulled for kind in SERVICE_TYPES}
