"""Stored-value events: the money ones (every till books them in its ledger), freezes and the
member's payment credentials (a hash or a ciphertext, never the secret)."""

from __future__ import annotations

from pos_member.events.base import Payload, declare


class MoneyMoved(Payload, frozen=True, kw_only=True):
    """The contract of every ``sv.*`` money event: who, the till's transaction id and the two
    deltas in fen; the rest is detail for the ledger's lines (absent in a hand-made event)."""

    member_id: str
    txn_id: str
    principal_delta_fen: int
    bonus_delta_fen: int
    amount_fen: int | None = None
    cash_fen: int | None = None
    method: str | None = None
    method_ref: str | None = None
    first_topup: bool | None = None
    birthday_month: bool | None = None
    factor: str | None = None
    approved_by: str | None = None
    offline: bool = False
    bill_no: str | None = None
    sms_challenge_id: str | None = None
    ref_txn_id: str | None = None
    clerk_name: str | None = None  # absent when the clerk has no ledger name


class ToppedUp(MoneyMoved, frozen=True, kw_only=True):
    pass


class Paid(MoneyMoved, frozen=True, kw_only=True):
    pass


class PaymentRefunded(MoneyMoved, frozen=True, kw_only=True):
    pass


class TopupRefunded(MoneyMoved, frozen=True, kw_only=True):
    pass


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
