"""What the POS may read from the till: a member (masked unless the token may see personal
data), the points a sale would earn and may redeem, the store's day (会销比, guides). The same
services as the till's screens; nothing here writes, except the audit row of a reveal."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import bindparam, false, func, select

from pos_member.db.models import (
    BalanceBlock,
    Member,
    MemberStanding,
    PointsAccount,
    SvAccount,
)
from pos_member.db.prepared import Prepared
from pos_member.db.uow import UnitOfWork
from pos_member.errors import InvalidInput
from pos_member.events import NAME_CTX, PHONE_CTX
from pos_member.integration.reports import check_fen
from pos_member.member_code import CodeKind, classify_code
from pos_member.member_service_errors import MemberErasedError
from pos_member.permissions import Action, Clerk, require
from pos_member.phone import mask_phone
from pos_member.services import kpi, member_standing, points_ledger, sales
from pos_member.services import stored_value_ledger as sv_ledger
from pos_member.services.balance_blocks import is_blocked
from pos_member.services.member_cards import (
    MemberCard,
    RevealedData,
    find_member,
    mask_name,
    reveal_personal_data,
)
from pos_member.services.profile_seal import birthday_of
from pos_member.services.stored_value import SvResult, replayed


@dataclass(frozen=True, slots=True)
class MemberView:
    """What the POS is told of a member: the card's masked fields, points and stored value."""

    id: str
    member_no: str
    tier: str
    status: str
    phone_masked: str
    name_masked: str | None
    birthday_month: int | None
    points: int
    stored_value: sv_ledger.Balance
    revealed: RevealedData | None = None  # only for a token with the personal scope


_M, _PTS = Member.__table__, PointsAccount.__table__
_SV, _BLOCK = SvAccount.__table__, BalanceBlock.__table__
_ST = MemberStanding.__table__
# The member with their points, stored value and HQ's block in one read, on the driver: the
# POS asks at every scan (bench/integration.py). A number without an active member (merged
# away, unknown) goes the long way, find_member, which follows merges and refuses.
_VIEW = (select(_M.c.id, _M.c.member_no, _M.c.tier, _M.c.status, _M.c.phone_enc,
                _M.c.name_enc, _M.c.birthday_enc,
                func.coalesce(_PTS.c.balance, 0).label("points"),
                func.coalesce(_SV.c.principal_fen, 0).label("principal_fen"),
                func.coalesce(_SV.c.bonus_fen, 0).label("bonus_fen"),
                func.coalesce(_SV.c.frozen, false()).label("frozen"),
                _BLOCK.c.member_id.label("blocked"), _ST.c.card_generation,
                _ST.c.status.label("standing"))
         .select_from(_M.outerjoin(_PTS, _PTS.c.member_id == _M.c.id)
                      .outerjoin(_SV, _SV.c.member_id == _M.c.id)
                      .outerjoin(_BLOCK, _BLOCK.c.member_id == _M.c.id)
                      .outerjoin(_ST, _ST.c.member_id == _M.c.id))
         .where(_M.c.status == "active"))
_FAST_VIEW_BY_NO = Prepared(_VIEW.where(_M.c.member_no == bindparam("key")))
_FAST_VIEW_BY_PHONE = Prepared(_VIEW.where(_M.c.phone_index == bindparam("key")))
_FAST_VIEW_BY_ID = Prepared(_VIEW.where(_M.c.id == bindparam("key")))


def pos_status(status: str, standing: str | None) -> str:
    """The ``status`` the POS is told: the member's standing when it refuses something (frozen,
    blacklisted: what the till's card shows), else the record's own ("active"; "active" kept
    for a normal member so that an integrator comparing with it goes on working)."""
    return standing if standing in (member_standing.FROZEN, member_standing.BLACKLISTED) \
        else status


def _view(uow: UnitOfWork, row: Any) -> MemberView:
    if not row.phone_enc:  # erased (issue 20): the POS is told, as the till's sale would
        raise MemberErasedError(member_no=row.member_no)
    cipher = uow.cipher
    phone = cipher.decrypt(row.phone_enc, context=PHONE_CTX)
    name = cipher.decrypt(row.name_enc, context=NAME_CTX) if row.name_enc else None
    return MemberView(
        row.id, row.member_no, row.tier, pos_status(row.status, row.standing),
        mask_phone(phone), mask_name(name),
        bday.month if (bday := birthday_of(cipher, row.birthday_enc)) else None,
        int(row.points),
        sv_ledger.Balance(row.id, int(row.principal_fen), int(row.bonus_fen), bool(row.frozen),
                          row.blocked is not None))


def lookup_member(uow: UnitOfWork, clerk: Clerk, *, code: str, personal: bool = False
                  ) -> MemberView:
    """A member by scanned code, member number or phone (following merges, as the scan field
    does); with ``personal``, the full phone, name and birthday, audited as at the till."""
    require(clerk, Action.VIEW_MEMBER)
    scanned = classify_code(code)
    with uow.read_conn() as conn:  # a bare connection: no ORM session per scan
        if scanned.kind is CodeKind.MEMBER:
            row = _FAST_VIEW_BY_NO.first(conn, {"key": scanned.value})
            if row is not None:  # a card reported lost: refused, as find_member does
                member_standing.refuse_old_card(row.card_generation, row.member_no,
                                                scanned.generation)
        else:
            row = _FAST_VIEW_BY_PHONE.first(conn, {"key": uow.cipher.blind_index(
                scanned.value, context=PHONE_CTX)})
        if row is None:  # merged away (the card follows), or nobody (refused)
            card = find_member(uow, clerk=clerk, code=code)
            row = _FAST_VIEW_BY_ID.first(conn, {"key": card.id})
            if row is None:
                return _from_card(uow, card)
    view = _view(uow, row)
    if personal:
        revealed = reveal_personal_data(uow, clerk=clerk, member_id=view.id)
        view = replace(view, revealed=revealed)
    return view


def _from_card(uow: UnitOfWork, card: MemberCard) -> MemberView:
    """A member found by find_member but not active (merged into one not pulled yet)."""
    if card.erased:  # as _view: the POS is told, as the till's sale would
        raise MemberErasedError(member_no=card.member_no)
    with uow.read() as s:
        conn = s.connection()
        points = points_ledger.balance_of(conn, card.id)
        b = sv_ledger.balance(conn, card.id)
        blocked = is_blocked(s, card.id)
    return MemberView(card.id, card.member_no, card.tier,
                      pos_status(card.status, card.standing), card.phone_masked,
                      card.name_masked, card.birthday_month, points,
                      sv_ledger.Balance(card.id, b.principal_fen, b.bonus_fen, b.frozen, blocked))


def quote(uow: UnitOfWork, clerk: Clerk, *, member: str | None, amount_fen: int,
          redeem_points: int = 0) -> tuple[MemberCard | None, sales.SaleQuote]:
    """The most the member may redeem on a bill of ``amount_fen`` and what the sale would earn
    (with ``redeem_points`` off it), as the till's sale dialog shows them."""
    amount_fen = check_fen(amount_fen, "amount_fen")  # says the maximum, as a sale's does
    card = find_member(uow, clerk=clerk, code=member) if member is not None else None
    return card, sales.quote_sale(uow, member_id=card.id if card else None,
                                  amount_fen=amount_fen, redeem_points=redeem_points)


FIGURES_DAYS = (date(2000, 1, 1), date(2099, 12, 31))  # what GET /v1/day answers for


def day_figures(uow: UnitOfWork, clerk: Clerk, *, day: date | None = None) -> kpi.Dashboard:
    """The store's day as the manager's dashboard shows it. A day outside ``FIGURES_DAYS`` is
    refused (its bounds cannot be computed at the calendar's ends: year 1 or 9999)."""
    if day is not None and not FIGURES_DAYS[0] <= day <= FIGURES_DAYS[1]:
        raise InvalidInput(f"date is a day from {FIGURES_DAYS[0]} to {FIGURES_DAYS[1]}.")
    return kpi.dashboard(uow, clerk=clerk, day=day)


def payment_done(uow: UnitOfWork, *, txn_id: str, member_id: str, amount_fen: int
                 ) -> SvResult | None:
    """The stored-value payment already taken under the till's ``txn_id`` (a repeated request
    answers without showing the dialog again), or None; another operation under it is refused
    (``TxnIdConflict``)."""
    with uow.read() as s:
        return replayed(s.connection(), txn_id, member_id=member_id, kind="payment",
                        amount_fen=amount_fen)
