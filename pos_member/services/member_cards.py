"""What the till shows of a member, and finding one: the :class:`MemberCard` (personal data
masked), look-up by scanned code or phone (following merges), and revealing personal data.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, aliased

from pos_member.crypto import PiiCipher
from pos_member.db.models import Member, MemberAlias, Staff, Store
from pos_member.db.uow import UnitOfWork
from pos_member.errors import MemberNotFound
from pos_member.events import NAME_CTX, PHONE_CTX  # the ciphertexts' associated data
from pos_member.i18n import QT_TRANSLATE_NOOP
from pos_member.member_code import CodeKind, card_code, classify_code, qr_payload
from pos_member.permissions import Action, Clerk, require
from pos_member.phone import mask_name as mask_name  # re-exported
from pos_member.phone import mask_phone
from pos_member.services import member_directory, member_standing, profile_seal
from pos_member.services.profile_seal import Profile


class Channel(StrEnum):
    GUIDE = "guide"  # 门店导购
    REFERRAL = "referral"  # 老带新
    CAMPAIGN = "campaign"  # 活动
    WALK_IN = "walk_in"  # 自然
    IMPORT = "import"  # 导入


CHANNEL_LABELS = {
    Channel.GUIDE: QT_TRANSLATE_NOOP("members", "Store guide"),
    Channel.REFERRAL: QT_TRANSLATE_NOOP("members", "Referral"),
    Channel.CAMPAIGN: QT_TRANSLATE_NOOP("members", "Campaign"),
    Channel.WALK_IN: QT_TRANSLATE_NOOP("members", "Walk-in"),
    Channel.IMPORT: QT_TRANSLATE_NOOP("members", "Import"),
}


class Gender(StrEnum):
    FEMALE = "F"
    MALE = "M"


GENDER_LABELS = {
    Gender.FEMALE: QT_TRANSLATE_NOOP("members", "Female"),
    Gender.MALE: QT_TRANSLATE_NOOP("members", "Male"),
}

TIER_LABELS = {
    "regular": QT_TRANSLATE_NOOP("members", "Regular"),
    "silver": QT_TRANSLATE_NOOP("members", "Silver"),
    "gold": QT_TRANSLATE_NOOP("members", "Gold"),
    "diamond": QT_TRANSLATE_NOOP("members", "Diamond"),
}


@dataclass(frozen=True, slots=True)
class RemoteBalances:
    """Another store's member's chain-wide balances as HQ last gave them (issue 14): the card
    shows these instead of this till's own figures (``services/remote_members.py``)."""

    balance_fen: int
    points: int
    blocked: bool
    as_of: datetime  # HQ's time of the answer
    fresh: bool  # answered just now (online); False: from this till's cache (offline)


@dataclass(frozen=True, slots=True)
class MemberCard:
    """What the till shows of a member. Personal data is masked. ``hq``: a member of another
    store this till does not hold, with the balances HQ gave (None for the till's own)."""

    id: str
    member_no: str
    qr_payload: str
    phone_masked: str
    name_masked: str | None
    gender: Gender | None
    birthday_month: int | None
    tags: tuple[str, ...]
    channel: Channel | None  # None: a member of another store (``remote``)
    guide_name: str | None
    referrer_no: str | None
    tier: str
    status: str
    store_name: str
    registered_at: datetime | None  # None: a member of another store (``remote``)
    marketing_consent: bool
    hq: RemoteBalances | None = None
    # Known here only from the chain's member directory: a member of another store (their
    # profile and balances are at their home store; member_directory.py).
    remote: bool = False
    # Member service (issue 20, ``services/member_standing``): normal, frozen or blacklisted;
    # the manager's reason (None unless the clerk may read it); the card's generation; a tier
    # set by hand and its end; erased (no personal data left).
    standing: str = "normal"
    standing_reason: str | None = None
    card_generation: int = 0
    tier_until: datetime | None = None
    erased: bool = False


@dataclass(frozen=True, slots=True)
class RevealedData:
    phone: str
    name: str | None
    birthday: date | None


def make_card(
    m: Member,
    phone: str,
    name: str | None,
    guide_name: str | None,
    referrer_no: str | None,
    store_name: str,
    profile: Profile,
) -> MemberCard:
    return MemberCard(
        id=m.id,
        member_no=m.member_no,
        qr_payload=qr_payload(m.member_no),
        phone_masked=mask_phone(phone),
        name_masked=mask_name(name),
        gender=Gender(profile.gender) if profile.gender else None,
        birthday_month=profile.birthday.month if profile.birthday else None,
        tags=profile.tags,
        channel=Channel(m.source_channel),
        guide_name=guide_name,
        referrer_no=referrer_no,
        tier=m.tier,
        status=m.status,
        store_name=store_name,
        registered_at=m.registered_at,
        marketing_consent=m.marketing_consent,
    )


_Guide = aliased(Staff)
_Referrer = aliased(Member)


# A member's card with the names it shows, by one of three keys. Built once: building the
# statement costs more than running it (see bench/scan_lookup.py).
_CARD = (
    select(Member, _Guide.name, _Referrer.member_no, Store.name)
    .join(Store, Store.id == Member.store_id)
    .outerjoin(_Guide, _Guide.id == Member.guide_id)
    .outerjoin(_Referrer, _Referrer.id == Member.referrer_id)
)
_CARD_BY_MEMBER_NO = _CARD.where(Member.member_no == bindparam("key"))
_CARD_BY_PHONE_INDEX = _CARD.where(Member.phone_index == bindparam("key"))
_CARD_BY_ID = _CARD.where(Member.id == bindparam("key"))
_ALIAS = select(MemberAlias.member_id).where(MemberAlias.member_no == bindparam("member_no"))
MAX_ALIAS_HOPS = 8  # a winner merged again later: follow the chain, but never loop


def _loadmake_card(s: Session, cipher: PiiCipher, stmt: Any, key: str) -> MemberCard | None:
    row = s.execute(stmt, {"key": key}).first()
    if row is None:
        return None
    m, guide_name, referrer_no, store_name = row
    phone = cipher.decrypt(m.phone_enc, context=PHONE_CTX) if m.phone_enc else ""
    name = cipher.decrypt(m.name_enc, context=NAME_CTX) if m.name_enc else None
    return make_card(m, phone, name, guide_name, referrer_no, store_name,
                     profile_seal.of_member(cipher, m))


def find_member(uow: UnitOfWork, *, clerk: Clerk, code: str) -> MemberCard:
    """A scanned or typed code → the member's card. A member code (QR payload or member number)
    or an 11-digit phone; anything else raises :class:`MalformedCode`."""
    require(clerk, Action.VIEW_MEMBER)
    scanned = classify_code(code)
    cipher = uow.cipher
    if scanned.kind is CodeKind.MEMBER:
        stmt, key = _CARD_BY_MEMBER_NO, scanned.value
        query = scanned.value
    else:
        stmt = _CARD_BY_PHONE_INDEX
        key = cipher.blind_index(scanned.value, context=PHONE_CTX)
        query = mask_phone(scanned.value)
    with uow.read() as s:
        card = _loadmake_card(s, cipher, stmt, key)
        if scanned.kind is CodeKind.MEMBER:
            card = _follow_merges(s, cipher, card, scanned.value)
        if card is None:
            card = directory_card(s, scanned.value if scanned.kind is CodeKind.MEMBER else None,
                                  phone_index=None if scanned.kind is CodeKind.MEMBER else key,
                                  phone_masked="" if scanned.kind is CodeKind.MEMBER else query)
        if card is None:
            raise MemberNotFound(query=query)
        if scanned.kind is CodeKind.MEMBER and card.member_no == scanned.value:
            member_standing.check_card(s.connection(), card.id, card.member_no,
                                       scanned.generation)
        return with_standing(s, card, clerk)


def with_standing(s: Session, card: MemberCard, clerk: Clerk | None) -> MemberCard:
    """The card with the member's standing (status, card generation, a tier set by hand,
    erasure); the status's reason only for a clerk who may read it."""
    st = member_standing.of(s.connection(), card.id)
    if st is member_standing.NO_STANDING:
        return card
    return replace(
        card, standing=st.status, card_generation=st.card_generation,
        standing_reason=st.reason if member_standing.may_read_reason(clerk) else None,
        tier_until=st.tier_until if st.tier_override else None, erased=st.erased,
        qr_payload=card_code(card.member_no, st.card_generation),
        phone_masked="" if st.erased else card.phone_masked)


def directory_card(s: Session, member_no: str | None, *, phone_index: str | None,
                   phone_masked: str) -> MemberCard | None:
    """A member no ``members`` row matches, from the chain's member directory (issue 14): one
    of another store, shown with their number, tier and home store; no profile. The scan's
    one fallback: a remote look-up (HQ) may take over from here."""
    conn = s.connection()
    found = (member_directory.by_number(conn, member_no) if member_no is not None
             else member_directory.by_phone_index(conn, phone_index or ""))
    if found is None:
        return None
    return MemberCard(
        id=found.id, member_no=found.member_no, qr_payload=qr_payload(found.member_no),
        phone_masked=phone_masked, name_masked=None, gender=None, birthday_month=None,
        tags=(), channel=None, guide_name=None, referrer_no=None, tier=found.tier,
        status=found.status, store_name=found.store_name or f"#{found.store_no:04d}",
        registered_at=None, marketing_consent=False, remote=True)


def _follow_merges(
    s: Session, cipher: PiiCipher, card: MemberCard | None, member_no: str
) -> MemberCard | None:
    """A merged member's number scans to the member it was merged into (SPEC §2.1). The alias
    is looked up only when the number has no active member, so a normal scan costs nothing."""
    for _ in range(MAX_ALIAS_HOPS):
        if card is not None and card.status != "merged":
            return card
        winner_id = s.execute(_ALIAS, {"member_no": member_no}).scalar()
        if winner_id is None:
            return card
        card = _loadmake_card(s, cipher, _CARD_BY_ID, winner_id)
        if card is None:  # another store's member (the directory), or not pulled yet
            found = member_directory.by_id(s.connection(), winner_id)
            return None if found is None else directory_card(
                s, found.member_no, phone_index=None, phone_masked="")
        member_no = card.member_no
    return card


def get_member(uow: UnitOfWork, *, clerk: Clerk, member_id: str) -> MemberCard:
    require(clerk, Action.VIEW_MEMBER)
    with uow.read() as s:
        card = _loadmake_card(s, uow.cipher, _CARD_BY_ID, member_id)
        if card is None:
            found = member_directory.by_id(s.connection(), member_id)
            if found is not None:
                card = directory_card(s, found.member_no, phone_index=None, phone_masked="")
        if card is None:
            raise MemberNotFound(query=member_id[:8])
        return with_standing(s, card, clerk)


def reveal_personal_data(uow: UnitOfWork, *, clerk: Clerk, member_id: str) -> RevealedData:
    """Unmasked phone, name and birthday, for a role that may see them; audited."""
    require(clerk, Action.REVEAL_PERSONAL_DATA)
    cipher = uow.cipher
    with uow.begin() as tx:
        tx.check_clerk(clerk)  # no event below: a clerk deactivated since login is refused
        m = tx.session.get(Member, member_id)
        if m is None:
            raise MemberNotFound(query=member_id[:8])
        # An erased member has nothing to reveal (their phone is gone, b""): refused, unaudited.
        member_standing.check(tx.conn, member_id, member_standing.MAINTAIN,
                              member_no=m.member_no)
        data = RevealedData(
            phone=cipher.decrypt(m.phone_enc, context=PHONE_CTX),
            name=cipher.decrypt(m.name_enc, context=NAME_CTX) if m.name_enc else None,
            birthday=profile_seal.of_member(cipher, m).birthday,
        )
        tx.audit(clerk, "member.personal_data_revealed", "member", m.id,
                 after={"fields": ["phone", "name", "birthday"]})
        tx.commit()
    return data
