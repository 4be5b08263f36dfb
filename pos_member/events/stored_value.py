"""Stored-value events: the money ones (every till books them in its ledger), freezes and the
member's payment credentials (a hash or a ciphertext, never the secret)."""

from __future__ import annotations

from msgspec import UNSET, UnsetType

from pos_member.events.base import Payload, declare


class MoneyMoved(Payload, frozen=True, kw_only=True):
    """The contract of every ``sv.*`` money event (the server reads it): who, the till's
    transaction id and the two deltas in fen. Each type's detail for the ledger's lines follows
    (absent from a hand-made event: read as None), then ``clerk_name``, absent when the clerk
    has no ledger name."""

    member_id: str
    txn_id: str
    principal_delta_fen: int
    bonus_delta_fen: int


class ToppedUp(MoneyMoved, frozen=True, kw_only=True):
    amount_fen: int | None = None
    method: str | None = None
    method_ref: str | None = None
    first_topup: bool | None = None
    birthday_month: bool | None = None
    clerk_name: str | UnsetType = UNSET


class Paid(MoneyMoved, frozen=True, kw_only=True):
    amount_fen: int | None = None
    factor: str | None = None  # pin, totp, sms
    approved_by: str | None = None
    offline: bool = False
    bill_no: str | None = None
    sms_challenge_id: str | UnsetType = UNSET  # an SMS code's challenge (head office checks)
    clerk_name: str | UnsetType = UNSET


class PaymentRefunded(MoneyMoved, frozen=True, kw_only=True):
    ref_txn_id: str | None = None
    amount_fen: int | None = None
    approved_by: str | None = None  # the approving manager (None before issue 13)
    clerk_name: str | UnsetType = UNSET


class TopupRefunded(MoneyMoved, frozen=True, kw_only=True):
    ref_txn_id: str | None = None
    cash_fen: int | None = None
    approved_by: str | None = None  # the approving manager (None before issue 13)
    clerk_name: str | UnsetType = UNSET


class FreezeChanged(Payload, frozen=True, kw_only=True):
    member_id: str
    reason: str


class PinSet(Payload, frozen=True, kw_only=True):
    member_id: str
    pin_hash: str  # argon2id


class PinLocked(Payload, frozen=True, kw_only=True):
    member_id: str
    locked_until: str


class TotpProvisioned(Payload, frozen=True, kw_only=True):
    member_id: str
    secret_enc: str  # base64 AES-GCM with the chain's data key


SV_TOPPED_UP = declare("sv.topped_up", ToppedUp)
SV_PAID = declare("sv.paid", Paid)
SV_PAYMENT_REFUNDED = declare("sv.payment_refunded", PaymentRefunded)
SV_TOPUP_REFUNDED = declare("sv.topup_refunded", TopupRefunded)
SV_FROZEN = declare("sv.frozen", FreezeChanged)
SV_UNFROZEN = declare("sv.unfrozen", FreezeChanged)
SV_PIN_SET = declare("sv.pin_set", PinSet)
SV_PIN_LOCKED = declare("sv.pin_locked", PinLocked)
SV_TOTP_PROVISIONED = declare("sv.totp_provisioned", TotpProvisioned)
