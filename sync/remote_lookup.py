"""The till's side of the remote member lookup (issue 14): a scan that finds nobody here asks
HQ (online) and caches the answer, or shows what HQ last said (offline). The cache and the
offline cap are ``pos_member/services/remote_members.py``; this module only adds the call.
Runs off the GUI thread (the till's operations pool), like the other calls to HQ."""

from __future__ import annotations

from typing import Protocol

from pos_member.db.uow import UnitOfWork
from pos_member.errors import MemberNotFound
from pos_member.permissions import Action, Clerk, require
from pos_member.services import remote_members
from pos_member.services.member_cards import MemberCard
from sync.errors import ServerRefused, ServerUnavailable, SyncError
from sync.member_lookup import MemberLookupResponse


class MemberLookup(Protocol):
    """HQ's lookup as the till calls it (``sync.client.SyncClient`` has it)."""

    def member_lookup(self, *, member_no: str | None = None, phone_index: str | None = None
                      ) -> MemberLookupResponse | None: ...


def find_remote(uow: UnitOfWork, *, clerk: Clerk, code: str,
                hq: MemberLookup | None) -> MemberCard:
    """The card of a member this till does not hold: HQ's answer when ``hq`` is given and
    answers (then cached), else the cached one (offline, or HQ unreachable). Raises
    ``MemberNotFound`` when HQ knows no such member, or when offline nothing is cached."""
    require(clerk, Action.VIEW_MEMBER)
    kind, key, shown = remote_members.lookup_key(uow, code)
    if hq is not None:
        try:
            answer = (hq.member_lookup(member_no=key) if kind == "no"
                      else hq.member_lookup(phone_index=key))
        except ServerUnavailable:
            return remote_members.cached(uow, clerk=clerk, code=code)
        except ServerRefused as e:
            if e.status != 429:  # lookup_rate_limited: what this till cached, else the reason
                raise
            try:
                return remote_members.cached(uow, clerk=clerk, code=code)
            except MemberNotFound:
                raise e from None
        if answer is None:
            raise MemberNotFound(query=shown)
        return remote_members.remember(uow, answer.model_dump(mode="json"), key=key,
                                       device_id=clerk.device_id)
    return remote_members.cached(uow, clerk=clerk, code=code)


class HqChainBalance:
    """``member_privacy.ChainBalance`` over HQ's member lookup: the member's chain-wide
    stored-value balance as HQ holds it (every till's pushed top-ups and payments, a merged
    record's included). HQ knowing no such member (registered here, not pushed yet) holds
    none of their money: 0. Unreachable or refused (the lookup limit, a revoked token): None,
    the balance could not be checked."""

    def __init__(self, hq: MemberLookup) -> None:
        self._hq = hq

    def chain_balance_fen(self, *, member_no: str) -> int | None:
        try:
            answer = self._hq.member_lookup(member_no=member_no)
        except SyncError:  # unreachable, refused, or an answer the protocol does not say
            return None
        return 0 if answer is None else int(answer.balance_fen)
