"""A stored-value payment asked for over the API is taken at the till's screen: the API hands
a :class:`PaymentRequest` to the till's :class:`PaymentDesk` and waits for the outcome. The
member's second factor (PIN, dynamic code, SMS code) is entered there and never crosses the
API. ui/till_integration.py implements the desk with the till's own pay dialog."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from pos_member.services.member_cards import MemberCard
from pos_member.services.stored_value import SvResult

WAIT_SECONDS = 300.0  # the longest a request waits for the cashier: then it is cancelled


@dataclass(frozen=True, slots=True)
class PaymentRequest:
    txn_id: str  # the till's transaction id (from the POS's): a repeat pays once
    bill_no: str
    card: MemberCard
    amount_fen: int


@dataclass(frozen=True, slots=True)
class PaymentOutcome:
    result: SvResult | None  # None: cancelled at the till, or not finished in time


class PaymentDesk(Protocol):
    def take_payment(self, request: PaymentRequest) -> PaymentOutcome:
        """Shows the pay dialog and blocks (on the API's worker thread) until it is done or
        cancelled, at most ``WAIT_SECONDS``."""
        ...
