"""Domain errors. Each carries an English message template (translated by the UI under the
``errors`` context) and the parameters to fill in after translation."""

from __future__ import annotations

from typing import Any

from pos_member.i18n import QT_TRANSLATE_NOOP


class DomainError(Exception):
    """A refusal the user can act on. ``message`` is an English template with ``{name}`` fields."""

    message: str = QT_TRANSLATE_NOOP("errors", "The operation was refused.")

    def __init__(self, message: str | None = None, **params: Any) -> None:
        if message is not None:
            self.message = message
        self.params = params
        super().__init__(self.text())

    def text(self) -> str:
        """The English text with its parameters filled in (logs, CLI, tests)."""
        return self.message.format(**self.params)


class InvalidInput(DomainError):
    message = QT_TRANSLATE_NOOP("errors", "The input is not valid.")


class InvalidPhone(InvalidInput):
    message = QT_TRANSLATE_NOOP(
        "errors", "Not a mainland mobile number: 11 digits starting with 13-19 are needed."
    )


class InvalidMoney(InvalidInput):
    message = QT_TRANSLATE_NOOP("errors", "Not a valid amount of money: {value}")


class ConsentRequired(DomainError):
    message = QT_TRANSLATE_NOOP(
        "errors", "The member must agree to the privacy policy before registering."
    )


class DuplicatePhone(DomainError):
    message = QT_TRANSLATE_NOOP(
        "errors", "This phone number already belongs to member {member_no}."
    )

    def __init__(self, *, member_id: str, member_no: str) -> None:
        self.member_id = member_id
        self.member_no = member_no
        super().__init__(member_no=member_no)


class RegistrationRateLimited(DomainError):
    message = QT_TRANSLATE_NOOP(
        "errors",
        "Too many registrations on this till: at most {limit} in {minutes} minutes. "
        "The store manager has been alerted.",
    )


class MemberNotFound(DomainError):
    message = QT_TRANSLATE_NOOP("errors", "No member found for {query}.")


class MalformedCode(DomainError):
    message = QT_TRANSLATE_NOOP("errors", "This code is not recognised: {code}")


class CouponRefused(DomainError):
    """A coupon the till will not take (issue 18); each says why, and nothing was changed."""


class CouponUnknown(CouponRefused):
    message = QT_TRANSLATE_NOOP("errors", "No such coupon. Nothing was changed.")


class CouponForged(CouponRefused):
    message = QT_TRANSLATE_NOOP("errors", "This coupon code is not genuine. Nothing was changed.")


class CouponExpired(CouponRefused):
    message = QT_TRANSLATE_NOOP("errors", "This coupon expired on {day}. Nothing was changed.")


class CouponNotYet(CouponRefused):
    message = QT_TRANSLATE_NOOP("errors", "This coupon is valid from {day}. Nothing was changed.")


class CouponAlreadyUsed(CouponRefused):
    message = QT_TRANSLATE_NOOP(
        "errors", "This coupon was already used or withdrawn. Nothing was changed.")


class CouponUsedElsewhere(CouponRefused):
    message = QT_TRANSLATE_NOOP(
        "errors", "Head office says this coupon was already used at {store} on {day}. "
        "Nothing was changed.")


class CouponAtHomeStore(CouponRefused):
    message = QT_TRANSLATE_NOOP(
        "errors", "This coupon is not known at this till: the member's coupons are kept at "
        "their home store ({store}), and head office describes one here only while the till "
        "is online. Nothing was changed.")


class CouponNotHere(CouponRefused):
    message = QT_TRANSLATE_NOOP(
        "errors", "This coupon is not for {what}. Nothing was changed.")


class CouponThreshold(CouponRefused):
    message = QT_TRANSLATE_NOOP(
        "errors", "This coupon needs a bill of at least {threshold}; the bill is {bill}. "
        "Nothing was changed.")


class CouponNotCombinable(CouponRefused):
    message = QT_TRANSLATE_NOOP(
        "errors", "This coupon cannot be combined with {what}. Nothing was changed.")


class CouponNeedsMember(CouponRefused):
    message = QT_TRANSLATE_NOOP(
        "errors", "This is a coupon: show the member's card first, then the coupon.")


class CouponUseBlocked(CouponRefused):
    message = QT_TRANSLATE_NOOP(
        "errors", "Head office has stopped this member's coupons until it settles a coupon "
        "used twice. Nothing was changed.")


class PaymentCodeNeedsMember(DomainError):
    message = QT_TRANSLATE_NOOP(
        "errors", "This is a payment code: scan the member's card first, then the payment code.")


class ScanWhileDialogOpen(DomainError):
    message = QT_TRANSLATE_NOOP(
        "errors", "A code was scanned while a window is open: finish or close it first. "
        "Nothing was changed.")


class NoCodeInImage(DomainError):
    message = QT_TRANSLATE_NOOP(
        "errors", "No member or payment code was found in the picture. Nothing was changed.")


class ImageUnreadable(DomainError):
    message = QT_TRANSLATE_NOOP("errors", "The file is not a picture the till can read.")


class ScannerUnavailable(DomainError):
    message = QT_TRANSLATE_NOOP(
        "errors", "The serial scanner is not connected (unplugged?): the till keeps trying. "
        "The scan field still works.")


class ReferrerNotFound(DomainError):
    message = QT_TRANSLATE_NOOP("errors", "The referrer {query} is not a member.")


class GuideNotFound(DomainError):
    message = QT_TRANSLATE_NOOP("errors", "The recruiting guide is not active staff of this store.")


class PermissionDenied(DomainError):
    message = QT_TRANSLATE_NOOP("errors", "Your role ({role}) may not {action}.")


class LoginFailed(DomainError):
    message = QT_TRANSLATE_NOOP("errors", "Wrong staff number or PIN.")


class LoginLocked(DomainError):
    message = QT_TRANSLATE_NOOP(
        "errors", "Too many wrong PINs: this login is locked until {until}."
    )


class WeakSecret(InvalidInput):
    message = QT_TRANSLATE_NOOP(
        "errors", "The PIN must be 6 digits and not a repeat or a sequence, or a password of 8+."
    )


class WeakApproverPin(WeakSecret):
    """A manager's or administrator's PIN approves payments and refunds: held to the member
    PIN's rules (pos_member/pin_policy.py)."""

    message = QT_TRANSLATE_NOOP(
        "errors", "A manager's or administrator's PIN approves payments: 6 digits that are "
        "not an easy pattern (repeats, pairs, runs, mirrors, common PINs), or a password of 8+."
    )


class DuplicateStaff(DomainError):
    message = QT_TRANSLATE_NOOP("errors", "Staff number {code} is already taken.")


class UnknownStaff(InvalidInput):
    message = QT_TRANSLATE_NOOP("errors", "No such colleague in this store.")


class OwnStaffRecord(DomainError):
    message = QT_TRANSLATE_NOOP(
        "errors", "You cannot deactivate yourself or change your own role: ask another manager."
    )


class ClerkNoLongerActive(DomainError):
    """The clerk logged in here was deactivated or given another role since (at this till
    or, once synced, at another): every action that writes is refused until they log in."""

    message = QT_TRANSLATE_NOOP(
        "errors", "Your login is no longer valid (deactivated or role changed): log in again."
    )


class StoreNotSetUp(DomainError):
    message = QT_TRANSLATE_NOOP(
        "errors", "This till has no store yet: run 'pos-member demo' or enrol it."
    )


class RulesInvalid(DomainError):
    message = QT_TRANSLATE_NOOP("errors", "Rules file refused: {field}: {problem}")


class BackupRefused(DomainError):
    message = QT_TRANSLATE_NOOP("errors", "Backup or restore refused: {problem}")


class ConfigInvalid(DomainError):
    message = QT_TRANSLATE_NOOP("errors", "Configuration refused: {field}: {problem}")


class KeyStoreUnavailable(DomainError):
    message = QT_TRANSLATE_NOOP(
        "errors",
        "The OS credential store is not available ({detail}). "
        "Personal data cannot be read or written without it.",
    )


class TillNotFresh(DomainError):
    message = QT_TRANSLATE_NOOP(
        "errors",
        "This till already has {what}: enrolment is for a fresh till. "
        "Use a new data folder (--data-dir) to enrol it.",
    )


class TillStillEnrolled(DomainError):
    message = QT_TRANSLATE_NOOP(
        "errors",
        "This till is enrolled as store {store} till {device} and head office still accepts "
        "it: it needs no new enrolment, and the code was not used. Enrolling again is for a "
        "till whose access was revoked or whose credentials were lost.",
    )


class NotEnrolled(DomainError):
    message = QT_TRANSLATE_NOOP(
        "errors", "This till is not connected to head office yet, so the day cannot be "
        "closed with head office from here. Ask head office to connect (enrol) this till; "
        "until then its sales and members are kept on the till."
    )


class TillReidentified(DomainError):
    """A write under a device this till no longer is (a clerk logged in before the till took
    a new identity): refused, so nothing is written where it would never be sent."""

    message = QT_TRANSLATE_NOOP(
        "errors",
        "This till now works under a new identity from head office: log in again.",
    )


class WrongStore(DomainError):
    message = QT_TRANSLATE_NOOP(
        "errors",
        "The enrolment code is for store {got}, but this till's data belong to store {have}: "
        "ask head office for a code of store {have}.",
    )


class EditedAheadElsewhere(DomainError):
    """A profile field last written by a till whose clock runs ahead (beyond the drift the
    chain follows): an edit here would sort before it and lose at every other till."""

    message = QT_TRANSLATE_NOOP(
        "errors",
        "Not saved: this part of the profile was last changed at a till whose clock is ahead. "
        "Head office has been alerted; edit it again once that till's clock is put right.",
    )


class StaffEditedAheadElsewhere(EditedAheadElsewhere):
    """A colleague's field last written by a till whose clock runs ahead: a manager's change
    here would sort before it and lose at every till, the colleague unchanged (docs/rules.md,
    "Staff")."""

    message = QT_TRANSLATE_NOOP(
        "errors",
        "Not saved: this colleague was last changed at a till whose clock is ahead, so the "
        "change would not hold. Head office can deactivate them at once; change it here again "
        "once that till's clock is put right.",
    )


class PlanEditedAheadElsewhere(EditedAheadElsewhere):
    """A recruitment target, roster or split last written by a till whose clock runs ahead: a
    manager's change here would sort before it and lose at every till (docs/rules.md,
    "Recruitment KPIs")."""

    message = QT_TRANSLATE_NOOP(
        "errors",
        "Not saved: this target or roster was last changed at a till whose clock is ahead, so "
        "the change would not hold. Head office can set the month's target; change it here "
        "again once that till's clock is put right.",
    )


class StandingEditedAheadElsewhere(EditedAheadElsewhere):
    """A member's status, hand-set tier, stored-value freeze, phone, payment PIN or dynamic-code
    secret last set by a till whose clock runs ahead: a change here would sort before it and lose at
    every other till, which would then disagree with this one on whether (and with what) the
    member may pay (docs/rules.md, "Member status")."""

    message = QT_TRANSLATE_NOOP(
        "errors",
        "Not saved: this member's status, tier, freeze, phone, PIN or dynamic code was last "
        "changed at a till whose clock is ahead, so the change would not hold at the other "
        "tills. Head office has been alerted; change it again once that till's clock is put "
        "right.",
    )


class StorageFull(DomainError):
    message = QT_TRANSLATE_NOOP(
        "errors",
        "The till could not write to its disk (full or failing): nothing was saved. "
        "Free some space or call support, then try again.",
    )


# -- Recruitment KPIs (issue 7) ----------------------------------------------------------------


class InvalidTarget(InvalidInput):
    message = QT_TRANSLATE_NOOP(
        "errors", "A target is a whole number of new members from 0 to {maximum}: {value}"
    )


class InvalidMonth(InvalidInput):
    message = QT_TRANSLATE_NOOP("errors", "Not a month (YYYY-MM): {value}")


class RosterEmpty(InvalidInput):
    message = QT_TRANSLATE_NOOP(
        "errors",
        "Nobody is on shift on {day}, but the day has a target of {target}: "
        "put at least one guide on shift.",
    )


class NotAGuide(InvalidInput):
    message = QT_TRANSLATE_NOOP(
        "errors", "Only active guides of this store can be on the roster: {who}"
    )


class SplitDoesNotAddUp(InvalidInput):
    message = QT_TRANSLATE_NOOP(
        "errors",
        "The guides' targets on {day} add up to {total}, but the day's target is {target}: "
        "nothing was changed.",
    )


class SplitNotOnRoster(InvalidInput):
    message = QT_TRANSLATE_NOOP(
        "errors", "The split on {day} must give a target to exactly the guides on shift."
    )


# -- Points (issue 5) ------------------------------------------------------------------------


class InsufficientPoints(DomainError):
    message = QT_TRANSLATE_NOOP(
        "errors", "Not enough points: {available} can be spent now, {wanted} were asked for."
    )


class RedeemOverCap(DomainError):
    message = QT_TRANSLATE_NOOP(
        "errors", "At most {cap} points can be redeemed on this bill (half of it)."
    )


class PointsReasonRequired(InvalidInput):
    message = QT_TRANSLATE_NOOP("errors", "Give the reason for the adjustment.")


class TxnReused(InvalidInput):
    message = QT_TRANSLATE_NOOP(
        "errors", "This till transaction was already used for something else: start a new one."
    )


# -- Sales ----------------------------------------------------------------------------------


class DuplicateBill(DomainError):
    message = QT_TRANSLATE_NOOP("errors", "Bill {bill_no} is already recorded.")


class SaleNotFound(DomainError):
    message = QT_TRANSLATE_NOOP("errors", "No sale with bill number {bill_no} in this store.")


class RefundTooLarge(DomainError):
    message = QT_TRANSLATE_NOOP(
        "errors", "At most {left} can still be refunded on bill {bill_no}."
    )


class InvalidSaleAmount(InvalidInput):
    message = QT_TRANSLATE_NOOP("errors", "The amount must be more than ¥0.00.")


# -- Member insight (issue 19) ---------------------------------------------------------------


class PeriodReversed(InvalidInput):
    message = QT_TRANSLATE_NOOP(
        "errors", "The period ends ({end}) before it starts ({start}): swap the dates.")


class PeriodNotBegun(InvalidInput):
    message = QT_TRANSLATE_NOOP(
        "errors", "The period starts on {start}, after today ({today}): nothing is in it yet.")


class NoMembersInStore(InvalidInput):
    message = QT_TRANSLATE_NOOP(
        "errors", "The store has no members registered by {end}: there is nothing to report.")


# -- Not shown to the user ------------------------------------------------------------------


class ChannelError(Exception):
    """The channel did not take the message; it is retried later."""
