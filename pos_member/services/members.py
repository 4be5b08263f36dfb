"""Members: registration and profile edits (what the till shows and finds is in
``member_cards``).

Phone and name are stored only encrypted (AES-GCM); the phone is found through a keyed hash.
"""

from __future__ import annotations

import base64
import unicodedata
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import Connection, bindparam, func, insert, select
from sqlalchemy.exc import IntegrityError

from pos_member.crypto import PiiCipher
from pos_member.db.models import Device, Event, Flag, Member, Staff, Store
from pos_member.db.uow import Transaction, UnitOfWork
from pos_member.errors import (
    ConsentRequired,
    DuplicatePhone,
    EditedAheadElsewhere,
    GuideNotFound,
    InvalidInput,
    MalformedCode,
    MemberNotFound,
    ReferrerNotFound,
    RegistrationRateLimited,
)
from pos_member.events import (
    FLAG_RAISED,
    MEMBER_PROFILE_UPDATED,
    MEMBER_REGISTERED,
    SEALED_EDIT_FIELDS,
    FlagRaised,
    MemberProfileUpdated,
    MemberRegistered,
    seal_profile_fields,
)
from pos_member.i18n import QT_TRANSLATE_NOOP
from pos_member.member_code import CodeKind, classify_code, make_member_no
from pos_member.permissions import Action, Clerk, require
from pos_member.phone import mask_phone, normalise_phone
from pos_member.services import member_directory, member_standing
from pos_member.services.coupons import issue_welcome
from pos_member.services.field_versions import claim_fields
from pos_member.services.member_cards import (
    NAME_CTX,
    PHONE_CTX,
    Channel,
    Gender,
    MemberCard,
    get_member,
    make_card,
    mask_name,
)
from pos_member.services.points import add_welcome_points
from pos_member.services.profile_seal import Profile, of_member, seal_one, sealed

E = TypeVar("E", bound=StrEnum)
REGISTERED = MEMBER_REGISTERED.type
PROFILE_UPDATED = MEMBER_PROFILE_UPDATED.type
BURST_FLAG = "registration_burst"
MAX_NAME, MAX_TAG, MAX_TAGS = 30, 20, 20


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


def clean_name(name: str | None) -> str | None:
    if name is None:
        return None
    name = " ".join(unicodedata.normalize("NFKC", name).split())
    if not name:
        return None
    if len(name) > MAX_NAME or any(unicodedata.category(c).startswith("C") for c in name):
        raise InvalidInput(
            QT_TRANSLATE_NOOP("errors", "A name is at most 30 printable characters.")
        )
    return name


def clean_tags(tags: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    out: list[str] = []
    for raw in tags:
        tag = unicodedata.normalize("NFKC", raw).strip()
        if not tag:
            continue
        if len(tag) > MAX_TAG:
            raise InvalidInput(QT_TRANSLATE_NOOP("errors", "A tag is at most 20 characters."))
        if tag not in out:
            out.append(tag)
    if len(out) > MAX_TAGS:
        raise InvalidInput(QT_TRANSLATE_NOOP("errors", "A member has at most 20 tags."))
    return tuple(out)


def check_birthday(birthday: date | None, today: date) -> date | None:
    if birthday is not None and not (date(1900, 1, 1) <= birthday <= today):
        raise InvalidInput(QT_TRANSLATE_NOOP("errors", "The birthday must be a past date."))
    return birthday


# Statements a registration runs every time, built once (building one costs more than running it).
_MEMBER_BY_PHONE_INDEX = select(Member.id, Member.member_no).where(
    Member.phone_index == bindparam("phone_index")
)
# The numbers that make the member number, and the store's name for the card, in one query.
_TILL_NUMBERS = (
    select(Device.number, Store.number, Store.name)
    .join(Store, Store.id == Device.store_id)
    .where(Device.id == bindparam("device_id"))
)
_GUIDE = select(Staff.name, Staff.active, Staff.store_id).where(
    Staff.id == bindparam("guide_id")
)
_INSERT_MEMBER = insert(Member.__table__)
# (attribute, column): the legacy clear columns have attributes of other names (profile_seal)
_MEMBER_COLUMNS = tuple((a.key, a.columns[0].key) for a in Member.__mapper__.column_attrs)
_RECENT_REGISTRATIONS = (
    select(func.count())
    .select_from(Event)
    .where(Event.device_id == bindparam("device_id"), Event.type == REGISTERED)
    .where(Event.created_at >= bindparam("since"))
)


def register_member(
    uow: UnitOfWork,
    *,
    clerk: Clerk,
    phone: str,
    privacy_consent: bool,
    marketing_consent: bool = False,
    name: str | None = None,
    gender: Gender | None = None,
    birthday: date | None = None,
    tags: tuple[str, ...] = (),
    channel: Channel = Channel.WALK_IN,
    guide_id: str | None = None,
    referrer: str | None = None,
) -> MemberCard:
    """Registers a member: one row, one ``member.registered`` event, one audit entry, committed
    together. Welcome points, coupons and notifications hang on that event (later issues).

    Refuses, changing nothing: missing consent, a bad phone or field, a phone that is already a
    member (:class:`DuplicatePhone` carries the existing member), an unknown guide or referrer.
    Over the device's rate limit it refuses too, and commits a flag for the manager.
    """
    require(clerk, Action.REGISTER_MEMBER)
    if not privacy_consent:
        raise ConsentRequired()
    channel = _as_enum(Channel, channel)
    gender = _as_enum(Gender, gender) if gender is not None else None
    phone = normalise_phone(phone)
    name = clean_name(name)
    tags = clean_tags(tags)
    now = uow.clock.now()
    birthday = check_birthday(birthday, uow.clock.local(now).date())
    if channel is Channel.GUIDE and guide_id is None:
        raise InvalidInput(
            QT_TRANSLATE_NOOP("errors", "Choose the guide who recruited this member.")
        )
    if channel is Channel.REFERRAL and not referrer:
        raise InvalidInput(QT_TRANSLATE_NOOP("errors", "Enter the referring member's number."))
    cipher = uow.cipher
    phone_index = cipher.blind_index(phone, context=PHONE_CTX)

    with uow.begin() as tx:
        # Column queries go to the connection: the ORM's execution path is dead weight for them.
        conn = tx.conn
        _enforce_rate_limit(tx, clerk, now)
        existing = conn.execute(_MEMBER_BY_PHONE_INDEX, {"phone_index": phone_index}).first()
        if existing is not None:
            raise DuplicatePhone(member_id=existing.id, member_no=existing.member_no)
        elsewhere = member_directory.by_phone_index(conn, phone_index)  # another store's
        if elsewhere is not None:
            raise DuplicatePhone(member_id=elsewhere.id, member_no=elsewhere.member_no)
        guide_name, referrer_id, referrer_no = _recruiters(conn, cipher, clerk, guide_id,
                                                           referrer)

        till = conn.execute(_TILL_NUMBERS, {"device_id": clerk.device_id}).first()
        if till is None:
            raise LookupError("till identity missing")
        device_number, store_number, store_name = till
        member_no = make_member_no(
            store_no=store_number,
            device_no=device_number,
            seq=tx.next_member_seq(clerk.device_id),
        )
        member = _new_member(
            tx, uow, clerk, member_no=member_no, phone=phone, phone_index=phone_index,
            name=name, gender=gender, birthday=birthday, tags=tags, channel=channel,
            guide_id=guide_id, referrer_id=referrer_id, marketing_consent=marketing_consent,
            now=now)
        # The event comes first so the member row goes in with its ``updated_hlc`` (no
        # follow-up UPDATE). A failed flush leaves the block uncommitted: event, row and
        # counters roll back together.
        ev = tx.record(clerk, MEMBER_REGISTERED, _registered_payload(member),
                       entity_id=member.id)
        member.updated_hlc = ev.hlc
        # A Core insert: the row is never read back in this transaction, and skipping the ORM's
        # flush bookkeeping is a third of a registration's CPU time.
        try:
            conn.execute(_INSERT_MEMBER, {c: getattr(member, a) for a, c in _MEMBER_COLUMNS})
        except IntegrityError:  # another writer took the phone between our check and insert
            raise DuplicatePhone(member_id="", member_no="?") from None
        member_directory.register_own(conn, member_id=member.id, member_no=member_no,
                                      phone_index=phone_index)
        tx.audit(clerk, REGISTERED, "member", member.id,
                 after=_audit_view(member, phone, name, gender, birthday, tags), event=ev)
        add_welcome_points(tx, clerk, member_id=member.id, at=now)  # points: same transaction
        issue_welcome(tx, clerk, member_id=member.id)  # the welcome coupon pack: same transaction
        tx.commit()
        return make_card(member, phone, name, guide_name, referrer_no, store_name,
                         Profile(gender.value if gender else None, birthday, tuple(tags)))


def _recruiters(conn: Connection, cipher: PiiCipher, clerk: Clerk, guide_id: str | None,
                referrer: str | None) -> tuple[str | None, str | None, str | None]:
    """(guide's name, referrer's id, referrer's number) of a registration, each None when not
    given; an unknown, inactive or other store's guide, or an unknown referrer, is refused."""
    guide_name = referrer_id = referrer_no = None
    if guide_id is not None:
        guide = conn.execute(_GUIDE, {"guide_id": guide_id}).first()
        if guide is None or not guide.active or guide.store_id != clerk.store_id:
            raise GuideNotFound()
        guide_name = guide.name
    if referrer:
        referrer_id, referrer_no = _resolve_referrer(conn, cipher, referrer)
    return guide_name, referrer_id, referrer_no


def _new_member(tx: Transaction, uow: UnitOfWork, clerk: Clerk, *, member_no: str, phone: str,
                phone_index: str, name: str | None, gender: Gender | None,
                birthday: date | None, tags: tuple[str, ...], channel: Channel,
                guide_id: str | None, referrer_id: str | None, marketing_consent: bool,
                now: datetime) -> Member:
    """The new member's row (its ``updated_hlc`` is set from the event, written first)."""
    return Member(
        id=tx.new_id(),
        member_no=member_no,
        phone_index=phone_index,
        phone_enc=uow.cipher.encrypt(phone, context=PHONE_CTX),
        name_enc=uow.cipher.encrypt(name, context=NAME_CTX) if name else None,
        **sealed(uow.cipher, gender=gender.value if gender else None, birthday=birthday,
                 tags=tags),
        legacy_gender=None,
        legacy_birthday=None,
        legacy_tags=[],
        source_channel=channel.value,
        guide_id=guide_id,
        referrer_id=referrer_id,
        store_id=clerk.store_id,
        device_id=clerk.device_id,
        registered_by=clerk.staff_id,
        registered_at=now,
        privacy_policy_version=uow.rules.registration.privacy_policy_version,
        privacy_consent_at=now,
        marketing_consent=marketing_consent,
        marketing_consent_at=now if marketing_consent else None,
        tier="regular",
        status="active",
        updated_hlc="",
    )


def _as_enum(kind: type[E], value: object) -> E:
    """Callers (a Qt combo box, a JSON body) may hand over the enum's plain value."""
    try:
        return kind(value)
    except ValueError:
        raise InvalidInput(QT_TRANSLATE_NOOP("errors", "The input is not valid.")) from None


def _enforce_rate_limit(tx: Transaction, clerk: Clerk, now: datetime) -> None:
    """At most ``rate_limit_count`` registrations per device per window; the next one raises a
    flag for the manager (once per window) and is refused."""
    r = tx.rules.registration
    since = now - timedelta(minutes=r.rate_limit_window_minutes)
    count = tx.conn.scalar(
        _RECENT_REGISTRATIONS, {"device_id": clerk.device_id, "since": since}
    )
    if (count or 0) < r.rate_limit_count:
        return
    open_flag = tx.session.scalar(
        select(Flag.id).where(
            Flag.kind == BURST_FLAG,
            Flag.device_id == clerk.device_id,
            Flag.raised_at >= since,
            Flag.resolved_at.is_(None),
        )
    )
    if open_flag is None:
        detail = {
            "registrations": count,
            "window_minutes": r.rate_limit_window_minutes,
            "clerk_id": clerk.staff_id,
            "clerk_name": clerk.name,
        }
        flag = Flag(
            id=tx.new_id(),
            kind=BURST_FLAG,
            store_id=clerk.store_id,
            device_id=clerk.device_id,
            raised_at=now,
            detail=detail,
            resolved_at=None,
            resolved_by=None,
        )
        tx.session.add(flag)
        payload = FlagRaised(flag_id=flag.id, kind=BURST_FLAG, **detail)
        ev = tx.record(clerk, FLAG_RAISED, payload, entity_id=flag.id)
        tx.audit(clerk, FLAG_RAISED.type, "flag", flag.id, after=ev.payload, event=ev)
        tx.commit()
    raise RegistrationRateLimited(limit=r.rate_limit_count, minutes=r.rate_limit_window_minutes)


def _resolve_referrer(conn: Connection, cipher: PiiCipher, referrer: str) -> tuple[str, str]:
    """The referring member's id and number, from a member code or a phone."""
    try:
        code = classify_code(referrer)
    except MalformedCode:
        raise ReferrerNotFound(query=referrer[:20]) from None
    if code.kind is CodeKind.MEMBER:
        where = Member.member_no == code.value
    else:
        where = Member.phone_index == cipher.blind_index(code.value, context=PHONE_CTX)
    row = conn.execute(select(Member.id, Member.member_no).where(where)).first()
    if row is not None:
        return row.id, row.member_no
    # A member of another store (the chain's member directory) may refer too.
    found = (member_directory.by_number(conn, code.value) if code.kind is CodeKind.MEMBER
             else member_directory.by_phone_index(
                 conn, cipher.blind_index(code.value, context=PHONE_CTX)))
    if found is None or found.status != "active":
        raise ReferrerNotFound(query=referrer[:20])
    return found.id, found.member_no


def _b64(blob: bytes | None) -> str | None:
    return base64.b64encode(blob).decode() if blob is not None else None


def _registered_payload(m: Member) -> MemberRegistered:
    """Personal data travels only encrypted: phone, name, gender, birthday, tags."""
    return MemberRegistered(
        member_id=m.id,
        member_no=m.member_no,
        phone_index=m.phone_index,
        phone_enc=base64.b64encode(m.phone_enc).decode(),
        name_enc=_b64(m.name_enc),
        gender_enc=_b64(m.gender_enc),  # the same contexts as the columns': the same blobs
        birthday_enc=_b64(m.birthday_enc),
        tags_enc=_b64(m.tags_enc),
        source_channel=m.source_channel,
        guide_id=m.guide_id,
        referrer_id=m.referrer_id,
        store_id=m.store_id,
        registered_at=m.registered_at.isoformat(),
        privacy_policy_version=m.privacy_policy_version,
        privacy_consent_at=m.privacy_consent_at.isoformat(),
        marketing_consent=m.marketing_consent,
        marketing_consent_at=(
            m.marketing_consent_at.isoformat() if m.marketing_consent_at else None
        ),
    )


def _audit_view(m: Member, phone: str, name: str | None, gender: Gender | None,
                birthday: date | None, tags: tuple[str, ...]) -> dict[str, Any]:
    """Masked: the audit holds no personal value (gender, birthday and tags only as set)."""
    return {
        "member_no": m.member_no,
        "phone": mask_phone(phone),
        "name": mask_name(name),
        "gender": "set" if gender else None,
        "birthday": "set" if birthday else None,
        "tags": len(tags),
        "source_channel": m.source_channel,
        "guide_id": m.guide_id,
        "referrer_id": m.referrer_id,
        "marketing_consent": m.marketing_consent,
    }


def update_profile(
    uow: UnitOfWork,
    *,
    clerk: Clerk,
    member_id: str,
    name: str | None = UNSET,
    gender: Gender | None = UNSET,
    birthday: date | None = UNSET,
    tags: tuple[str, ...] = UNSET,
    marketing_consent: bool = UNSET,
) -> MemberCard:
    """Changes the fields passed (``None`` clears one). One ``member.profile_updated`` event with
    the changed fields (personal data encrypted) and one audit entry with masked before/after.
    Nothing changed → nothing written."""
    require(clerk, Action.EDIT_MEMBER)
    cipher = uow.cipher
    now = uow.clock.now()
    if name is not UNSET:
        name = clean_name(name)
    if tags is not UNSET:
        tags = clean_tags(tags)
    if birthday is not UNSET:
        birthday = check_birthday(birthday, uow.clock.local(now).date())
    if gender is not UNSET and gender is not None:
        gender = _as_enum(Gender, gender)
    with uow.begin() as tx:
        m = tx.session.get(Member, member_id)
        if m is None:
            raise MemberNotFound(query=member_id[:8])
        # An erased member's personal data never comes back (docs/rules.md, "Erasure").
        member_standing.check(tx.conn, member_id, member_standing.MAINTAIN,
                              member_no=m.member_no)
        old_name = cipher.decrypt(m.name_enc, context=NAME_CTX) if m.name_enc else None
        old = of_member(cipher, m)
        changes: dict[str, Any] = {}
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        if name is not UNSET and name != old_name:
            m.name_enc = cipher.encrypt(name, context=NAME_CTX) if name else None
            changes["name_enc"] = _b64(m.name_enc)
            before["name"], after["name"] = mask_name(old_name), mask_name(name)
        if gender is not UNSET and (gender.value if gender else None) != old.gender:
            before["gender"] = "set" if old.gender else None
            value = gender.value if gender else None
            m.gender_enc = seal_one(cipher, "gender", value)
            changes["gender"] = value
            after["gender"] = "set" if value else None
        if birthday is not UNSET and birthday != old.birthday:
            before["birthday"] = "set" if old.birthday else None
            m.birthday_enc = seal_one(cipher, "birthday", birthday)
            changes["birthday"] = birthday.isoformat() if birthday else None
            after["birthday"] = "set" if birthday else None
        if tags is not UNSET and list(tags) != list(old.tags):
            before["tags"] = len(old.tags)
            m.tags_enc = seal_one(cipher, "tags", tuple(tags))
            changes["tags"] = list(tags)
            after["tags"] = len(tags)
        if marketing_consent is not UNSET and marketing_consent != m.marketing_consent:
            before["marketing_consent"] = m.marketing_consent
            m.marketing_consent = marketing_consent
            m.marketing_consent_at = now if marketing_consent else None
            changes["marketing_consent"] = after["marketing_consent"] = marketing_consent
            changes["marketing_consent_at"] = now.isoformat() if marketing_consent else None
        if changes:
            # The event carries gender, birthday and tags sealed; the field versions keep them
            # by their own names, as the pulled edits are claimed (members_sync.py).
            wire = MemberProfileUpdated(member_id=m.id, fields=seal_profile_fields(
                changes, uow.cipher, SEALED_EDIT_FIELDS))
            ev = tx.record(clerk, MEMBER_PROFILE_UPDATED, wire, entity_id=m.id)
            m.updated_hlc = ev.hlc
            # Sync resolves concurrent edits per field, last writer wins (members_sync.py).
            # The edit must win here by the same rule, or the tills would disagree for good:
            # it loses only to a version from a till whose clock runs far ahead.
            won = claim_fields(tx.conn, member_id=m.id, fields=changes,
                               hlc=ev.hlc, event_id=ev.id, cipher=uow.cipher)
            if lost := sorted(set(changes) - set(won) - {"marketing_consent_at"}):
                raise EditedAheadElsewhere(fields=", ".join(lost))
            tx.audit(clerk, PROFILE_UPDATED, "member", m.id, before=before, after=after, event=ev)
            tx.commit()
    return get_member(uow, clerk=clerk, member_id=member_id)
