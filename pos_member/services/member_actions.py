"""The member card's suggested action, done with one key (Ctrl+J, issue 19): 送回归券 issues the
rules' win-back coupon, 提醒积分余额 and 邀请参加会员日 queue the member a message. Rules in
docs/rules.md ("Member tags and lifecycle").

- The win-back coupon goes through the coupon issue path with the win-back trigger's own key
  (``winback:<member>:<day of the last purchase or registration>``): one per dormant period,
  whether the till's hourly trigger or a clerk issued it first.
- The messages are marketing (consent and the daily cap, ``coupon_notices.tell``), once a day
  per member and kind.
- Frozen, blacklisted and erased members are refused, as the triggers pass over them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from pos_member.db.models import Member, PointsAccount, Sale
from pos_member.db.uow import UnitOfWork
from pos_member.errors import InvalidInput, MemberNotFound
from pos_member.i18n import QT_TRANSLATE_NOOP
from pos_member.permissions import Action, Clerk, require
from pos_member.services import member_standing
from pos_member.services.coupon_notices import tell
from pos_member.services.coupons import WINBACK, IssuedCoupon, issue_in
from pos_member.services.member_insight import REMIND_POINTS, WIN_BACK, member_insight

POINTS_REMINDER, MEMBER_DAY = "points.reminder", "member_day.invite"
NUDGED = "member.nudged"  # the audit row's action


@dataclass(frozen=True, slots=True)
class ActionDone:
    action: str  # member_insight's WIN_BACK, REMIND_POINTS or INVITE
    done: bool  # False: done already (this dormant period, today) or the member takes no
    # marketing (no consent, the daily cap)
    coupon: IssuedCoupon | None = None


def do_suggested(uow: UnitOfWork, *, clerk: Clerk, member_id: str) -> ActionDone:
    """Does what the card suggests for the member now (see the module)."""
    require(clerk, Action.VIEW_MEMBER)
    action = member_insight(uow, clerk=clerk, member_id=member_id).action
    if action is None:
        raise InvalidInput(QT_TRANSLATE_NOOP("errors", "Nothing is suggested for this member."))
    rules = uow.rules.coupons
    template = rules.template(rules.winback_template) if action == WIN_BACK else None
    if action == WIN_BACK and template is None:
        raise InvalidInput(QT_TRANSLATE_NOOP("errors", "The rules name no win-back coupon."))
    with uow.begin() as tx:
        conn = tx.conn
        if conn.scalar(select(Member.status).where(Member.id == member_id)) != "active":
            raise MemberNotFound(query=member_id[:8])
        # frozen, blacklisted, erased: refused (as a redemption would be)
        member_standing.check(conn, member_id, member_standing.REDEEM, clerk=clerk)
        coupon = None
        if template is not None:
            coupon = issue_in(tx, clerk, member_id=member_id, template=template,
                              source=WINBACK, trigger_key=_winback_key(conn, member_id))
            done = coupon is not None
        else:
            kind = POINTS_REMINDER if action == REMIND_POINTS else MEMBER_DAY
            params: dict[str, str | int] = {}
            if kind == POINTS_REMINDER:
                params["points"] = int(conn.scalar(select(PointsAccount.balance).where(
                    PointsAccount.member_id == member_id)) or 0)
            today = tx.clock.today().isoformat()
            done = tell(tx, member_id=member_id, kind=kind, params=params,
                        dedupe_key=f"{kind}:{member_id}:{today}")
        tx.audit(clerk, NUDGED, "member", member_id,
                 after={"action": action, "done": done,
                        "coupon": coupon.key if coupon is not None else None})
        tx.commit()
    return ActionDone(action, done, coupon)


def _winback_key(conn: Connection, member_id: str) -> str:
    """The win-back trigger's key for the member's present dormant period (as
    ``coupon_triggers._dormant`` forms it: the stored last sale's time, else registration)."""
    last = (select(func.max(Sale.sold_at)).where(Sale.member_id == Member.id)
            .scalar_subquery())
    since = func.substr(func.coalesce(last, Member.registered_at), 1, 10)
    day = conn.scalar(select(since).where(Member.id == member_id))
    return f"{WINBACK}:{member_id}:{day}"

