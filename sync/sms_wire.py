"""The SMS payment-code endpoints' bodies (``/v1/sms/send``, ``/v1/sms/verify``), shared by
the till's client and the server (stored value, issue 6)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from pos_member.errors import DomainError, SmsCodeInvalid, SmsResendTooSoon

SMS_CODE_INVALID = "sms_code_invalid"
SMS_TOO_SOON = "sms_too_soon"


class SmsSendRequest(BaseModel):
    member_id: str = Field(min_length=1, max_length=36)
    phone: str = Field(min_length=11, max_length=20)
    amount_fen: int = Field(gt=0, le=10**10)
    txn_id: str = Field(min_length=1, max_length=64)


class SmsSendResponse(BaseModel):
    challenge_id: str
    expires_in_s: int
    resend_after_s: int


class SmsVerifyRequest(BaseModel):
    challenge_id: str = Field(min_length=1, max_length=36)
    member_id: str = Field(min_length=1, max_length=36)
    amount_fen: int = Field(gt=0, le=10**10)
    txn_id: str = Field(min_length=1, max_length=64)
    code: str = Field(min_length=1, max_length=10)


class SmsVerifyResponse(BaseModel):
    verified: bool
    challenge_id: str


def sms_error(e: DomainError) -> DomainError:
    """The core error a server refusal stands for (``e``: the client's ``ServerRefused``)."""
    code = getattr(e, "code", "")
    if code == SMS_CODE_INVALID:
        return SmsCodeInvalid()
    if code == SMS_TOO_SOON:
        import re

        found = re.search(r"(\d+)", str(getattr(e, "params", {}).get("detail", "")))
        return SmsResendTooSoon(seconds=int(found.group(1)) if found else 60)
    return e
