"""SMS one-time codes for stored-value payments: the rules, independent of where they are kept.

The central server keeps the challenges (``sync/server/sms.py``) and sends the codes; this
module decides. A code is ``code_length`` random digits, valid ``valid_seconds``, at most
``max_tries`` checks, and bound to the member, the amount and the till transaction: a code sent
for ¥12.00 on transaction A does not pay ¥1,200.00 or transaction B. Asking again for the same
member within ``resend_seconds`` of an unverified code is refused, whatever the transaction (a
payment dialog opened again has a new transaction id; counting per transaction would let it
text the member every few seconds). A new code for the same member and transaction replaces
the old one: the older stops working. A code the SMS gateway did not take was never sent: it
is dropped, so it neither blocks a resend nor works. Only an HMAC of the code (keyed with a
random per-challenge salt) is stored; the code itself goes to the member's phone and nowhere
else.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import os
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from pos_member.rules_config import SmsRules
from pos_member.stored_value_errors import SmsCodeInvalid, SmsResendTooSoon


@dataclass(frozen=True, slots=True)
class SmsChallenge:
    id: str
    member_id: str
    amount_fen: int
    txn_id: str
    salt: bytes
    code_hash: bytes
    sent_at: datetime
    expires_at: datetime
    tries: int = 0
    verified_at: datetime | None = None


def _digest(salt: bytes, code: str, member_id: str, amount_fen: int, txn_id: str) -> bytes:
    msg = "\x00".join((code, member_id, str(amount_fen), txn_id)).encode()
    return hmac.new(salt, msg, hashlib.sha256).digest()


def issue(rules: SmsRules, *, now: datetime, challenge_id: str, member_id: str,
          amount_fen: int, txn_id: str,
          previous: SmsChallenge | None) -> tuple[SmsChallenge, str]:
    """A new challenge and its code (to send, never to store). ``previous``: the last challenge
    sent to the same member, for any transaction, if any (resend spacing: refused with
    ``SmsResendTooSoon`` while it is unverified and younger than ``resend_seconds``)."""
    if previous is not None and previous.verified_at is None:
        wait = previous.sent_at + timedelta(seconds=rules.resend_seconds) - now
        if wait > timedelta(0):
            raise SmsResendTooSoon(seconds=math.ceil(wait.total_seconds()))
    code = f"{secrets.randbelow(10 ** rules.code_length):0{rules.code_length}d}"
    salt = os.urandom(16)
    challenge = SmsChallenge(
        id=challenge_id, member_id=member_id, amount_fen=amount_fen, txn_id=txn_id, salt=salt,
        code_hash=_digest(salt, code, member_id, amount_fen, txn_id), sent_at=now,
        expires_at=now + timedelta(seconds=rules.valid_seconds))
    return challenge, code


def replaced(challenge: SmsChallenge, *, now: datetime) -> SmsChallenge:
    """``challenge`` once a new code for its member and transaction was issued at ``now``: it
    accepts nothing any more (it expires now)."""
    if challenge.verified_at is not None or challenge.expires_at <= now:
        return challenge
    return replace(challenge, expires_at=now)


def check(rules: SmsRules, challenge: SmsChallenge, *, now: datetime, code: str,
          member_id: str, amount_fen: int, txn_id: str) -> tuple[SmsChallenge, bool]:
    """The challenge after this try, and whether the code is accepted. Every try counts; an
    expired, used-up or already verified challenge accepts nothing."""
    if challenge.verified_at is not None or now >= challenge.expires_at \
            or challenge.tries >= rules.max_tries:
        return challenge, False
    tried = replace(challenge, tries=challenge.tries + 1)
    ok = hmac.compare_digest(
        challenge.code_hash,
        _digest(challenge.salt, code.strip(), member_id, amount_fen, txn_id))
    if ok:
        return replace(tried, verified_at=now), True
    return tried, False


def require_valid(accepted: bool) -> None:
    if not accepted:
        raise SmsCodeInvalid()


PHONE_CHANGE_TXN = "phone:"


def phone_change_txn(phone_index: str) -> str:
    """The transaction a phone change's SMS code is bound to (issue 20): the new phone's blind
    index, so a code sent to one phone never confirms another. HQ sends it to a phone no
    member holds (``sync/server/sms_limits.registered_phone_index``)."""
    return PHONE_CHANGE_TXN + phone_index[:32]
