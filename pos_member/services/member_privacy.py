"""A member's phone change and erasure at the till (issue 20, SPEC §2.10–2.11).

- **Phone change**: verified by a code texted to the *new* phone (online: HQ sends and checks
  it, bound to the new phone's blind index), or offline by the member's payment PIN or
  dynamic code *and* a manager's approval. A phone another member holds (here or in the
  chain's directory) is refused. One ``member.phone_changed`` event (a directory event: every
  till moves the member's blind index, so the old phone finds no one after sync; HQ moves its
  ``member_index``).
- **Erasure** (被遗忘权): a manager; the stored-value balance must be 0 first, here and as
  HQ's member lookup says chain-wide (:class:`ChainBalance`, asked outside the transaction;
  refused when HQ cannot be asked, unless the till was never enrolled: docs/rules.md,
  "Erasure"). Phone, name, gender, birthday, tags and consents' details go at
  every till and at HQ after sync; ledgers stay under the member's id. The audit keeps who and
  when, not what.
- **Consent**: marketing consent withdrawn in one step; a member whose privacy-policy version
  is older than the rules' is asked again (:func:`reconsent`).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Connection, select, update

from pos_member import events
from pos_member.changes import Area, Changes
from pos_member.db.models import Member
from pos_member.db.uow import UnitOfWork
from pos_member.errors import (
    DuplicatePhone,
    MemberNotFound,
    PermissionDenied,
    StandingEditedAheadElsewhere,
)
from pos_member.events import PHONE_CTX
from pos_member.member_service_errors import (
    BalanceNotSettled,
    BalanceNotSettledAtHq,
    ChainBalanceUnchecked,
    NotHeldHere,
    PhoneChangeNeedsVerification,
    SamePhone,
)
from pos_member.money import format_yuan
from pos_member.permissions import ROLE_LABELS, Action, Clerk, require
from pos_member.phone import normalise_phone
from pos_member.services import member_directory, member_standing
from pos_member.services.field_versions import claim_fields
from pos_member.services.member_auth import verify_pin, verify_totp
from pos_member.services.member_service import ServiceResult
from pos_member.services.outbox import on_its_own
from pos_member.services.stored_value import PinFactor, SmsFactor, SmsVerifier, TotpFactor
from pos_member.services.stored_value_ledger import balance
from pos_member.sms_codes import phone_change_txn

PHONE_CHANGED = events.MEMBER_PHONE_CHANGED.type
ERASED = events.MEMBER_ERASED.type
CONSENT_RENEWED = "member.consent_renewed"  # an audit action (the edit is a profile event)


@dataclass(frozen=True, slots=True)
class _Held:
    member_no: str
    phone_index: str


def _held(conn: object, member_id: str) -> _Held:
    """The member held here in full (a phone change or an erasure is done at a till of the
    member's store: their PIN, balance and profile are there)."""
    m = conn.execute(select(Member.member_no, Member.phone_index)  # type: ignore[attr-defined]
                     .where(Member.id == member_id, Member.status == "active")).first()
    if m is None:
        found = member_directory.by_id(conn, member_id)  # type: ignore[arg-type]
        if found is not None:
            raise NotHeldHere(member_no=found.member_no)
        raise MemberNotFound(query=member_id[:8])
    return _Held(m.member_no, m.phone_index)


def phone_index_of(uow: UnitOfWork, phone: str) -> str:
    return uow.cipher.blind_index(normalise_phone(phone), context=PHONE_CTX)


def send_phone_code(uow: UnitOfWork, *, clerk: Clerk, member_id: str, new_phone: str,
                    sender: object) -> str:
    """Asks HQ to text a code to the new phone (``sync.client.SyncClient.sms_send``), bound to
    the new phone; returns the challenge id. The checks that can refuse run first."""
    require(clerk, Action.CHANGE_PHONE)
    phone = normalise_phone(new_phone)
    index = uow.cipher.blind_index(phone, context=PHONE_CTX)
    with uow.read() as s:
        _check_new_phone(s.connection(), member_id, index)
    return sender.sms_send(member_id=member_id, phone=phone,  # type: ignore[attr-defined]
                           amount_fen=0, txn_id=phone_change_txn(index))


def _check_new_phone(conn: object, member_id: str, index: str) -> _Held:
    held = _held(conn, member_id)
    if held.phone_index == index:
        raise SamePhone()
    other = conn.execute(select(Member.id, Member.member_no)  # type: ignore[attr-defined]
                         .where(Member.phone_index == index, Member.id != member_id)).first()
    if other is not None:
        raise DuplicatePhone(member_id=other.id, member_no=other.member_no)
    found = member_directory.by_phone_index(conn, index)  # type: ignore[arg-type]
    if found is not None and found.id != member_id:
        raise DuplicatePhone(member_id=found.id, member_no=found.member_no)
    return held


def change_phone(uow: UnitOfWork, *, clerk: Clerk, member_id: str, new_phone: str,
                 factor: PinFactor | TotpFactor | SmsFactor | None,
                 approver: Clerk | None = None, online: bool = True,
                 sms_verifier: SmsVerifier | None = None) -> ServiceResult:
    """Changes the member's phone; see the module docstring for what verifies it. A wrong PIN
    or dynamic code counts towards the member's lock (committed) and changes nothing else."""
    require(clerk, Action.CHANGE_PHONE)
    phone = normalise_phone(new_phone)
    cipher = uow.cipher
    index = cipher.blind_index(phone, context=PHONE_CTX)
    challenge = None
    if isinstance(factor, SmsFactor):
        if not online or sms_verifier is None or not factor.code.strip():
            raise PhoneChangeNeedsVerification()
        with uow.read() as s:
            _check_new_phone(s.connection(), member_id, index)
        challenge = sms_verifier.sms_verify(
            challenge_id=factor.challenge_id, member_id=member_id, amount_fen=0,
            txn_id=phone_change_txn(index), code=factor.code.strip())
    elif factor is None or approver is None:
        raise PhoneChangeNeedsVerification()
    elif not approver.may(Action.MEMBER_STATUS):
        raise PermissionDenied(role=ROLE_LABELS[approver.role],
                               action=Action.MEMBER_STATUS.value)
    with uow.begin() as tx:
        conn = tx.conn
        held = _check_new_phone(conn, member_id, index)
        member_standing.check(conn, member_id, member_standing.MAINTAIN,
                              member_no=held.member_no)
        if not isinstance(factor, SmsFactor):
            refusal = (verify_pin(tx, clerk, member_id=member_id, pin=factor.pin)
                       if isinstance(factor, PinFactor) else
                       verify_totp(tx, clerk, cipher, member_id=member_id, code=factor.code))
            if refusal is not None:
                tx.commit()  # the failure count and a lock stick; the phone stays
                raise refusal.error
        enc = cipher.encrypt(phone, context=PHONE_CTX)
        payload = events.MemberPhoneChanged(
            member_id=member_id, member_no=held.member_no, old_phone_index=held.phone_index,
            phone_index=index, phone_enc=base64.b64encode(enc).decode(),
            verified_by="sms" if challenge else ("pin" if isinstance(factor, PinFactor)
                                                 else "totp"),
            approver_id=approver.staff_id if approver is not None else None,
            sms_challenge_id=challenge)
        ev = tx.record(clerk, events.MEMBER_PHONE_CHANGED, payload, entity_id=member_id)
        if not member_standing.change_phone(conn, payload, ev.hlc, enc):
            raise StandingEditedAheadElsewhere()  # lost to a till whose clock runs far ahead
        tx.audit(clerk, PHONE_CHANGED, "member", member_id, after={
            "verified_by": payload.verified_by, "approver_id": payload.approver_id}, event=ev)
        tx.commit()
    return ServiceResult(member_id, held.member_no, True,
                         Changes.of(Area.MEMBERS, members=[member_id]))


class ChainBalance(Protocol):
    """HQ's chain-wide stored-value balance of a member (``sync.remote_lookup.HqChainBalance``
    asks HQ's member lookup). Blocks on the network: called outside any transaction."""

    def chain_balance_fen(self, *, member_no: str) -> int | None:
        """The balance in fen (0 when HQ knows no such member yet), or None when HQ could
        not be asked (offline, unreachable, refused)."""
        ...


def _erasable_here(conn: Connection, member_id: str) -> tuple[_Held, bool]:
    """The member held here and whether they are erased already; ``BalanceNotSettled`` while
    this till holds stored value for them. Checked before HQ is asked (outside the
    transaction) and again in the erasure's transaction."""
    held = _held(conn, member_id)
    if member_standing.is_erased(conn, member_id):
        return held, True
    left = balance(conn, member_id).total_fen
    if left != 0:
        raise BalanceNotSettled(member_no=held.member_no, balance=format_yuan(left))
    return held, False


def erase(uow: UnitOfWork, *, clerk: Clerk, member_id: str,
          hq: ChainBalance | None) -> ServiceResult:
    """Erases the member's personal data (a manager); refused while the member has stored value
    here (``BalanceNotSettled``: refund it first) or, as HQ says, anywhere in the chain
    (``BalanceNotSettledAtHq``); refused when HQ cannot be asked (``hq`` None, or it gives no
    answer: ``ChainBalanceUnchecked``) — the erasure cannot be undone, and money another till
    holds for the member would be left to a member nobody can identify (docs/rules.md). A
    till on its own (never enrolled with an HQ) has no other till: its balance is the chain's."""
    require(clerk, Action.ERASE_MEMBER)
    with uow.read() as s:
        held, erased = _erasable_here(s.connection(), member_id)
    if erased:
        return ServiceResult(member_id, held.member_no, False, Changes())
    chain = hq.chain_balance_fen(member_no=held.member_no) if hq is not None else None
    if chain is None and on_its_own(uow):
        chain = 0  # no other till, no HQ: its own balance is the chain's
    if chain is None:
        raise ChainBalanceUnchecked(member_no=held.member_no)
    if chain != 0:
        raise BalanceNotSettledAtHq(member_no=held.member_no, balance=format_yuan(chain))
    with uow.begin() as tx:
        conn = tx.conn
        # Freed bytes zeroed (a copy of the file keeps no erased value); set back however the
        # erasure ends (a refusal left it on for every later write of the pooled connection).
        conn.exec_driver_sql("PRAGMA secure_delete = ON")
        try:
            held, erased = _erasable_here(conn, member_id)  # again, in the transaction
            if erased:
                return ServiceResult(member_id, held.member_no, False, Changes())
            payload = events.MemberErased(member_id=member_id, member_no=held.member_no,
                                          phone_index=held.phone_index)
            ev = tx.record(clerk, events.MEMBER_ERASED, payload, entity_id=member_id)
            member_standing.erase(conn, member_id, held.member_no)  # PIN, messages too
            tx.audit(clerk, ERASED, "member", member_id, event=ev)  # who and when, not what
            tx.commit()
        finally:
            conn.exec_driver_sql("PRAGMA secure_delete = OFF")
    return ServiceResult(member_id, held.member_no, True,
                         Changes.of(Area.MEMBERS, Area.STORED_VALUE, members=[member_id]))


def withdraw_marketing(uow: UnitOfWork, *, clerk: Clerk, member_id: str) -> None:
    """Marketing consent withdrawn in one step (a ``member.profile_updated``)."""
    from pos_member.services.members import update_profile

    update_profile(uow, clerk=clerk, member_id=member_id, marketing_consent=False)


def needs_reconsent(uow: UnitOfWork, member_id: str) -> bool:
    """Whether the member consented to an older privacy policy than the rules' in force."""
    with uow.read() as s:
        version = s.scalar(select(Member.privacy_policy_version).where(Member.id == member_id))
        if member_standing.is_erased(s.connection(), member_id):
            return False  # nothing is asked of an erased member (nor recorded)
    return version is not None and version != uow.rules.registration.privacy_policy_version


def reconsent(uow: UnitOfWork, *, clerk: Clerk, member_id: str) -> None:
    """The member agreed to the policy in force at this visit: a ``member.profile_updated``
    with the version and time (every till of the store stops asking after sync; last writer
    wins per field, as any edit), audited (``member.consent_renewed``)."""
    require(clerk, Action.EDIT_MEMBER)
    version = uow.rules.registration.privacy_policy_version
    with uow.begin() as tx:
        conn = tx.conn
        held = _held(conn, member_id)
        member_standing.check(conn, member_id, member_standing.MAINTAIN,
                              member_no=held.member_no)
        now = tx.clock.now()
        fields = {"privacy_policy_version": version, "privacy_consent_at": now.isoformat()}
        ev = tx.record(clerk, events.MEMBER_PROFILE_UPDATED,
                       events.MemberProfileUpdated(member_id=member_id, fields=fields),
                       entity_id=member_id)
        claim_fields(conn, member_id=member_id, fields=fields, hlc=ev.hlc, event_id=ev.id,
                     cipher=uow.cipher)
        conn.execute(update(Member).where(Member.id == member_id).values(
            privacy_policy_version=version, privacy_consent_at=now, updated_hlc=ev.hlc))
        tx.audit(clerk, CONSENT_RENEWED, "member", member_id,
                 after={"privacy_policy_version": version}, event=ev)
        tx.commit()
