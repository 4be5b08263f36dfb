"""A member's second factors for paying with stored value: the payment PIN and the dynamic
code (TOTP). Both work offline. (The SMS code, online only, is :mod:`sms_codes`.)

Secrets never leave this module in clear: the PIN is kept and synced only as its argon2id hash
(``sv.pin_set``), the TOTP secret only encrypted with the chain's data key
(``sv.totp_provisioned``: every till holds that key from enrolment, so a member can pay at
another store). No PIN, code or secret goes into a log, an audit row or a notification.

Verification runs inside the caller's (payment) transaction. A wrong PIN bumps the member's
failure count on this till; the ``max_tries``-th locks the PIN for ``lock_minutes`` with an
``sv.pin_locked`` event (the lock syncs; the count does not); a lock never outlasts
``lock_minutes`` from when a till meets it (one pulled from a till whose clock runs far ahead
is cut to that). A failed verification returns a
:class:`Refusal`: the caller commits (so the count and a lock stick) and then raises it.
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor.hotp import HOTP
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from pos_member import events
from pos_member.clock import until_text
from pos_member.crypto import PiiCipher
from pos_member.db.models import Member, SvCredential
from pos_member.db.prepared import Prepared
from pos_member.db.uow import Transaction, UnitOfWork
from pos_member.errors import (
    DomainError,
    MemberNotFound,
    PermissionDenied,
    StandingEditedAheadElsewhere,
)
from pos_member.permissions import ROLE_LABELS, Action, Clerk, require
from pos_member.pin_policy import check_member_pin
from pos_member.services import member_standing
from pos_member.services.member_cards import PHONE_CTX
from pos_member.services.notifications import enqueue
from pos_member.services.profile_seal import birthday_of
from pos_member.stored_value_errors import (
    InvalidDynamicCode,
    MalformedDynamicCode,
    MemberPinLocked,
    MemberPinNotSet,
    TotpNotProvisioned,
    WrongMemberPin,
)

PIN_SET = events.SV_PIN_SET.type
PIN_LOCKED = events.SV_PIN_LOCKED.type
TOTP_PROVISIONED = events.SV_TOTP_PROVISIONED.type
TOTP_CTX = "member.totp_secret"
ISSUER = "POS Member"

# argon2id, 64 MiB and 2 passes (RFC 9106 second option, one pass fewer): ~115 ms on a till, a
# deliberate cost against guessing a 6-digit PIN from a stolen database.
HASHER = PasswordHasher(time_cost=2, memory_cost=64 * 1024, parallelism=1)


@dataclass(frozen=True, slots=True)
class Refusal:
    """A failed verification: commit the transaction (failure count, lock), then raise."""

    error: DomainError


# Run straight on the driver (db/prepared.py): these are inside every PIN or dynamic-code
# payment, the hot path.
_CREDS = SvCredential.__table__
_FACTORS_Q = Prepared(
    select(_CREDS.c.pin_hash, _CREDS.c.pin_failures, _CREDS.c.pin_locked_until,
           _CREDS.c.totp_secret_enc, _CREDS.c.totp_last_step)
    .where(_CREDS.c.member_id == bindparam("member_id")))
_SET_TRIES = Prepared(
    update(_CREDS).where(_CREDS.c.member_id == bindparam("b_member_id"))
    .values(pin_failures=bindparam("failures"), pin_locked_until=bindparam("until")))
# A dynamic code accepted: its step is used up, and the wrong-tries count starts again.
_TOTP_USED = Prepared(
    update(_CREDS).where(_CREDS.c.member_id == bindparam("b_member_id"))
    .values(totp_last_step=bindparam("step"), pin_failures=0))

# -- PIN -----------------------------------------------------------------------------------


def hash_pin(pin: str) -> str:
    """The slow salted hash (the deliberate 50–250 ms); call it outside a write transaction."""
    return HASHER.hash(pin)


def _approver(approver: Clerk) -> None:
    if not approver.may(Action.SV_MANAGE_CREDENTIALS):
        raise PermissionDenied(role=ROLE_LABELS[approver.role],
                               action=Action.SV_MANAGE_CREDENTIALS.value)


def _member(session: Session, member_id: str) -> Member:
    m = session.get(Member, member_id)
    if m is None or m.status != "active":
        raise MemberNotFound(query=member_id)
    # An erased member gets no PIN or dynamic-code secret again (docs/rules.md, "Erasure").
    member_standing.check(session.connection(), member_id, member_standing.MAINTAIN,
                          member_no=m.member_no)
    return m


def _credential(session: Session, member_id: str) -> SvCredential:
    cred = session.get(SvCredential, member_id)
    if cred is None:
        cred = SvCredential(member_id=member_id, pin_failures=0, totp_last_step=0)
        session.add(cred)
    return cred


def set_member_pin(uow: UnitOfWork, *, clerk: Clerk, approver: Clerk, member_id: str,
                   pin: str) -> None:
    """Sets or resets the member's payment PIN (the member types it; a manager is present:
    ``approver``, from :func:`pos_member.services.stored_value.approve`). Clears a lock."""
    require(clerk, Action.SV_TOPUP)
    _approver(approver)
    with uow.read() as s:
        m = _member(s, member_id)
        phone = uow.cipher.decrypt(m.phone_enc, context=PHONE_CTX)
        check_member_pin(pin, phone=phone,  # pos_member/pin_policy.py
                         birthday=birthday_of(uow.cipher, m.birthday_enc))
    pin_hash = hash_pin(pin)
    with uow.begin() as tx:
        _member(tx.session, member_id)
        cred = _credential(tx.session, member_id)
        ev = tx.record(clerk, events.SV_PIN_SET,
                       events.PinSet(member_id=member_id, pin_hash=pin_hash), entity_id=member_id)
        if (cred.pin_hlc or "") >= ev.hlc:  # set by a till whose clock runs far ahead: this
            raise StandingEditedAheadElsewhere()  # one would lose there, the old PIN paying on
        cred.pin_hash, cred.pin_hlc = pin_hash, ev.hlc
        cred.pin_failures, cred.pin_locked_until = 0, None
        tx.audit(clerk, PIN_SET, "member", member_id,
                 after={"approved_by": approver.staff_id}, event=ev)
        enqueue(tx, member_id=member_id, kind=PIN_SET, params={}, dedupe_key=f"sv:{ev.id}")
        tx.commit()


def has_pin(uow: UnitOfWork, member_id: str) -> bool:
    with uow.read() as s:
        cred = s.get(SvCredential, member_id)
        return cred is not None and cred.pin_hash is not None


def verify_pin(tx: Transaction, clerk: Clerk, *, member_id: str, pin: str) -> Refusal | None:
    """None when the PIN is right (the failure count resets); else a :class:`Refusal`."""
    cred = _FACTORS_Q.first(tx.conn, {"member_id": member_id})
    if cred is None or cred.pin_hash is None:
        return Refusal(MemberPinNotSet())
    locked = _locked(tx, cred, member_id)
    if locked is not None:
        return locked
    try:
        ok = HASHER.verify(cred.pin_hash, pin)
    except (VerificationError, InvalidHashError):
        ok = False
    if ok:
        if cred.pin_failures:
            _SET_TRIES.run(tx.conn, {"b_member_id": member_id, "failures": 0,
                                         "until": None})
        return None
    return _wrong_try(tx, clerk, member_id, cred.pin_failures,
                      lambda left: WrongMemberPin(left=left))


def _locked(tx: Transaction, cred: Any, member_id: str) -> Refusal | None:
    """The refusal while the member's factors are locked. A lock never outlasts the rules'
    ``lock_minutes`` from now: one pulled from a till whose clock runs far ahead (or set here
    before this till's clock went back) is cut to that, committed with the refusal."""
    until = cred.pin_locked_until
    now = tx.clock.now()
    if until is None or until <= now:
        return None
    longest = now + timedelta(minutes=tx.rules.stored_value.pin.lock_minutes)
    if until > longest:
        until = longest
        _SET_TRIES.run(tx.conn, {"b_member_id": member_id, "failures": cred.pin_failures,
                                 "until": until})
    return Refusal(MemberPinLocked(until=until_text(tx.clock, until)))


def _wrong_try(tx: Transaction, clerk: Clerk, member_id: str, failures: int,
               wrong: Callable[[int], DomainError]) -> Refusal:
    """One more wrong PIN or dynamic code: the count goes up, the ``max_tries``-th locks both
    factors for ``lock_minutes`` (an ``sv.pin_locked`` event, audited, the member told)."""
    rules = tx.rules.stored_value.pin
    failures += 1
    if failures < rules.max_tries:
        _SET_TRIES.run(tx.conn, {"b_member_id": member_id, "failures": failures,
                                     "until": None})
        return Refusal(wrong(rules.max_tries - failures))
    until = tx.clock.now() + timedelta(minutes=rules.lock_minutes)
    _SET_TRIES.run(tx.conn, {"b_member_id": member_id, "failures": 0, "until": until})
    payload = events.PinLocked(member_id=member_id, locked_until=until.isoformat())
    ev = tx.record(clerk, events.SV_PIN_LOCKED, payload, entity_id=member_id)
    tx.audit(clerk, PIN_LOCKED, "member", member_id, after=ev.payload, event=ev)
    enqueue(tx, member_id=member_id, kind=PIN_LOCKED, params={"minutes": rules.lock_minutes},
            dedupe_key=f"sv:{ev.id}")
    return Refusal(MemberPinLocked(until=until_text(tx.clock, until)))


# -- TOTP (RFC 6238) -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TotpProvisioning:
    """Shown once at the till as a QR code; the secret is not kept anywhere in clear."""

    uri: str  # otpauth://totp/...: what the authenticator app scans
    secret: str  # base32, for typing into an app that cannot scan


def totp_at(secret_b32: str, unix_time: int, *, step: int = 30, digits: int = 6,
            digest: str = "sha1") -> str:
    """The RFC 6238 code at ``unix_time``."""
    import hashlib

    return pyotp.TOTP(secret_b32, digits=digits, interval=step,
                      digest=getattr(hashlib, digest)).at(unix_time)


def totp_key(secret_b32: str) -> bytes:
    """The secret's bytes, decoded as pyotp decodes them (padded, any case), refused as pyotp
    refuses it when shorter than 112 bits."""
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8), casefold=True)
    if len(key) * 8 < 112:
        raise ValueError("Secrets must be at least 112 bits after decoding")
    return key


def totp_code(key: bytes, counter: int) -> str:
    """The 6-digit HOTP code (RFC 4226, HMAC-SHA1) of ``key`` at ``counter`` — a TOTP step:
    ``totp_at`` at ``counter * step``, by ``cryptography``'s HOTP on the key decoded once rather
    than pyotp's objects decoding the secret at every step (a checkout checks two or three steps;
    tests compare the two). Key length is ``totp_key``'s check (pyotp's 112 bits)."""
    return HOTP(key, 6, SHA1(), enforce_key_length=False).generate(counter).decode()


def provision_totp(uow: UnitOfWork, *, clerk: Clerk, approver: Clerk,
                   member_id: str) -> TotpProvisioning:
    """A new secret for the member's authenticator app (replaces an old one)."""
    require(clerk, Action.SV_TOPUP)
    _approver(approver)
    secret = pyotp.random_base32()  # 160 bits
    with uow.begin() as tx:
        m = _member(tx.session, member_id)
        enc = uow.cipher.encrypt(secret, context=TOTP_CTX)
        ev = tx.record(clerk, events.SV_TOTP_PROVISIONED,
                       events.TotpProvisioned(member_id=member_id,
                                              secret_enc=base64.b64encode(enc).decode()),
                       entity_id=member_id)
        cred = _credential(tx.session, member_id)
        if (cred.totp_hlc or "") >= ev.hlc:  # as a PIN (set_member_pin)
            raise StandingEditedAheadElsewhere()
        cred.totp_secret_enc, cred.totp_hlc, cred.totp_last_step = enc, ev.hlc, 0
        tx.audit(clerk, TOTP_PROVISIONED, "member", member_id,
                 after={"approved_by": approver.staff_id}, event=ev)
        enqueue(tx, member_id=member_id, kind=TOTP_PROVISIONED, params={},
                dedupe_key=f"sv:{ev.id}")
        tx.commit()
        step = uow.rules.stored_value.totp.step_seconds
        uri = pyotp.TOTP(secret, interval=step).provisioning_uri(name=m.member_no,
                                                                  issuer_name=ISSUER)
    return TotpProvisioning(uri, secret)


def has_totp(uow: UnitOfWork, member_id: str) -> bool:
    with uow.read() as s:
        cred = s.get(SvCredential, member_id)
        return cred is not None and cred.totp_secret_enc is not None


def check_totp_format(code: str) -> str:
    code = code.strip()
    if len(code) != 6 or not code.isascii() or not code.isdigit():
        raise MalformedDynamicCode()
    return code


def verify_totp(tx: Transaction, clerk: Clerk, cipher: PiiCipher, *, member_id: str,
                code: str) -> Refusal | None:
    """None when ``code`` is the member's code of this step or a neighbour within
    ``window_steps`` and no later than a code accepted before (each code is accepted once).
    A wrong code counts like a wrong PIN: the ``max_tries``-th locks both (a 6-digit code
    must not be guessed at the till by trying them all)."""
    code = check_totp_format(code)
    rules = tx.rules.stored_value.totp
    conn = tx.conn
    cred = _FACTORS_Q.first(conn, {"member_id": member_id})
    if cred is None or cred.totp_secret_enc is None:
        return Refusal(TotpNotProvisioned())
    locked = _locked(tx, cred, member_id)
    if locked is not None:
        return locked
    key = totp_key(cipher.decrypt(cred.totp_secret_enc, context=TOTP_CTX))
    now_step = int(tx.clock.now().timestamp()) // rules.step_seconds
    for step in range(now_step - rules.window_steps, now_step + rules.window_steps + 1):
        if step <= cred.totp_last_step:
            continue
        if hmac.compare_digest(totp_code(key, step), code):
            _TOTP_USED.run(conn, {"b_member_id": member_id, "step": step})
            return None
    return _wrong_try(tx, clerk, member_id, cred.pin_failures,
                      lambda left: InvalidDynamicCode(left=left))
