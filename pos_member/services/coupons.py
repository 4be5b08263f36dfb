"""Coupons (issue 18): issuing them — the welcome pack on registration, a manager's coupon
with a reason, a points exchange's coupon, the triggers (``services/coupon_triggers.py``) — and
what the card shows of them. Redeeming is ``services/coupon_redeem.py``.

Each issue is one ``coupon.issued`` event, the coupon's row and its first ledger entry, in the
caller's transaction or its own. A trigger's issue carries a ``trigger_key`` (unique), so
issuing it again issues nothing: every trigger is idempotent (docs/rules.md, "Coupons").
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select

from pos_member import events
from pos_member.changes import Area, Changes
from pos_member.coupon_code import code_of, qr_payload, trigger_key_of, typed_form
from pos_member.coupon_rules import terms_of, validity
from pos_member.db.models import Coupon, Member
from pos_member.db.prepared import Prepared
from pos_member.db.uow import Transaction, UnitOfWork
from pos_member.errors import CouponAlreadyUsed, CouponUnknown, InvalidInput, MemberNotFound
from pos_member.i18n import QT_TRANSLATE_NOOP
from pos_member.permissions import Action, Clerk, require
from pos_member.rules_config import CouponTemplate
from pos_member.services import coupons_ledger as ledger
from pos_member.services import member_standing
from pos_member.text_input import one_line

WELCOME, BIRTHDAY, WINBACK, MANUAL, POINTS, HQ, RECALL = (
    "welcome", "birthday", "winback", "manual", "points", "hq", "recall")
# Coupons a marketing trigger sends: their message counts against the daily cap and needs the
# member's marketing consent (docs/rules.md, "Coupons"); the others are service messages. A
# recall campaign's (issue 19: the store manager's win-back from the recall list) is marketing.
MARKETING_SOURCES = frozenset({BIRTHDAY, WINBACK, HQ, RECALL})


# Run for every coupon issued (a trigger issues thousands): compiled once (db/prepared.py).
_TAKEN = Prepared(select(Coupon.__table__.c.key).where(
    Coupon.__table__.c.trigger_key == bindparam("k")))


@functools.lru_cache(maxsize=64)
def _terms(template: CouponTemplate) -> dict[str, Any]:
    return terms_of(template)


@dataclass(frozen=True, slots=True)
class IssuedCoupon:
    key: str
    member_id: str
    name: str
    valid_until: datetime
    repeated: bool = False

    @property
    def changes(self) -> Changes:
        return Changes.of(Area.COUPONS, members=(self.member_id,))


def issue_in(tx: Transaction, clerk: Clerk, *, member_id: str, template: CouponTemplate,
             source: str, trigger_key: str | None = None, reason: str | None = None,
             txn_id: str | None = None, notify: bool = True,
             marketed: dict[str, int] | None = None) -> IssuedCoupon | None:
    """Issues one coupon of ``template`` to ``member_id`` in the caller's transaction; None
    when ``trigger_key`` issued one already. ``notify``: the member is told (a pack tells
    once, for all its coupons)."""
    conn = tx.conn
    if trigger_key is not None and _TAKEN.first(conn, {"k": trigger_key}) is not None:
        return None
    now = tx.clock.now()
    start, end = validity(template, now, tx.clock.zone)
    coupon = {
        "key": trigger_key_of(tx.cipher, trigger_key), "member_id": member_id,
        "template": template.code,
        "name": template.name[:100], "terms": _terms(template),
        "valid_from": start.isoformat(), "valid_until": end.isoformat(), "source": source,
        "trigger_key": trigger_key, "issued_at": now.isoformat(), "store_id": clerk.store_id,
        "device_id": clerk.device_id}
    extra: dict[str, str] = {}
    if reason is not None:
        extra["reason"] = reason[:200]
    if txn_id is not None:
        extra["txn_id"] = txn_id
    ev = tx.record(clerk, events.COUPON_ISSUED,
                   events.CouponIssued(member_id=member_id, coupon=coupon, **extra),
                   entity_id=member_id)
    ledger.post_issued(conn, coupon, event_id=ev.id)
    tx.audit(clerk, events.COUPON_ISSUED.type, "coupon", coupon["key"],
             after={"member_id": member_id, "template": template.code, "source": source,
                    **extra}, event=ev)
    if notify:
        _tell_issued(tx, member_id=member_id, source=source, template=template,
                     key=coupon["key"], until=end, marketed=marketed)
    return IssuedCoupon(coupon["key"], member_id, template.name, end)


def _tell_issued(tx: Transaction, *, member_id: str, source: str, template: CouponTemplate,
                 key: str, until: datetime, marketed: dict[str, int] | None) -> None:
    """The member is told a coupon arrived (the outbox; marketing ones within the cap and only
    with consent: ``services/coupon_notices.py``)."""
    from pos_member.services.coupon_notices import tell

    last_day = tx.clock.local(until - timedelta(microseconds=1)).date().isoformat()
    tell(tx, member_id=member_id,
         kind="coupon.offer" if source in MARKETING_SOURCES else "coupon.issued",
         params={"name": template.name, "date": last_day}, dedupe_key=f"coupon.issued:{key}",
         marketed=marketed)


def issue_pack(tx: Transaction, clerk: Clerk, *, member_id: str, pack_code: str,
               trigger: str) -> list[IssuedCoupon]:
    """Every template of a pack (the welcome pack: ``trigger`` ``welcome:<member>``)."""
    pack = tx.rules.coupons.pack(pack_code)
    if pack is None:
        return []
    out = []
    for i, code in enumerate(pack.templates):
        template = tx.rules.coupons.template(code)
        if template is None:  # a validated rules file names known templates only
            continue
        got = issue_in(tx, clerk, member_id=member_id, template=template, source=WELCOME,
                       trigger_key=f"{trigger}:{i}", notify=False)
        if got is not None:
            out.append(got)
    if out:
        from pos_member.services.coupon_notices import tell

        tell(tx, member_id=member_id, kind="coupon.pack", params={"count": len(out)},
             dedupe_key=f"coupon.pack:{trigger}")
    return out


def issue_welcome(tx: Transaction, clerk: Clerk, *, member_id: str) -> list[IssuedCoupon]:
    """The rules' welcome pack, in the registration's own transaction."""
    pack = tx.rules.registration.welcome_coupon_pack
    if not pack:
        return []
    return issue_pack(tx, clerk, member_id=member_id, pack_code=pack,
                      trigger=f"welcome:{member_id}")


def issue_by_hand(uow: UnitOfWork, *, clerk: Clerk, approver: Clerk, txn_id: str,
                  member_id: str, template_code: str, reason: str) -> IssuedCoupon:
    """A manager's coupon for a member, with a reason (audited, the manager named). One till
    transaction id issues one coupon: a repeat returns it."""
    require(clerk, Action.VIEW_MEMBER)
    require(approver, Action.ISSUE_COUPON)
    reason = one_line(reason)
    if not reason:
        raise InvalidInput(QT_TRANSLATE_NOOP("errors", "Give the reason for the coupon."))
    template = uow.rules.coupons.template(template_code)
    if template is None:
        raise InvalidInput(QT_TRANSLATE_NOOP("errors", "No such coupon in the rules."))
    with uow.begin() as tx:
        _active(tx, member_id)
        got = issue_in(tx, clerk, member_id=member_id, template=template, source=MANUAL,
                       trigger_key=f"manual:{txn_id}",
                       reason=f"{reason[:150]} · {approver.name}")
        if got is None:
            c = Coupon.__table__.c
            row = tx.conn.execute(select(c.key, c.member_id, c.name, c.valid_until).where(
                c.trigger_key == f"manual:{txn_id}")).one()
            return IssuedCoupon(row.key, row.member_id, row.name, row.valid_until, True)
        tx.commit()
    return got


def issue_by_hand_with_pin(uow: UnitOfWork, *, clerk: Clerk, manager_code: str,
                           manager_pin: str, txn_id: str, member_id: str, template_code: str,
                           reason: str) -> IssuedCoupon:
    """The till's manual coupon (Ctrl+K): the inputs are checked first, reading only, so a
    refused one writes nothing, not even the manager's login; then the manager's number and PIN
    (a logged-in manager leaves them empty); then :func:`issue_by_hand`."""
    require(clerk, Action.VIEW_MEMBER)
    if not " ".join((reason or "").split()):
        raise InvalidInput(QT_TRANSLATE_NOOP("errors", "Give the reason for the coupon."))
    if uow.rules.coupons.template(template_code) is None:
        raise InvalidInput(QT_TRANSLATE_NOOP("errors", "No such coupon in the rules."))
    if clerk.may(Action.ISSUE_COUPON) and not manager_code.strip():
        approver = clerk
    else:
        from pos_member.services.staff import login

        approver = login(uow, code=manager_code.strip(), secret=manager_pin,
                         device_id=clerk.device_id)
    return issue_by_hand(uow, clerk=clerk, approver=approver, txn_id=txn_id,
                         member_id=member_id, template_code=template_code, reason=reason)


def _active(tx: Transaction, member_id: str) -> None:
    status = tx.conn.scalar(select(Member.status).where(Member.id == member_id))
    if status != "active":
        raise MemberNotFound(query=member_id[:8])
    # an erased member is refused everything (docs/rules.md): no coupon, nor its message
    member_standing.check(tx.conn, member_id, member_standing.MAINTAIN)


# -- what the card shows --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CouponView:
    key: str
    name: str
    kind: str
    value_fen: int  # amount off, or the cap of a percent off (0: none, or a gift)
    percent_off: int
    threshold_fen: int
    gift_item: str
    valid_until: datetime  # exclusive: usable before this instant
    code: str  # typed form, XXXX-XXXX-XXXX-XXXX
    qr: str
    source: str = ""  # WELCOME, …, HQ: who issued it (the card marks head office's)


def usable(uow: UnitOfWork, *, member_id: str) -> list[CouponView]:
    """The member's coupons usable now, the soonest to expire first."""
    now = uow.clock.now()
    c = Coupon.__table__.c
    with uow.read() as s:
        rows = s.execute(select(c.key, c.name, c.terms, c.valid_until, c.source).where(
            c.member_id == member_id, c.state == ledger.ISSUED,
            c.valid_until > now).order_by(c.valid_until, c.key)).all()
    out = []
    for r in rows:
        t = r.terms
        code = code_of(uow.cipher, r.key)
        value = t["amount_off_fen"] if t["kind"] == "amount_off" else t["cap_fen"]
        out.append(CouponView(r.key, r.name, t["kind"], value, t["percent_off"],
                              t["threshold_fen"], t["gift_item"], r.valid_until,
                              typed_form(code), qr_payload(code), r.source))
    return out



def revoke(uow: UnitOfWork, *, clerk: Clerk, approver: Clerk, key: str, reason: str) -> bool:
    """A manager withdraws a coupon still issued (a mistake, abuse), with a reason, audited:
    ``coupon.revoked``; it can no longer be redeemed anywhere once pulled. False (nothing
    written) when it is not this till's to withdraw: unknown, or no longer issued."""
    require(clerk, Action.VIEW_MEMBER)
    require(approver, Action.ISSUE_COUPON)
    reason = one_line(reason)
    if not reason:
        raise InvalidInput(QT_TRANSLATE_NOOP("errors", "Give the reason for the coupon."))
    with uow.begin() as tx:
        row = ledger.row_of(tx.conn, key)
        if row is None or row.state != ledger.ISSUED:
            return False
        payload = events.CouponEnded(key=key, member_id=row.member_id,
                                     reason=f"{reason[:150]} · {approver.name}")
        ev = tx.record(clerk, events.COUPON_REVOKED, payload, entity_id=row.member_id)
        ledger.post_ended(tx.conn, ledger.REVOKED, events.encode(payload), event_id=ev.id,
                          at=tx.clock.now(), store_id=clerk.store_id)
        tx.audit(clerk, events.COUPON_REVOKED.type, "coupon", key,
                 after={"reason": reason[:200], "approved_by": approver.staff_id}, event=ev)
        tx.commit()
    return True


@dataclass(frozen=True, slots=True)
class WithdrawnCoupon:
    key: str
    member_id: str
    name: str

    @property
    def changes(self) -> Changes:
        return Changes.of(Area.COUPONS, members=(self.member_id,))


def revoke_with_pin(uow: UnitOfWork, *, clerk: Clerk, manager_code: str, manager_pin: str,
                    member_id: str, key: str, reason: str) -> WithdrawnCoupon:
    """The till's withdrawal (Ctrl+Shift+K): the reason and the coupon (the member's, still
    issued) are checked first, reading only, so a refused one writes nothing, not even the
    manager's login; then the manager's number and PIN (a logged-in manager leaves them
    empty); then :func:`revoke`. Raises ``CouponAlreadyUsed`` for a coupon used, expired or
    withdrawn meanwhile (at another till: pulled), ``CouponUnknown`` for one not this
    member's."""
    require(clerk, Action.VIEW_MEMBER)
    if not " ".join((reason or "").split()):
        raise InvalidInput(QT_TRANSLATE_NOOP("errors", "Give the reason for the coupon."))
    with uow.read() as s:
        row = ledger.row_of(s.connection(), key)
    if row is None or row.member_id != member_id:
        raise CouponUnknown()
    if row.state != ledger.ISSUED:
        raise CouponAlreadyUsed()
    if clerk.may(Action.ISSUE_COUPON) and not manager_code.strip():
        approver = clerk
    else:
        from pos_member.services.staff import login

        approver = login(uow, code=manager_code.strip(), secret=manager_pin,
                         device_id=clerk.device_id)
    if not revoke(uow, clerk=clerk, approver=approver, key=key, reason=reason):
        raise CouponAlreadyUsed()  # taken by a checkout of this till meanwhile
    return WithdrawnCoupon(key, member_id, row.name)
