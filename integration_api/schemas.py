"""The wire shapes of the local integration API: what the OpenAPI description says
(docs/openapi-integration.json, checked against these by a test).

Amounts are integer fen, strictly: ``12.5`` or ``"1250"`` is refused, never rounded. Unknown
fields are refused, so a typo in a field name is an error instead of a silently ignored value.
The watched folder reads its JSON files with the same models.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from pos_member.integration import reports

Fen = StrictInt
Label = StrictStr


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LineIn(_In):
    line: Label = Field(min_length=1, max_length=20, description="the line's id on the bill")
    category: Label = Field(min_length=1, max_length=20)
    amount_fen: Fen = Field(ge=0, description="the line's amount in fen")


class TenderIn(_In):
    kind: Label = Field(min_length=1, max_length=20, description=(
        "cash, card, wechat, …; stored_value for a payment taken through /v1/payments"))
    amount_fen: Fen = Field(gt=0)
    payment_txn_id: StrictStr | None = Field(None, min_length=1, max_length=64, description=(
        "a stored_value tender only: the txn_id of its /v1/payments request"))


class RefundLineIn(_In):
    line: Label = Field(min_length=1, max_length=20)
    amount_fen: Fen = Field(gt=0)


class SaleIn(_In):
    """A sale rung up at the POS. ``amount_fen`` is the bill before points; the lines add up
    to it, the tenders to what the customer paid (the bill less ``redeem_points``' value)."""

    txn_id: StrictStr = Field(min_length=1, max_length=64,
                              description="the POS's transaction id: the idempotency key")
    bill_no: StrictStr = Field(min_length=1, max_length=32)
    time: StrictStr = Field(description="ISO 8601 with offset, e.g. 2026-12-04T10:15:00+08:00")
    amount_fen: Fen = Field(gt=0)
    member: StrictStr | None = Field(None, max_length=64, description=(
        "member code (QR payload), member number or phone; null for a walk-in"))
    guide: StrictStr | None = Field(None, max_length=20, description="the guide's staff number")
    redeem_points: Fen = Field(0, ge=0)
    lines: list[LineIn] = Field(min_length=1, max_length=reports.MAX_LINES)
    tenders: list[TenderIn] = Field(min_length=1, max_length=reports.MAX_TENDERS)

    def report(self) -> reports.SaleReport:
        return reports.SaleReport(
            self.txn_id, self.bill_no, self.time, self.amount_fen,
            tuple(reports.Line(x.line, x.category, x.amount_fen) for x in self.lines),
            tuple(reports.Tender(t.kind, t.amount_fen, t.payment_txn_id) for t in self.tenders),
            self.member, self.guide, self.redeem_points)


class RefundIn(_In):
    """The whole bill (neither ``lines`` nor ``amount_fen``), an amount, or some lines."""

    txn_id: StrictStr = Field(min_length=1, max_length=64)
    bill_no: StrictStr = Field(min_length=1, max_length=32)
    lines: list[RefundLineIn] = Field(default_factory=list, max_length=reports.MAX_LINES)
    amount_fen: Fen | None = Field(None, gt=0)

    def report(self) -> reports.RefundReport:
        return reports.RefundReport(
            self.txn_id, self.bill_no,
            tuple(reports.RefundLine(x.line, x.amount_fen) for x in self.lines), self.amount_fen)


class LookupIn(_In):
    code: StrictStr = Field(min_length=1, max_length=64,
                            description="member code (QR payload), member number or phone")


class QuoteIn(_In):
    member: StrictStr | None = Field(None, max_length=64)
    amount_fen: Fen = Field(gt=0)
    redeem_points: Fen = Field(0, ge=0)


class PaymentIn(_In):
    """Asks the till to take ``amount_fen`` from the member's stored value for a bill: the
    till shows its pay dialog, the cashier and the member finish it there (the member's second
    factor is entered at the till, never sent over the API)."""

    txn_id: StrictStr = Field(min_length=1, max_length=64)
    bill_no: StrictStr = Field(min_length=1, max_length=32)
    member: StrictStr = Field(min_length=1, max_length=64)
    amount_fen: Fen = Field(gt=0)


# -- answers --------------------------------------------------------------------------------


class ErrorOut(BaseModel):
    error: str = Field(description="a stable name: member_not_found, txn_id_reused, …")
    message: str
    fields: list[str] | None = None


class MemberOut(BaseModel):
    member_no: str
    tier: str
    status: str = Field(description=(
        "active (served as usual), frozen (a sale is recorded but earns no points; redeeming "
        "points or a coupon and paying with stored value are refused) or blacklisted (every "
        "sale naming the member, redeeming, top-up and payment is refused): the member's "
        "standing as the till's card shows it. New values may be added: treat one you do not "
        "know as not active. An erased member is not answered (422 member_erased_error)."))
    phone_masked: str
    name_masked: str | None
    birthday_month: int | None
    points: int
    stored_value_fen: int
    stored_value_frozen: bool
    stored_value_blocked: bool
    phone: str | None = Field(None, description="only with the personal scope")
    name: str | None = Field(None, description="only with the personal scope")
    birthday: date | None = Field(None, description="only with the personal scope")


class SaleOut(BaseModel):
    txn_id: str
    bill_no: str
    sale_id: str
    amount_fen: int
    redeem_points: int
    redeem_fen: int
    paid_fen: int
    member_no: str | None
    points_earned: int
    points_balance: int | None
    tier: str | None
    tier_upgraded: bool
    repeated: bool = Field(description="true: this transaction was reported before; nothing "
                                       "was written now")


class MoneyOut(BaseModel):
    kind: str = Field(description="stored_value (back into the member's account) or the "
                                  "bill's other tender, as the sale named it")
    amount_fen: int


class RefundOut(BaseModel):
    txn_id: str
    bill_no: str
    refund_fen: int
    refunded_total_fen: int
    points_clawed: int
    points_restored: int
    points_balance: int | None
    given_back: list[MoneyOut] = Field(description=(
        "how refund_fen goes back: stored value first (up to what the bill took from the "
        "member's account less earlier refunds), the rest by the bill's other tender, which "
        "the POS pays out"))
    stored_value_fen: int | None = Field(description=(
        "the member's stored value after it (null: none went back)"))
    repeated: bool


class QuoteOut(BaseModel):
    member_no: str | None
    cap_points: int = Field(description="the most points this bill may redeem")
    spendable_points: int
    redeem_step: int
    redeem_points: int
    paid_fen: int
    points_earned: int


class GuideOut(BaseModel):
    code: str
    name: str
    on_shift: bool
    target: int
    registrations: int
    sales: int
    member_sales: int
    ratio_permille: int | None
    amount_fen: int
    member_amount_fen: int


class DayOut(BaseModel):
    day: date
    sales: int
    member_sales: int
    ratio_permille: int | None = Field(description="会销比 in tenths of a percent")
    ratio_target_permille: int
    amount_fen: int
    member_amount_fen: int
    share_permille: int | None
    registrations: int
    guides: list[GuideOut]


class PaymentOut(BaseModel):
    status: Literal["paid", "cancelled"]
    txn_id: str
    amount_fen: int
    principal_fen: int = 0
    bonus_fen: int = 0
    balance_fen: int | None = None


class HealthOut(BaseModel):
    store_id: str
    device_id: str
    scopes: list[str]
    version: str


class TokenOut(BaseModel):
    token: str = Field(description="shown this once: the till keeps only its hash")
    scopes: list[str]
    issued_at: str
