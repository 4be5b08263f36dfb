"""Refusals of the integration API and the watched folder. Their readers are the integrators
who wire a POS to the till, so the messages are English only (not shown on the till's screen);
``code`` is the stable name an integrator's program branches on (docs/integration.md)."""

from __future__ import annotations

import re

from pos_member.errors import DomainError, InvalidInput


def error_code(error: Exception) -> str:
    """``MemberNotFound`` → ``member_not_found``: the error's stable name in an answer."""
    name = getattr(error, "code", None) or type(error).__name__
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class TxnIdReused(InvalidInput):
    message = ("Transaction {txn_id} was already reported with different content: a POS "
               "transaction id names one request.")


class LinesDoNotAddUp(InvalidInput):
    message = "The {what} add up to {total} fen, not the bill's {amount_fen} fen."


class LineNotOnBill(InvalidInput):
    message = "Bill {bill_no} has no line {line}."


class RefundOverLine(InvalidInput):
    message = "At most {left} fen of line {line} of bill {bill_no} can still be refunded."


class LinesNotKnown(InvalidInput):
    message = ("Bill {bill_no} was not reported with lines: refund it whole or by amount_fen.")


class ScopeMissing(DomainError):
    message = "This token may not {what}: issue one with the '{scope}' scope."


class TokenInvalid(DomainError):
    message = "Missing or wrong integration token."


class NoTokenIssued(DomainError):
    message = "No integration token was issued on this till yet: the manager issues one."


class TillBusy(DomainError):
    message = "The till is busy with another request: try again shortly."


class PaymentNotPossible(DomainError):
    message = "The till cannot take this payment now: {reason}."


class FileMalformed(InvalidInput):
    message = "The file cannot be read: {problem}."


class RotationNotOffered(DomainError):
    message = "This till's token is replaced only at the till (Ctrl+I)."
