"""Member service at the till (issue 20, SPEC §2.11): a member's status, a tier set by hand,
a lost card's re-issue. Each is a manager's, with a reason; one event, one audit row, committed
together; the event is a directory event, so every till of the chain applies it after sync
(``services/member_standing.py`` keeps the projection both apply through).

Phone change and erasure are in ``services/member_privacy.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, select

from pos_member import events
from pos_member.changes import Area, Changes
from pos_member.db.models import Member, MemberStanding
from pos_member.db.uow import Transaction, UnitOfWork
from pos_member.errors import MemberNotFound, StandingEditedAheadElsewhere
from pos_member.member_code import card_code
from pos_member.member_service_errors import (
    InvalidStatus,
    InvalidTierUntil,
    ServiceReasonRequired,
    UnknownTier,
)
from pos_member.permissions import Action, Clerk, require
from pos_member.points_rules import level_index, qualifying_level
from pos_member.services import member_directory, member_standing
from pos_member.services.tiers import standing_figures
from pos_member.text_input import one_line

MAX_REASON = 200
MAX_TIER_DAYS = 366  # a tier set by hand lasts at most a year (docs/rules.md)


@dataclass(frozen=True, slots=True)
class ServiceResult:
    member_id: str
    member_no: str
    changed: bool  # False: already so (nothing written)
    changes: Changes
    card_code: str | None = None  # a re-issued card's new code


def check_reason(reason: str) -> str:
    reason = one_line(reason)
    if not reason or len(reason) > MAX_REASON:
        raise ServiceReasonRequired()
    return reason


def member_no_of(conn: Connection, member_id: str) -> str:
    """The member's number, held here in full or known from the directory."""
    no = conn.scalar(select(Member.member_no).where(Member.id == member_id,
                                                    Member.status == "active"))
    if no is None:
        found = member_directory.by_id(conn, member_id)
        if found is None or found.status != "active":
            raise MemberNotFound(query=member_id[:8])
        no = found.member_no
    return str(no)


def _result(member_id: str, member_no: str, changed: bool, *areas: Area,
            code: str | None = None) -> ServiceResult:
    return ServiceResult(member_id, member_no, changed,
                         Changes.of(Area.MEMBERS, *areas, members=[member_id]), code)


def set_status(uow: UnitOfWork, *, clerk: Clerk, member_id: str, status: str,
               reason: str) -> ServiceResult:
    """Sets the member's status: normal, frozen or blacklisted (a manager, with a reason)."""
    require(clerk, Action.MEMBER_STATUS)
    if status not in events.STATUSES:
        raise InvalidStatus(status=str(status)[:20])
    reason = check_reason(reason)
    with uow.begin() as tx:
        conn = tx.conn
        no = member_no_of(conn, member_id)
        before = member_standing.of(conn, member_id)
        if before.erased:
            member_standing.check(conn, member_id, member_standing.SERVE, member_no=no)
        if before.status == status:
            return _result(member_id, no, False)
        payload = events.MemberStatusSet(member_id=member_id, member_no=no, status=status,
                                         reason=reason)
        ev = tx.record(clerk, events.MEMBER_STATUS_SET, payload, entity_id=member_id)
        if not member_standing.set_status(conn, payload, ev.hlc):
            raise StandingEditedAheadElsewhere()  # it would lose at every other till
        tx.audit(clerk, member_standing.STATUS_SET, "member", member_id,
                 before={"status": before.status},
                 after={"status": status, "reason": reason}, event=ev)
        tx.commit()
    return _result(member_id, no, True, Area.POINTS, Area.STORED_VALUE)


def set_tier(uow: UnitOfWork, *, clerk: Clerk, member_id: str, tier: str, until: datetime,
             reason: str) -> ServiceResult:
    """Sets the member's tier by hand until ``until`` (a manager, with a reason); the computed
    tier comes back after it (:func:`end_tier_overrides`)."""
    require(clerk, Action.MEMBER_STATUS)
    reason = check_reason(reason)
    tiers = uow.rules.tiers
    if tier not in {level.code for level in tiers.levels}:
        raise UnknownTier(tier=str(tier)[:20])
    now = uow.clock.now()
    if until.tzinfo is None or until <= now or until > now + timedelta(days=MAX_TIER_DAYS):
        raise InvalidTierUntil(days=MAX_TIER_DAYS)
    with uow.begin() as tx:
        conn = tx.conn
        no = member_no_of(conn, member_id)
        member_standing.check(conn, member_id, member_standing.MAINTAIN, member_no=no)
        old = _tier_of(conn, member_id)
        payload = events.MemberTierSet(member_id=member_id, member_no=no, tier=tier,
                                       reason=reason, until=until.isoformat())
        ev = tx.record(clerk, events.MEMBER_TIER_SET, payload, entity_id=member_id)
        if not member_standing.set_tier(conn, payload, ev.hlc):
            raise StandingEditedAheadElsewhere()
        tx.audit(clerk, member_standing.TIER_SET, "member", member_id, before={"tier": old},
                 after={"tier": tier, "until": until.isoformat(), "reason": reason}, event=ev)
        tx.commit()
    return _result(member_id, no, True, Area.POINTS)


def _tier_of(conn: Connection, member_id: str) -> str:
    tier = conn.scalar(select(Member.tier).where(Member.id == member_id))
    if tier is None:
        found = member_directory.by_id(conn, member_id)
        tier = found.tier if found is not None else "regular"
    return str(tier)


def end_tier_overrides(uow: UnitOfWork, *, clerk: Clerk) -> int:
    """The tiers set by hand that ended, for this store's members held here: back to the tier
    their figures give (a ``member.tier_changed``, reason ``override_ended``). The till's
    hourly job; returns how many ended."""
    from pos_member.services.tiers import change_tier

    now = uow.clock.now()
    t = MemberStanding.__table__
    ended = 0
    with uow.begin() as tx:
        conn = tx.conn
        rows = conn.execute(
            select(t.c.member_id, Member.tier).join(Member, Member.id == t.c.member_id)
            .where(t.c.tier_until <= now, Member.store_id == clerk.store_id,
                   Member.status == "active")).all()
        for member_id, tier in rows:
            member_standing.end_tier_override(conn, member_id)
            target = _computed_tier(tx, member_id, now)
            if target != tier:
                spend, growth = standing_figures(conn, tx.rules.tiers, member_id, now)
                change_tier(tx, clerk, member_id=member_id, old=tier, new=target, now=now,
                            reason="override_ended", spend=spend, growth=growth)
            ended += 1
        tx.commit()
    return ended


def _computed_tier(tx: Transaction, member_id: str, now: datetime) -> str:
    tiers = tx.rules.tiers
    spend, growth = standing_figures(tx.conn, tiers, member_id, now)
    target = qualifying_level(tiers, spend_fen=spend, growth=growth).code
    return tiers.levels[max(0, level_index(tiers, target))].code


def reissue_card(uow: UnitOfWork, *, clerk: Clerk, member_id: str,
                 reason: str) -> ServiceResult:
    """A lost card (挂失补卡): the member gets the next card generation; every older code of
    theirs is refused when scanned at any till once synced. The member number stays."""
    require(clerk, Action.MEMBER_STATUS)
    reason = check_reason(reason)
    with uow.begin() as tx:
        conn = tx.conn
        no = member_no_of(conn, member_id)
        member_standing.check(conn, member_id, member_standing.MAINTAIN, member_no=no)
        generation = member_standing.of(conn, member_id).card_generation + 1
        payload = events.MemberCardReissued(member_id=member_id, member_no=no,
                                            generation=generation, reason=reason)
        ev = tx.record(clerk, events.MEMBER_CARD_REISSUED, payload, entity_id=member_id)
        member_standing.reissue_card(conn, payload, ev.hlc)
        tx.audit(clerk, member_standing.CARD_REISSUED, "member", member_id,
                 before={"card_generation": generation - 1},
                 after={"card_generation": generation, "reason": reason}, event=ev)
        tx.commit()
    return _result(member_id, no, True, code=card_code(no, generation))
