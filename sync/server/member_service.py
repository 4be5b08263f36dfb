"""Member service at HQ (issue 20): a phone change moves the member's phone in
``member_index`` (the old phone finds no one; a new registration of it is no duplicate), an
erasure drops the member's phones there and the personal values of HQ's card
(``member_cards``), and of the records merged into the member (the same person); a phone
change pushed after the erasure (made at a till that had not pulled it) brings nothing
back. The events themselves reach every till as directory events
(``routes.DIRECTORY_TYPES``).

Two push hooks, each where the lock order puts it (``locks``): :func:`phones_after_store`
beside the duplicate-phone merges (phones), :func:`cards_after_store` after HQ's cards.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table, delete, select, update

from pos_member import events
from sync.server.balances import StoredEvent
from sync.server.locks import card_key, lock_keys, phone_key
from sync.server.models import MemberCardRow, MemberIndex, MemberRedirect

PHONE_CHANGED = events.MEMBER_PHONE_CHANGED.type
ERASED = events.MEMBER_ERASED.type
_INDEX: Table = MemberIndex.__table__  # type: ignore[assignment]
_CARDS: Table = MemberCardRow.__table__  # type: ignore[assignment]
_REDIRECTS: Table = MemberRedirect.__table__  # type: ignore[assignment]
# What an erased member's card keeps: nothing that names the person.
KEPT = ("source_channel", "registered_at")


# The types the hooks below act on: nothing to do for a push without one (a push that has one
# flushes what it keeps for its end first: they read ``member_index`` and ``member_cards``).
TYPES = frozenset({PHONE_CHANGED, ERASED})


def _mine(stored: Sequence[StoredEvent]) -> list[tuple[str, Mapping[str, Any]]]:
    return [(e.type, e.payload) for e in stored
            if e.type in TYPES and isinstance(e.payload, Mapping)
            and isinstance(e.payload.get("member_id"), str)]


def phones_after_store(conn: Connection, stored: Sequence[StoredEvent]) -> None:
    """Moves a changed phone in ``member_index`` (when the new one is free at HQ: else the old
    row goes and the phone stays its owner's), drops an erased member's phones."""
    mine = _mine(stored)
    if not mine:
        return
    keys = [phone_key(str(p[k])) for _, p in mine for k in ("phone_index", "old_phone_index")
            if isinstance(p.get(k), str)]
    lock_keys(conn, keys)
    for kind, p in mine:
        member_id = p["member_id"]
        if kind == ERASED:
            conn.execute(delete(_INDEX).where(_INDEX.c.member_id == member_id))
            continue
        new, old = str(p.get("phone_index", "")), str(p.get("old_phone_index", ""))
        owner = conn.execute(select(_INDEX.c.member_id)
                             .where(_INDEX.c.phone_index == new)).scalar()
        if owner is None:
            conn.execute(update(_INDEX).where(_INDEX.c.phone_index == old,
                                              _INDEX.c.member_id == member_id)
                         .values(phone_index=new))
        elif owner != member_id:
            conn.execute(delete(_INDEX).where(_INDEX.c.phone_index == old,
                                              _INDEX.c.member_id == member_id))


def cards_after_store(conn: Connection, stored: Sequence[StoredEvent]) -> None:
    """HQ's card of the member: the new phone's ciphertext; an erased member's personal values
    dropped (the status says ``erased``)."""
    mine = _mine(stored)
    if not mine:
        return
    erased = [p["member_id"] for kind, p in mine if kind == ERASED]
    # The records merged into an erased member (one phone registered at two stores) are the
    # same person's: their cards keep nothing that names them either (status stays merged).
    losers = {r.loser_member_id: r.winner_member_id for r in conn.execute(
        select(_REDIRECTS).where(_REDIRECTS.c.winner_member_id.in_(erased)))} if erased else {}
    lock_keys(conn, [card_key(m) for m in {p["member_id"] for _, p in mine} | set(losers)])
    for loser in losers:
        _empty_card(conn, loser, status=None)
    for kind, p in mine:
        if kind == ERASED:
            _empty_card(conn, p["member_id"], status="erased")
            continue
        row = conn.execute(select(_CARDS.c.profile, _CARDS.c.status)
                           .where(_CARDS.c.member_id == p["member_id"])).first()
        if row is not None and row.status != "erased":  # a change made before the erasure
            conn.execute(update(_CARDS).where(_CARDS.c.member_id == p["member_id"]).values(
                profile={**(row.profile or {}), "phone_enc": p.get("phone_enc")}))


def _empty_card(conn: Connection, member_id: str, *, status: str | None) -> None:
    """Keeps only what names no one (``KEPT``) on the member's card; ``status``: set too."""
    row = conn.execute(select(_CARDS.c.profile).where(_CARDS.c.member_id == member_id)).first()
    if row is None:
        return
    profile = dict(row.profile or {})
    values: dict[str, Any] = {"profile": {k: profile[k] for k in KEPT if k in profile}}
    if status is not None:
        values["status"] = status
    conn.execute(update(_CARDS).where(_CARDS.c.member_id == member_id).values(**values))
