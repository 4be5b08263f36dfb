"""What the POS may read from the till: a member (masked unless the token may see personal
data), the points a sale would earn and may redeem, the store's day (会销比, guides). The same
services as the till's screens; nothing here writes, except the audit row of a reveal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pos_member.db.uow import UnitOfWork
from pos_member.permissions import Clerk
from pos_member.services import kpi, points_ledger, sales
from pos_member.services import stored_value_ledger as sv_ledger
from pos_member.services.balance_blocks import is_blocked
from pos_member.services.member_cards import (
    MemberCard,
    RevealedData,
    find_member,
    reveal_personal_data,
)
from pos_member.services.stored_value import SvResult, replayed


@dataclass(frozen=True, slots=True)
class MemberView:
    card: MemberCard
    points: int
    stored_value: sv_ledger.Balance
    revealed: RevealedData | None  # only for a token with the personal scope


def lookup_member(uow: UnitOfWork, clerk: Clerk, *, code: str, personal: bool = False
                  ) -> MemberView:
    """A member by scanned code, member number or phone (following merges, as the scan field
    does); with ``personal``, the full phone, name and birthday, audited as at the till."""
    card = find_member(uow, clerk=clerk, code=code)
    with uow.read() as s:
        conn = s.connection()
        points = points_ledger.balance_of(conn, card.id)
        balance = sv_ledger.balance(conn, card.id)
        blocked = is_blocked(s, card.id)
    revealed = reveal_personal_data(uow, clerk=clerk, member_id=card.id) if personal else None
    return MemberView(card, points, sv_ledger.Balance(
        balance.member_id, balance.principal_fen, balance.bonus_fen, balance.frozen, blocked),
        revealed)


def quote(uow: UnitOfWork, clerk: Clerk, *, member: str | None, amount_fen: int,
          redeem_points: int = 0) -> tuple[MemberCard | None, sales.SaleQuote]:
    """The most the member may redeem on a bill of ``amount_fen`` and what the sale would earn
    (with ``redeem_points`` off it), as the till's sale dialog shows them."""
    card = find_member(uow, clerk=clerk, code=member) if member is not None else None
    return card, sales.quote_sale(uow, member_id=card.id if card else None,
                                  amount_fen=amount_fen, redeem_points=redeem_points)


def day_figures(uow: UnitOfWork, clerk: Clerk, *, day: date | None = None) -> kpi.Dashboard:
    """The store's day as the manager's dashboard shows it."""
    return kpi.dashboard(uow, clerk=clerk, day=day)


def payment_done(uow: UnitOfWork, *, txn_id: str, member_id: str, amount_fen: int
                 ) -> SvResult | None:
    """The stored-value payment already taken under the till's ``txn_id`` (a repeated request
    answers without showing the dialog again), or None; another operation under it is refused
    (``TxnIdConflict``)."""
    with uow.read() as s:
        return replayed(s.connection(), txn_id, member_id=member_id, kind="payment",
                        amount_fen=amount_fen)
