"""Refusals of member service (issue 20): status, lost cards, phone change, erasure, consent.
Kept beside ``pos_member/errors.py`` (which is full); the same ``DomainError`` base."""

from __future__ import annotations

from pos_member.errors import DomainError, InvalidInput
from pos_member.i18n import QT_TRANSLATE_NOOP


class MemberFrozen(DomainError):
    message = QT_TRANSLATE_NOOP(
        "errors", "Member {member_no} is frozen: no points are earned or redeemed and no "
        "stored value is spent. Ask the store manager.")


class MemberBlacklisted(DomainError):
    """``reason`` is filled in only for a clerk who may read it (a manager)."""

    message = QT_TRANSLATE_NOOP(
        "errors", "Member {member_no} is blacklisted and cannot be served. {reason}")


class CardReplaced(DomainError):
    message = QT_TRANSLATE_NOOP(
        "errors", "This card of member {member_no} was reported lost and replaced: ask the "
        "member for the new card, or look them up by phone.")


class MemberErasedError(DomainError):
    message = QT_TRANSLATE_NOOP(
        "errors", "Member {member_no}'s personal data was erased: the member cannot be served.")


class InvalidStatus(InvalidInput):
    message = QT_TRANSLATE_NOOP("errors", "Not a member status: {status}")


class ServiceReasonRequired(InvalidInput):
    message = QT_TRANSLATE_NOOP("errors", "Give the reason (at most 200 characters).")


class InvalidTierUntil(InvalidInput):
    message = QT_TRANSLATE_NOOP(
        "errors", "The tier set by hand must end on a day after today, within {days} days.")


class UnknownTier(InvalidInput):
    message = QT_TRANSLATE_NOOP("errors", "Not a tier of the rules in force: {tier}")


class NotHeldHere(DomainError):
    message = QT_TRANSLATE_NOOP(
        "errors", "Member {member_no} belongs to another store: serve this at their store.")


class SamePhone(InvalidInput):
    message = QT_TRANSLATE_NOOP("errors", "The new phone is the member's phone already.")


class PhoneChangeNeedsVerification(DomainError):
    message = QT_TRANSLATE_NOOP(
        "errors", "A phone change needs the code sent to the new phone, or offline the "
        "member's payment PIN or dynamic code and a manager's approval.")


class BalanceNotSettled(DomainError):
    message = QT_TRANSLATE_NOOP(
        "errors", "Member {member_no} still has {balance} of stored value: refund or settle it "
        "before erasing the member.")


class BalanceNotSettledAtHq(BalanceNotSettled):
    """HQ's chain-wide balance is not 0 (a top-up or payment at another till not here yet)."""

    message = QT_TRANSLATE_NOOP(
        "errors", "Head office holds {balance} of stored value for member {member_no} "
        "(chain-wide, with other tills' top-ups and payments): settle it before erasing the "
        "member.")


class ChainBalanceUnchecked(DomainError):
    """Offline: HQ's chain-wide balance could not be asked (docs/rules.md, "Erasure")."""

    message = QT_TRANSLATE_NOOP(
        "errors", "Head office could not be reached, so member {member_no}'s stored value at "
        "the chain's other tills could not be checked. Erase the member when the till is "
        "online.")
