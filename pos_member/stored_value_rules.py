"""The rules of stored value (储值), pure and integer-only (no database, no clock).

Rules, all in ``[stored_value]`` (docs/rules.md, "Stored value"):

- Top-up bonus: the highest ``topup_bonus`` step whose ``min_fen`` the amount reaches, plus
  ``first_topup_bonus_fen`` on the member's first top-up and ``birthday_month_bonus_fen`` in the
  member's birthday month (the store's local month).
- A payment of ``A`` from principal ``P`` and bonus ``B`` spends bonus ``⌊A·B ÷ (P+B)⌋`` and
  principal the rest (``⌈A·P ÷ (P+B)⌉``): integer fen, the odd fen from principal, so neither
  part can exceed its balance and paying the whole balance empties both.
- Refunding a payment puts back exactly the principal and bonus it took. Refunding a top-up
  (manager) takes its principal back out and its bonus as far as the bonus balance covers it;
  bonus already spent is deducted from the cash handed back. A top-up whose principal is no
  longer all there cannot be refunded.
- Paying needs an unfrozen account, no HQ block, enough balance, offline at most
  ``offline_daily_cap_fen`` a day per member on this till, and a manager's approval at or over
  ``manager_approval_fen``.

The use cases that apply them are in :mod:`pos_member.services.stored_value`; the ledger they
book into is :mod:`pos_member.services.stored_value_ledger`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from pos_member.errors import InvalidInput
from pos_member.i18n import QT_TRANSLATE_NOOP
from pos_member.money import format_yuan
from pos_member.permissions import Action, Clerk
from pos_member.stored_value_errors import (
    AccountFrozen,
    ApprovalRefused,
    ApprovalRequired,
    BalanceBlocked,
    InsufficientBalance,
    InvalidAmount,
    OfflineCapReached,
    ReasonRequired,
    TopupAlreadySpent,
)
from pos_member.text_input import one_line

METHODS = ("cash", "card", "third_party")
MAX_TXN_ID = 64
MAX_TOPUP_FEN = 10_000_000  # ¥100,000: a typo guard, not a business limit
MAX_METHOD_REF = 64
MAX_REASON = 200


# -- input ---------------------------------------------------------------------------------


def check_amount(value: object) -> int:
    """An amount of money as given: integer fen, more than zero."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("amounts are integer fen")
    if value <= 0:
        raise InvalidAmount()
    return value


def check_topup_amount(value: object) -> int:
    """A top-up's amount: :func:`check_amount`, and at most ``MAX_TOPUP_FEN``."""
    amount = check_amount(value)
    if amount > MAX_TOPUP_FEN:
        raise InvalidAmount()
    return amount


def check_txn_id(txn_id: str) -> str:
    """The till transaction's id, stripped (present, at most ``MAX_TXN_ID`` characters)."""
    txn_id = txn_id.strip()
    if not txn_id or len(txn_id) > MAX_TXN_ID:
        raise InvalidInput(QT_TRANSLATE_NOOP("errors",
                                             "The transaction id is missing or too long."))
    return txn_id


def check_topup_method(method: str, method_ref: str | None) -> str | None:
    """How a top-up is paid (``METHODS``); the payment's reference, stripped (required for
    third_party)."""
    if method not in METHODS:
        raise InvalidInput(QT_TRANSLATE_NOOP("errors", "Choose how the top-up is paid."))
    method_ref = one_line(method_ref) or None  # typed or scanned; no NUL (text_input)
    if method == "third_party" and method_ref is None:
        raise InvalidInput(QT_TRANSLATE_NOOP(
            "errors", "Enter the third-party payment's reference number."))
    if method_ref is not None and len(method_ref) > MAX_METHOD_REF:
        raise InvalidInput(QT_TRANSLATE_NOOP("errors", "The payment reference is too long."))
    return method_ref


def check_reason(reason: str) -> str:
    """A freeze's reason, stripped: required, at most ``MAX_REASON`` characters."""
    reason = one_line(reason)
    if not reason:
        raise ReasonRequired()
    if len(reason) > MAX_REASON:
        raise InvalidInput(QT_TRANSLATE_NOOP("errors", "The reason is too long (200 at most)."))
    return reason


# -- top-up --------------------------------------------------------------------------------


def topup_bonus(rules: Any, amount_fen: int, *, first: bool, birthday_month: bool) -> int:
    """The bonus a top-up of ``amount_fen`` earns (``rules``: the ``stored_value`` section)."""
    bonus = 0
    for step in rules.topup_bonus:
        if amount_fen >= step.min_fen:
            bonus = step.bonus_fen
    if first:
        bonus += rules.first_topup_bonus_fen
    if birthday_month:
        bonus += rules.birthday_month_bonus_fen
    return bonus


@dataclass(frozen=True, slots=True)
class TopupQuote:
    """The bonus a top-up would book now (``services.stored_value.quote_topup``) and why."""

    amount_fen: int
    bonus_fen: int
    first: bool
    birthday_month: bool


def quote(rules: Any, amount_fen: int, *, topups: int, birthday: date | None,
          today: date) -> TopupQuote:
    """The bonus for a member with ``topups`` earlier top-ups (as known to this till) and
    ``birthday`` topping up ``amount_fen`` on the store's local date ``today``."""
    first = int(topups) == 0
    birthday_month = birthday is not None and birthday.month == today.month
    return TopupQuote(amount_fen, topup_bonus(rules, amount_fen, first=first,
                                              birthday_month=birthday_month),
                      first, birthday_month)


def topup_refund(principal_fen: int, bonus_fen: int, *, principal_balance_fen: int,
                 bonus_balance_fen: int) -> tuple[int, int]:
    """(bonus taken back, cash handed back) for refunding a top-up of ``principal_fen`` +
    ``bonus_fen`` from the current balances; refused when its principal is no longer all
    there."""
    if principal_balance_fen < principal_fen:
        raise TopupAlreadySpent()
    bonus_back = min(bonus_fen, bonus_balance_fen)
    cash = max(0, principal_fen - (bonus_fen - bonus_back))
    return bonus_back, cash


# -- payment -------------------------------------------------------------------------------


def split_payment(amount_fen: int, principal_fen: int, bonus_fen: int) -> tuple[int, int]:
    """(principal, bonus) spent by a payment: bonus ⌊A·B ÷ (P+B)⌋, principal the rest."""
    total = principal_fen + bonus_fen
    if amount_fen <= 0 or amount_fen > total:
        raise ValueError("amount out of range")
    from_bonus = amount_fen * bonus_fen // total
    return amount_fen - from_bonus, from_bonus


def needs_approval(rules: Any, amount_fen: int) -> bool:
    """Whether a payment of ``amount_fen`` needs a manager's approval."""
    return amount_fen >= rules.manager_approval_fen


def check_payment(rules: Any, *, amount_fen: int, balance_fen: int, frozen: bool,
                  blocked: bool, offline_spent_fen: int | None,
                  approver: Clerk | None) -> None:
    """Refuses a payment the rules do not allow, in this order: HQ's block, a frozen account,
    not enough balance, the offline daily cap (``offline_spent_fen``: what this member paid
    offline on this till today, None when online), a manager's approval missing or refused."""
    if blocked:
        raise BalanceBlocked()
    if frozen:
        raise AccountFrozen()
    if amount_fen > balance_fen:
        raise InsufficientBalance(balance=format_yuan(balance_fen),
                                  amount=format_yuan(amount_fen))
    if offline_spent_fen is not None:
        cap = rules.offline_daily_cap_fen
        if offline_spent_fen + amount_fen > cap:
            raise OfflineCapReached(cap=format_yuan(cap),
                                    left=format_yuan(max(0, cap - offline_spent_fen)))
    if needs_approval(rules, amount_fen):
        if approver is None:
            raise ApprovalRequired(limit=format_yuan(rules.manager_approval_fen))
        if not approver.may(Action.SV_APPROVE):
            raise ApprovalRefused()
