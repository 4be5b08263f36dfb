"""Stored-value refusals (issue 6): top-ups, payments, refunds, their second factor (member
PIN, dynamic code, SMS) and the offline caps. Like every domain error (``pos_member.errors``)
each carries an English message template translated under the ``errors`` context."""

from __future__ import annotations

from pos_member.errors import DomainError
from pos_member.i18n import QT_TRANSLATE_NOOP


class StoredValueError(DomainError):
    message = QT_TRANSLATE_NOOP("errors", "The stored-value operation was refused.")


class InvalidAmount(StoredValueError):
    message = QT_TRANSLATE_NOOP("errors", "The amount must be more than ¥0.00.")


class InsufficientBalance(StoredValueError):
    message = QT_TRANSLATE_NOOP(
        "errors", "Not enough stored value: the balance is {balance}, the payment {amount}.")


class AccountFrozen(StoredValueError):
    message = QT_TRANSLATE_NOOP(
        "errors", "This member's stored value is frozen: ask the store manager.")


class BalanceBlocked(StoredValueError):
    message = QT_TRANSLATE_NOOP(
        "errors", "Head office has blocked this member's stored value until it is settled.")


class OfflineCapReached(StoredValueError):
    message = QT_TRANSLATE_NOOP(
        "errors", "Offline, a member may spend at most {cap} a day; {left} is left today.")


class RemoteBalanceCapReached(StoredValueError):
    """Offline, another store's member may spend at most the balance HQ last reported, less
    what this till has paid from it since (docs/rules.md, issue 14)."""

    message = QT_TRANSLATE_NOOP(
        "errors", "This member belongs to another store. Head office last reported a balance "
        "of {known} (at {at}); {spent} has been paid here since, so at most {cap} may be "
        "paid offline. Go online to see the current balance.")


class ApprovalRequired(StoredValueError):
    message = QT_TRANSLATE_NOOP(
        "errors", "A payment of {limit} or more needs a store manager's approval.")


class ApprovalRefused(StoredValueError):
    message = QT_TRANSLATE_NOOP(
        "errors", "Approval refused: wrong manager number or PIN, or not a manager.")


class SecondFactorRequired(StoredValueError):
    message = QT_TRANSLATE_NOOP(
        "errors", "Paying with stored value needs the member's PIN, dynamic code or SMS code.")


class WrongMemberPin(StoredValueError):
    message = QT_TRANSLATE_NOOP("errors", "Wrong payment PIN: {left} tries left.")


class MemberPinLocked(StoredValueError):
    message = QT_TRANSLATE_NOOP(
        "errors", "Too many wrong PINs or dynamic codes: paying by PIN or dynamic code is "
        "locked until {until}.")


class MemberPinNotSet(StoredValueError):
    message = QT_TRANSLATE_NOOP(
        "errors", "This member has no payment PIN yet: set one with a manager present.")


class WeakMemberPin(StoredValueError):
    message = QT_TRANSLATE_NOOP(
        "errors",
        "Choose another PIN: 6 digits, not repeated or in sequence, not the phone's last six "
        "or the birthday.")


class InvalidDynamicCode(StoredValueError):
    message = QT_TRANSLATE_NOOP(
        "errors", "The dynamic code is wrong, expired or already used: ask for a fresh one "
        "({left} tries left).")


class MalformedDynamicCode(StoredValueError):
    message = QT_TRANSLATE_NOOP("errors", "A dynamic code is 6 digits.")


class TotpNotProvisioned(StoredValueError):
    message = QT_TRANSLATE_NOOP(
        "errors", "This member has no dynamic code yet: provision it from the ledger (Shift+F10).")


class SmsCodeInvalid(StoredValueError):
    message = QT_TRANSLATE_NOOP(
        "errors", "The SMS code is wrong, expired or used up: send a new one.")


class SmsResendTooSoon(StoredValueError):
    message = QT_TRANSLATE_NOOP("errors", "Wait {seconds} s before sending another SMS code.")


class SmsTooMany(StoredValueError):
    """Head office's limit on SMS codes (per phone, till or store) is reached for now."""

    message = QT_TRANSLATE_NOOP(
        "errors", "Head office sent too many SMS codes for now: try again in {minutes} min, "
                  "or use the PIN or dynamic code.")


class SmsMemberNotAtHq(StoredValueError):
    """Head office has not seen this member registered with this phone (not synced yet)."""

    message = QT_TRANSLATE_NOOP(
        "errors", "Head office does not know this member yet: sync the till, or use the PIN "
                  "or dynamic code.")


class SmsUnavailable(StoredValueError):
    message = QT_TRANSLATE_NOOP(
        "errors", "SMS codes need the connection to head office: use the PIN or dynamic code.")


class SmsNotSent(SmsUnavailable):
    """Head office could not send the code (its SMS gateway failed, or head office is not
    reachable); nothing was kept, so sending again is allowed at once."""

    message = QT_TRANSLATE_NOOP(
        "errors", "The SMS code could not be sent: try again, or use the PIN or dynamic code.")


class AlreadyRefunded(StoredValueError):
    message = QT_TRANSLATE_NOOP("errors", "This operation has already been refunded.")


class PaymentOfABill(StoredValueError):
    message = QT_TRANSLATE_NOOP(
        "errors", "This payment is part of bill {bill_no}: refund it from the bill (Shift+F4), "
        "so the sale and its points go back with it.")


class SvOperationNotFound(StoredValueError):
    message = QT_TRANSLATE_NOOP("errors", "No stored-value operation {txn_id} for this member.")


class TopupAlreadySpent(StoredValueError):
    message = QT_TRANSLATE_NOOP(
        "errors", "The top-up's principal has been spent: it can no longer be refunded.")


class ReasonRequired(StoredValueError):
    message = QT_TRANSLATE_NOOP("errors", "Enter a reason.")


class TxnIdConflict(StoredValueError):
    message = QT_TRANSLATE_NOOP(
        "errors", "Transaction {txn_id} was already used for a different operation.")
