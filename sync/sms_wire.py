"""The SMS payment-code endpoints' bodies (``/v1/sms/send``, ``/v1/sms/verify``), shared by
the till's client and the server (stored value, issue 6)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from pos_member.errors import DomainError
from pos_member.stored_value_errors import (
    SmsCodeInvalid,
    SmsMemberNotAtHq,
    SmsResendTooSoon,
    SmsTooMany,
)
from sync.protocol import Text

PHONE = r"^1[3-9][0-9]{9}$"  # pos_member.phone's mobile number, as the till keeps it

SMS_CODE_INVALID = "sms_code_invalid"
SMS_TOO_SOON = "sms_too_soon"
SMS_RATE_LIMITED = "sms_rate_limited"  # 429: HQ's per phone/till/store limit (Retry-After)
SMS_MEMBER_UNKNOWN = "sms_member_unknown"  # 404: no registration of member + phone at HQ
SMS_UNAVAILABLE = "sms_unavailable"  # 503: HQ's SMS gateway did not take the code


class SmsSendRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    member_id: Text = Field(min_length=1, max_length=36)
    phone: str = Field(pattern=PHONE, description="the member's mobile number, 11 digits")
    amount_fen: int = Field(gt=0, le=10**10)
    txn_id: Text = Field(min_length=1, max_length=64)


class SmsSendResponse(BaseModel):
    challenge_id: str
    expires_in_s: int
    resend_after_s: int


class SmsVerifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    challenge_id: Text = Field(min_length=1, max_length=36)
    member_id: Text = Field(min_length=1, max_length=36)
    amount_fen: int = Field(gt=0, le=10**10)
    txn_id: Text = Field(min_length=1, max_length=64)
    code: Text = Field(min_length=1, max_length=10)


class SmsVerifyResponse(BaseModel):
    verified: bool
    challenge_id: str


def sms_error(e: DomainError) -> DomainError:
    """The core error a server refusal stands for (``e``: the client's ``ServerRefused``)."""
    import re

    code = getattr(e, "code", "")
    found = re.search(r"(\d+) s\b", str(getattr(e, "params", {}).get("detail", "")))
    seconds = int(found.group(1)) if found else 60
    if code == SMS_CODE_INVALID:
        return SmsCodeInvalid()
    if code == SMS_TOO_SOON:
        return SmsResendTooSoon(seconds=seconds)
    if code == SMS_RATE_LIMITED:
        return SmsTooMany(minutes=-(-seconds // 60))
    if code == SMS_MEMBER_UNKNOWN:
        return SmsMemberNotAtHq()
    return e
