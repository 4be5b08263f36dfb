"""Member notifications (SPEC §3.4): an outbox written in the change's own transaction, sent
after commit through a channel.

- :func:`enqueue` adds one row to ``notification_outbox`` inside the caller's transaction; the
  ``dedupe_key`` is unique, so one change queues one message however often it is retried. Only
  amounts, dates and kinds go in ``params`` — never a PIN, a code or a secret.
- :func:`deliver_due` sends what is due through a :class:`Channel`. Each row is first *claimed*
  (its next attempt moved a lease ahead, committed) so two dispatchers never send one row; it is
  marked sent right after the channel accepted it. The row's id travels with the message as the
  gateway's idempotency key, so even a crash between "accepted" and "marked" cannot make the
  gateway deliver it twice. A failure is retried with exponential backoff (30 s, 1 min, 2 min, …
  capped at 1 h); after ``MAX_ATTEMPTS`` the row is ``failed`` and stays for the record. Any
  exception while sending one row counts as that row's failure (logged by type only, as its
  text may hold a phone number); the other rows of the run are still sent.
- Only the till that made a change notifies: events pulled from other tills queue nothing.
- A marketing message (``MARKETING_KINDS``) still waiting when the member no longer agrees to
  marketing (withdrawn here or at another till, or erased) is never sent: it is marked
  ``failed`` (``marketing consent withdrawn``).

Channels: :class:`LogChannel` (development; logs the masked phone and the text) here, the HTTP
SMS gateway adapter in ``sync/sms_gateway.py`` (the core imports no HTTP library).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from pos_member import events
from pos_member.db.models import Member, NotificationOutbox
from pos_member.db.prepared import Prepared
from pos_member.db.uow import Transaction, UnitOfWork
from pos_member.errors import ChannelError
from pos_member.money import format_yuan
from pos_member.phone import mask_phone
from pos_member.services.member_cards import PHONE_CTX

log = logging.getLogger(__name__)

PENDING, SENT, FAILED = "pending", "sent", "failed"
# Marketing messages go only to a member who agreed to marketing (coupon_notices.tell checks
# when queuing, deliver_due again before sending); the others are service messages.
# points.reminder and member_day.invite: the member card's suggested action
# (services/member_actions.py, issue 19), they and recall.miss_you a recall campaign's message
# (services/recall_messages.py).
MARKETING_KINDS = ("coupon.offer", "points.reminder", "member_day.invite", "recall.miss_you")
CONSENT_WITHDRAWN = "marketing consent withdrawn"
MAX_ATTEMPTS = 10
LEASE = timedelta(minutes=2)
_FIRST_RETRY_S = 30
_MAX_RETRY_S = 3600
_OUTBOX = NotificationOutbox.__table__

Params = Mapping[str, str | int]

# The SMS text per kind, Chinese (the members' language); ``{..._fen}`` params are formatted as
# yuan. One table for every area, so a text never depends on which modules were imported.
TEMPLATES: dict[str, str] = {
    events.SV_TOPPED_UP.type:
        "【会员】您的储值卡充值{amount_fen}，赠送{bonus_fen}，当前余额{balance_fen}。",
    events.SV_PAID.type:
        "【会员】您的储值卡消费{amount_fen}，余额{balance_fen}。如非本人操作请联系门店。",
    "sv.paid_with_points":  # a checkout's (stored_value.PAID_WITH_POINTS)
        "【会员】您的储值卡消费{amount_fen}，余额{balance_fen}；积分{change}，当前积分{points}。"
        "如非本人操作请联系门店。",
    events.SV_PAYMENT_REFUNDED.type:
        "【会员】您的储值卡消费退款{amount_fen}已退回，当前余额{balance_fen}。",
    events.SV_TOPUP_REFUNDED.type:
        "【会员】您的储值卡充值已退款{cash_fen}，当前余额{balance_fen}。",
    events.SV_FROZEN.type:
        "【会员】您的储值卡已被冻结，如有疑问请联系门店。",
    events.SV_UNFROZEN.type:
        "【会员】您的储值卡已解除冻结。",
    events.SV_PIN_LOCKED.type:
        "【会员】支付密码或动态码错误次数过多，已锁定{minutes}分钟。"
        "如非本人操作请联系门店。",
    events.SV_PIN_SET.type:
        "【会员】您的储值卡支付密码已设置。如非本人操作请联系门店。",
    events.SV_TOTP_PROVISIONED.type:
        "【会员】您的动态付款码已绑定新设备。如非本人操作请联系门店。",
    "points.expiring": "【会员】您有{points}积分将于{date}过期，请及时使用。",
    "points.changed": "【会员】您的积分{change}（{reason}），当前积分{balance}。",
    "coupon.issued": "【会员】您获得一张{name}，有效期至{date}，到店出示会员码即可使用。",
    "coupon.pack": "【会员】欢迎入会！{count}张新人券已放入您的会员卡，到店出示会员码即可使用。",
    "coupon.offer": "【会员】送您一张{name}，有效期至{date}，期待您再次光临。回T退订",
    "coupon.expiring": "【会员】您的{name}将于{date}到期，请及时使用。",
    "points.reminder": "【会员】您还有{points}积分可用，欢迎到店使用。回T退订",
    "member_day.invite": "【会员】诚邀您参加本店会员日，会员专享礼遇等您来。回T退订",
    "recall.miss_you": "【会员】好久不见，我们很想念您！欢迎回店看看新品。回T退订",
    "member.renumbered": "【会员】您的会员号已由{old_no}更新为{new_no}，积分与余额不变。",
}


def render(kind: str, params: Params) -> str:
    """The message text; amounts (params ending ``_fen``) shown as yuan."""
    shown = {k: format_yuan(int(v)) if k.endswith("_fen") else v for k, v in params.items()}
    template = TEMPLATES.get(kind)
    if template is None:
        return f"【会员】{kind} " + " ".join(f"{k}={v}" for k, v in sorted(shown.items()))
    try:
        return template.format(**shown)
    except (KeyError, IndexError):
        return template


# In the transaction of every change that tells the member (a top-up, a payment): run straight
# on the driver (db/prepared.py).
_ENQUEUE = Prepared(sqlite_insert(_OUTBOX).on_conflict_do_nothing(index_elements=["dedupe_key"]),
                    column_keys=("id", "member_id", "kind", "params", "dedupe_key", "status",
                                 "attempts", "next_attempt_at", "created_at", "sent_at",
                                 "last_error"))


def enqueue(tx: Transaction, *, member_id: str, kind: str, params: dict[str, str | int],
            dedupe_key: str) -> bool:
    """Queues one notification in the caller's transaction (sent after its commit). Returns
    False, queuing nothing, when ``dedupe_key`` was used already."""
    for k, v in params.items():
        if isinstance(v, bool) or not isinstance(v, (str, int)):
            raise TypeError(f"notification param {k!r} must be str or int")
    now = tx.clock.now()
    return _ENQUEUE.run(
        tx.conn,
        {"id": tx.new_id(), "member_id": member_id, "kind": kind, "params": dict(params),
         "dedupe_key": dedupe_key, "status": PENDING, "attempts": 0,
         "next_attempt_at": now, "created_at": now, "sent_at": None, "last_error": None},
    ) == 1


@dataclass(frozen=True, slots=True)
class Notification:
    """One message for a channel. ``id`` is stable across retries: the idempotency key."""

    id: str
    member_id: str
    phone: str | None  # None: the member's phone is not on this till
    kind: str
    params: dict[str, str | int]
    text: str


class Channel(Protocol):
    name: str

    def send(self, message: Notification) -> None:
        """Delivers or raises :class:`ChannelError`. Must accept a repeated ``message.id``
        without delivering twice."""
        ...


class LogChannel:
    """Development channel: logs the message with the phone masked."""

    name = "log"

    def __init__(self) -> None:
        self.sent: list[Notification] = []

    def send(self, message: Notification) -> None:
        phone = mask_phone(message.phone) if message.phone else "-"
        log.info("notify %s %s %s: %s", message.id, phone, message.kind, message.text)
        self.sent.append(message)


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    sent: int
    retried: int
    failed: int


def _no_marketing(conn: Any, member_ids: set[str]) -> set[str]:
    """Of ``member_ids``, those who have not (or no longer) agreed to marketing."""
    if not member_ids:
        return set()
    agreed = set(conn.scalars(select(Member.id).where(
        Member.id.in_(member_ids), Member.marketing_consent.is_(True))))
    return member_ids - agreed


def backoff(attempts: int) -> timedelta:
    """Delay before attempt ``attempts + 1`` (attempts ≥ 1): 30 s doubling, capped at 1 h."""
    return timedelta(seconds=min(_MAX_RETRY_S, _FIRST_RETRY_S * 2 ** max(0, attempts - 1)))


def deliver_due(uow: UnitOfWork, channel: Channel, *, limit: int = 50,
                phone_of: Callable[[str], str | None] | None = None,
                budget: timedelta = LEASE / 2) -> DeliveryReport:
    """Sends up to ``limit`` due notifications through ``channel``. Call it after commits and on
    a timer (background thread; it holds the write lock only for short transactions).

    Each row stands alone: whatever goes wrong with one (the channel refusing it, its phone not
    readable, an error nobody expected) is retried with backoff like a channel failure, and the
    run goes on with the others. A row that has had ``MAX_ATTEMPTS`` attempts is ``failed``,
    even when the attempts never came back (a dispatcher that died after its claim). Only the
    database failing stops the run (its rows wait for their lease to end).

    A run that has taken ``budget`` (half the claim's lease: a slow gateway times out at 5 s a
    message) gives back the rows it has not tried yet, due at once and their attempt not
    counted, so no claim runs out while its row is still waiting here."""
    started = time.monotonic()
    now = uow.clock.now()
    gave_up_before = 0
    with uow.begin() as tx:
        conn = tx.conn
        due = conn.execute(
            select(_OUTBOX).where(_OUTBOX.c.status == PENDING,
                                  _OUTBOX.c.next_attempt_at <= now)
            .order_by(_OUTBOX.c.next_attempt_at).limit(limit)
        ).all()
        rows: list[Any] = []
        withdrawn = _no_marketing(conn, {r.member_id for r in due if r.kind in MARKETING_KINDS})
        for r in due:
            if r.kind in MARKETING_KINDS and r.member_id in withdrawn:
                # consent withdrawn (or erased) since it was queued: never sent
                conn.execute(update(_OUTBOX).where(_OUTBOX.c.id == r.id).values(
                    status=FAILED, last_error=CONSENT_WITHDRAWN))
                gave_up_before += 1
                continue
            if r.attempts >= MAX_ATTEMPTS:  # its last attempt never reported back
                conn.execute(update(_OUTBOX).where(_OUTBOX.c.id == r.id)
                             .values(status=FAILED, last_error=r.last_error or "no outcome"))
                gave_up_before += 1
                continue
            # claim: another dispatcher will not see it until the lease ends
            conn.execute(update(_OUTBOX).where(_OUTBOX.c.id == r.id)
                         .values(attempts=r.attempts + 1, next_attempt_at=now + LEASE))
            rows.append(r)
        tx.commit()
    lookup = phone_of or _phone_lookup(uow)
    sent = retried = 0
    failed = gave_up_before
    for i, r in enumerate(rows):
        if i and time.monotonic() - started > budget.total_seconds():
            _release(uow, rows[i:])
            break
        attempts = r.attempts + 1
        ours = (_OUTBOX.c.id == r.id) & (_OUTBOX.c.status == PENDING)
        try:
            message = Notification(r.id, r.member_id, lookup(r.member_id), r.kind,
                                   dict(r.params), render(r.kind, r.params))
            channel.send(message)
        except Exception as e:  # one row's trouble must not stop the others
            if isinstance(e, ChannelError):
                error = str(e)
            else:  # the type only: its text may hold a phone number or a code
                error = f"unexpected {type(e).__name__}"
                log.warning("notification %s (%s) not sent: %s", r.id, r.kind, error)
            gave_up = attempts >= MAX_ATTEMPTS
            values: dict[str, object] = {"status": FAILED if gave_up else PENDING,
                                         "next_attempt_at": uow.clock.now()
                                         + backoff(attempts),
                                         "last_error": error[:200]}
            # only while the claim is still ours: after a lease ran out another dispatcher may
            # have claimed (and sent) the row meanwhile
            where = ours & (_OUTBOX.c.attempts == attempts)
            failed += gave_up
            retried += not gave_up
        else:
            # sent is the final word, whoever holds the claim now
            values = {"status": SENT, "sent_at": uow.clock.now(), "last_error": None}
            where = ours
            sent += 1
        with uow.begin() as tx:
            tx.conn.execute(update(_OUTBOX).where(where).values(**values))
            tx.commit()
    return DeliveryReport(sent, retried, failed)


def _release(uow: UnitOfWork, rows: list[Any]) -> None:
    """Gives back claimed rows not tried: due now, the claim's attempt undone."""
    now = uow.clock.now()
    with uow.begin() as tx:
        for r in rows:
            tx.conn.execute(update(_OUTBOX).where(
                (_OUTBOX.c.id == r.id) & (_OUTBOX.c.status == PENDING)
                & (_OUTBOX.c.attempts == r.attempts + 1)).values(
                attempts=r.attempts, next_attempt_at=now))
        tx.commit()


def _phone_lookup(uow: UnitOfWork) -> Callable[[str], str | None]:
    def lookup(member_id: str) -> str | None:
        with uow.read() as s:
            blob = s.scalar(select(Member.phone_enc).where(Member.id == member_id))
        return uow.cipher.decrypt(blob, context=PHONE_CTX) if blob else None  # b"": erased
    return lookup


def pending_count(uow: UnitOfWork) -> int:
    """Notifications not yet sent (due or waiting for a retry)."""
    from sqlalchemy import func

    with uow.read() as s:
        return int(s.scalar(select(func.count()).select_from(_OUTBOX)
                            .where(_OUTBOX.c.status == PENDING)) or 0)
