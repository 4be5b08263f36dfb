"""SMS one-time codes for stored-value payments, served by the central server.

``POST /v1/sms/send`` makes a challenge bound to member, amount and transaction and sends the
code to the phone the till names (the server holds no phone numbers: every till holds the
chain's data key, the server does not); ``POST /v1/sms/verify`` checks a code. The rules are
:mod:`pos_member.sms_codes`; this module only keeps the challenges (``sms_codes``) and
sends. The sender is ``app.state.sms_sender`` (an :class:`SmsSender`): the HTTP gateway adapter
(``sync.sms_gateway``) in production, a fake in the tests. Neither the code nor the full phone
is ever logged.

HQ sends only to a member it saw registered, to the registered phone, within its limits per
phone, till and store (:mod:`sync.server.sms_limits`; 404 ``sms_member_unknown``, 429
``sms_rate_limited``): checked in the first transaction below, so a refusal writes nothing.

Sending is two short transactions around the gateway call (a write transaction held across
an HTTP call would stall every till's sync on this server): the first checks the resend
spacing (per member), retires the earlier codes of the same payment and stores the new
challenge; if the gateway then fails, the second deletes that challenge (it was never sent, so
it must not block a resend) and the till gets a 503 ``sms_unavailable``.
"""

from __future__ import annotations

import logging
from datetime import datetime
from functools import lru_cache
from typing import Annotated, Protocol

from fastapi import APIRouter, Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Connection, delete, insert, select, update

from pos_member import sms_codes
from pos_member.clock import to_ms
from pos_member.ids import uuid7_str
from pos_member.phone import mask_phone, normalise_phone
from pos_member.rules_config import SmsRules, default_rules_path, load_rules
from pos_member.stored_value_errors import SmsResendTooSoon
from sync.server import services, sms_limits
from sync.server.context import DeviceIdentity, ServerContext
from sync.server.errors import (
    SmsCodeRefused,
    SmsGatewayDown,
    SmsTooSoon,
    Unauthorized,
    responses,
)
from sync.server.models import SmsCode
from sync.sms_wire import (
    SmsSendRequest,
    SmsSendResponse,
    SmsVerifyRequest,
    SmsVerifyResponse,
)

log = logging.getLogger(__name__)
_T = SmsCode.__table__


class SmsSender(Protocol):
    def send_code(self, *, phone: str, text: str, message_id: str) -> None:
        """Delivers the text or raises."""
        ...


class LogSender:
    """Development sender: logs that a code went out (masked phone, no code)."""

    def send_code(self, *, phone: str, text: str, message_id: str) -> None:
        log.info("sms %s to %s (code not logged)", message_id, mask_phone(phone))


@lru_cache(maxsize=1)
def sms_rules() -> SmsRules:
    return load_rules(default_rules_path()).stored_value.sms


def _context(request: Request) -> ServerContext:
    ctx: ServerContext = request.app.state.ctx
    return ctx


def _sender(request: Request) -> SmsSender:
    sender: SmsSender | None = getattr(request.app.state, "sms_sender", None)
    return sender if sender is not None else LogSender()


_bearer = HTTPBearer(auto_error=False)


def _device(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None,
                                                     Depends(_bearer)]) -> DeviceIdentity:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized()
    return services.authenticate(_context(request), token=credentials.credentials)


def _row_to_challenge(r: object) -> sms_codes.SmsChallenge:
    return sms_codes.SmsChallenge(
        id=r.id, member_id=r.member_id, amount_fen=r.amount_fen,  # type: ignore[attr-defined]
        txn_id=r.txn_id, salt=bytes.fromhex(r.salt_hex),  # type: ignore[attr-defined]
        code_hash=bytes.fromhex(r.code_hash_hex), sent_at=r.sent_at,  # type: ignore[attr-defined]
        expires_at=r.expires_at, tries=r.tries,  # type: ignore[attr-defined]
        verified_at=r.verified_at)  # type: ignore[attr-defined]


def send_code(ctx: ServerContext, sender: SmsSender, *, device: DeviceIdentity,
              body: SmsSendRequest) -> SmsSendResponse:
    rules = sms_rules()
    phone = normalise_phone(body.phone)
    now = ctx.clock.now()
    with ctx.db.write(exclusive=False) as conn:
        phone_index = sms_limits.registered_phone_index(
            conn, data_key=ctx.db.keys.data_key(conn), member_id=body.member_id, phone=phone,
            txn_id=body.txn_id)
        sms_limits.lock(conn, device=device, member_id=body.member_id, phone_index=phone_index)
        # the spacing is per member: a payment dialog opened again has a new txn_id
        prev_row = conn.execute(
            select(_T).where(_T.c.member_id == body.member_id)
            .order_by(_T.c.sent_at.desc(), _T.c.id.desc()).limit(1)).first()
        previous = _row_to_challenge(prev_row) if prev_row is not None else None
        try:
            challenge, code = sms_codes.issue(
                rules, now=now, challenge_id=uuid7_str(lambda: to_ms(now)),
                member_id=body.member_id, amount_fen=body.amount_fen, txn_id=body.txn_id,
                previous=previous)
        except SmsResendTooSoon as e:
            raise SmsTooSoon(**e.params) from None
        sms_limits.check(conn, device=device, phone_index=phone_index, now=now)
        _retire_earlier(conn, member_id=body.member_id, txn_id=body.txn_id, now=now)
        conn.execute(insert(_T), {
            "id": challenge.id, "device_id": device.id, "store_id": device.store_id,
            "member_id": challenge.member_id, "phone_index": phone_index,
            "amount_fen": challenge.amount_fen, "txn_id": challenge.txn_id,
            "salt_hex": challenge.salt.hex(), "code_hash_hex": challenge.code_hash.hex(),
            "sent_at": now, "expires_at": challenge.expires_at, "tries": 0,
            "verified_at": None})
    yuan = f"¥{body.amount_fen // 100}.{body.amount_fen % 100:02d}"
    try:
        sender.send_code(phone=phone, message_id=challenge.id,
                         text=f"【会员】储值支付验证码{code}，支付金额{yuan}，"
                              f"{rules.valid_seconds // 60}分钟内有效。请勿告诉他人。")
    except Exception as e:  # any sender failure: the code never reached the member
        # the exception's type only: a sender's message might quote the text, with the code
        log.warning("sms %s to %s not sent (%s)", challenge.id, mask_phone(phone),
                    type(e).__name__)
        with ctx.db.write(exclusive=False) as conn:
            conn.execute(delete(_T).where(_T.c.id == challenge.id))
        raise SmsGatewayDown() from None
    return SmsSendResponse(challenge_id=challenge.id, expires_in_s=rules.valid_seconds,
                           resend_after_s=rules.resend_seconds)


def _retire_earlier(conn: Connection, *, member_id: str, txn_id: str, now: datetime) -> None:
    """A new code replaces the old ones of the same payment (``sms_codes.replaced``)."""
    rows = conn.execute(select(_T).where(_T.c.member_id == member_id, _T.c.txn_id == txn_id,
                                         _T.c.verified_at.is_(None),
                                         _T.c.expires_at > now)).all()
    for row in rows:
        after = sms_codes.replaced(_row_to_challenge(row), now=now)
        conn.execute(update(_T).where(_T.c.id == row.id).values(expires_at=after.expires_at))


def verify_code(ctx: ServerContext, *, body: SmsVerifyRequest,
                device: DeviceIdentity) -> SmsVerifyResponse:
    """Checks a code against its challenge. Only a till of the store that asked for the code
    may try it: another store's is refused as an unknown challenge, no try counted (it could
    otherwise spend the member's five tries on a payment it has no part in)."""
    rules = sms_rules()
    now = ctx.clock.now()
    with ctx.db.write(exclusive=False) as conn:  # the code's row is locked: one try at a time
        row = conn.execute(select(_T).where(_T.c.id == body.challenge_id)
                           .with_for_update()).first()
        if row is None or row.store_id != device.store_id:
            raise SmsCodeRefused()
        after, ok = sms_codes.check(rules, _row_to_challenge(row), now=now, code=body.code,
                                    member_id=body.member_id, amount_fen=body.amount_fen,
                                    txn_id=body.txn_id)
        conn.execute(update(_T).where(_T.c.id == row.id)
                     .values(tries=after.tries, verified_at=after.verified_at))
    if not ok:  # committed first: the try counts
        raise SmsCodeRefused()
    return SmsVerifyResponse(verified=True, challenge_id=row.id)


def router() -> APIRouter:
    r = APIRouter(prefix="/sms", tags=["sms"])

    @r.post("/send", response_model=SmsSendResponse,
            responses=responses(401, 409, 404, 429, 503))
    def send(request: Request, body: SmsSendRequest,
             device: Annotated[DeviceIdentity, Depends(_device)]) -> SmsSendResponse:
        """Sends a payment code to the member's phone, bound to member, amount, transaction."""
        return send_code(_context(request), _sender(request), device=device, body=body)

    @r.post("/verify", response_model=SmsVerifyResponse, responses=responses(401, 409))
    def verify(request: Request, body: SmsVerifyRequest,
               device: Annotated[DeviceIdentity, Depends(_device)]) -> SmsVerifyResponse:
        """Checks a code (each try counts; 5 at most; 5 minutes)."""
        return verify_code(_context(request), body=body, device=device)

    return r
