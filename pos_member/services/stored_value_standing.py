"""A member's stored-value standing at the till (split out of ``stored_value``, which books
the money): what the pay dialog shows before anything is typed (:func:`pay_standing`), the
phone handed to HQ's SMS code service, and a manager's freeze or unfreeze (:func:`set_frozen`;
notified and audited like the money operations, through ``stored_value.notify``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update

from pos_member import events
from pos_member import stored_value_rules as rules_
from pos_member.db.models import Member
from pos_member.db.uow import UnitOfWork
from pos_member.errors import MemberNotFound, StandingEditedAheadElsewhere
from pos_member.permissions import Action, Clerk, require
from pos_member.services import member_standing
from pos_member.services.member_auth import has_pin, has_totp
from pos_member.services.stored_value import notify
from pos_member.services.stored_value_ledger import (
    ACCOUNTS,
    FROZEN,
    UNFROZEN,
    Balance,
    active_member,
    balance,
    ensure_account,
    get_balance,
    offline_spent_today,
)


@dataclass(frozen=True, slots=True)
class PayStanding:
    """What the pay dialog says before the member types anything: the balance, which factors
    the member has, and how much more may be paid offline today on this till."""

    balance: Balance
    has_pin: bool
    has_totp: bool
    offline_left_fen: int


def pay_standing(uow: UnitOfWork, *, clerk: Clerk, member_id: str) -> PayStanding:
    with uow.read() as s:
        spent = offline_spent_today(s.connection(), member_id, clerk.device_id,
                                    uow.clock.local())
    left = max(0, uow.rules.stored_value.offline_daily_cap_fen - spent)
    return PayStanding(get_balance(uow, member_id), has_pin(uow, member_id),
                       has_totp(uow, member_id), left)


def phone_for_sms(uow: UnitOfWork, *, member_id: str) -> str:
    """The member's phone, decrypted only to hand to HQ's SMS code service (never shown)."""
    from pos_member.services.member_cards import PHONE_CTX

    with uow.read() as s:
        blob = s.scalar(select(Member.phone_enc).where(Member.id == member_id))
        if blob == b"":  # erased (issue 20): no phone to text
            member_standing.check(s.connection(), member_id, member_standing.MAINTAIN)
    if not blob:
        raise MemberNotFound(query=member_id)
    return uow.cipher.decrypt(blob, context=PHONE_CTX)


def set_frozen(uow: UnitOfWork, *, clerk: Clerk, member_id: str, frozen: bool,
               reason: str) -> Balance:
    """Freezes or unfreezes the member's stored value (manager; reason required; audited)."""
    require(clerk, Action.SV_FREEZE)
    reason = rules_.check_reason(reason)
    with uow.begin() as tx:
        conn = tx.conn
        active_member(conn, member_id)
        before = balance(conn, member_id)
        if before.frozen == frozen:
            return before
        type_ = FROZEN if frozen else UNFROZEN
        ev = tx.record(clerk, events.SV_FROZEN if frozen else events.SV_UNFROZEN,
                       events.FreezeChanged(member_id=member_id, reason=reason),
                       entity_id=member_id)
        ensure_account(conn, member_id, tx.clock.now())
        # Last writer wins by HLC at every till (stored_value_sync.apply_freeze_event): a freeze
        # set by a till whose clock runs far ahead would beat this one everywhere else.
        if (conn.scalar(select(ACCOUNTS.c.frozen_hlc).where(ACCOUNTS.c.member_id == member_id))
                or "") >= ev.hlc:
            raise StandingEditedAheadElsewhere()
        conn.execute(update(ACCOUNTS).where(ACCOUNTS.c.member_id == member_id)
                     .values(frozen=frozen, frozen_hlc=ev.hlc))
        tx.audit(clerk, type_, "member", member_id, before={"frozen": before.frozen},
                 after={"frozen": frozen, "reason": reason}, event=ev)
        notify(tx, ev.id, member_id, type_, {})
        after = balance(conn, member_id)
        tx.commit()
    return after
