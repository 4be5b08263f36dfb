"""Chain-wide points per member (``member_points``), kept at ingest like stored value.

Every till posts a member's points entries through its ledger once per entry id
(``services/points_ledger.py``); HQ counts the same entries the same way, reading them with
the shared rules of ``pos_member.points_lots`` (never the till's services):

- the entries of ``points.*``, ``sale.recorded`` and ``sale.refunded`` events; an event is
  stored once, so its entries are counted once — except those whose id is derived and may be
  pushed by several tills (a lot's expiry): their ids are kept (``points_keyed_entries``) and
  a second one is not counted;
- a merged loser's points move to its winner (``member_redirects``, written by
  ``balances`` in the same transaction), and the loser's welcome points are reversed, as every
  till reverses them (one welcome per person, docs/rules.md): on the merge for the welcomes
  HQ holds, and on a welcome that arrives for a member already merged away.

The balance is the entries' sum, as the till's ``points_accounts`` (lots and their expiry
stay on the tills: a lot past its time counts here until a till posts its expiry).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from pos_member.points_lots import (
    ENTRY_EVENT_TYPES,
    KEYED_KINDS,
    WELCOME,
    WELCOME_REVERSED,
    EntryPoints,
    entries_of,
    reversal_id,
)
from sync.server.balances import StoredEvent
from sync.server.driver import json_text
from sync.server.duplicate_phones import list_value, one_of
from sync.server.locks import MERGE_LOCK, lock_shared
from sync.server.log import LogWriter
from sync.server.models import MemberPoints, MemberRedirect, PointsKeyedEntry

_POINTS = MemberPoints.__table__
_KEYED = PointsKeyedEntry.__table__
_REDIRECTS = MemberRedirect.__table__


def after_store(log: LogWriter, conn: Connection, stored: Sequence[StoredEvent]) -> None:
    """The push hook, after ``balances.after_store`` (which records this push's merges in
    ``member_redirects``). Costs nothing for a batch without points entries or merges."""
    entries = [p for e in stored if e.type in ENTRY_EVENT_TYPES
               for p in entries_of(e.type, e.payload)]
    merges = list(log.merges)
    if not entries and not merges:
        return
    if not merges:  # beside other pushes: the redirects hold still until this one commits
        lock_shared(conn, MERGE_LOCK)
    book = PointsBook(conn, now=log._now)
    for merged in merges:
        book.merge(merged.winner_member_id, merged.loser_member_id)
    book.post(entries)
    book.save()


class PointsBook:
    """What one transaction adds to each member's points, written as one additive upsert.

    A sum needs no read before its write: ``points = points + delta`` on the row (``ON
    CONFLICT DO UPDATE``) takes the row's lock, so two pushes adding to one member take turns
    and neither's delta is lost; the rows go in member order, so two pushes never wait on each
    other in a cycle. Only a merge reads a balance (the loser's), and it holds ``MERGE_LOCK``
    exclusively, which every other points-writing push holds shared."""

    def __init__(self, conn: Connection, *, now: datetime) -> None:
        self.conn = conn
        self.now = now
        self.delta: dict[str, int] = {}

    def owners(self, member_ids: Iterable[str]) -> dict[str, str]:
        """Each member → the member holding its points (its merge winner, or itself)."""
        ids = list(dict.fromkeys(member_ids))
        found = {r.loser_member_id: r.winner_member_id for r in self.conn.execute(
            select(_REDIRECTS.c.loser_member_id, _REDIRECTS.c.winner_member_id)
            .where(one_of(self.conn, _REDIRECTS.c.loser_member_id, "ids")),
            {"ids": list_value(self.conn, ids)})}
        return {m: found.get(m, m) for m in ids}

    def add(self, member_id: str, points: int) -> None:
        self.delta[member_id] = self.delta.get(member_id, 0) + points

    def post(self, entries: Sequence[EntryPoints]) -> None:
        """Counts each entry for the member holding its points; a keyed entry only when its
        id is new here, and a welcome of a merged-away member reversed at once."""
        if not entries:
            return
        fresh = self._keep([e for e in entries if e.kind in KEYED_KINDS])
        owners = self.owners(e.member_id for e in entries)
        for e in entries:
            if e.kind in KEYED_KINDS and e.id not in fresh:
                continue
            fresh.discard(e.id)  # the same entry twice in one push counts once
            owner = owners[e.member_id]
            self.add(owner, e.points)
            if e.kind == WELCOME and owner != e.member_id:
                self._reverse(e.id, owner, e.points)

    def merge(self, winner_id: str, loser_id: str) -> None:
        """The loser's points go to its winner (already the redirect's target), less the
        loser's welcomes, reversed."""
        winner = self.owners([winner_id])[winner_id]
        if winner == loser_id:
            return
        stored = self.conn.execute(select(_POINTS.c.points)
                                   .where(_POINTS.c.member_id == loser_id)).scalar()
        moved = int(stored or 0) + self.delta.get(loser_id, 0)
        if moved:
            self.add(loser_id, -moved)
            self.add(winner, moved)
        for welcome in self.conn.execute(
            select(_KEYED.c.entry_id, _KEYED.c.points)
            .where(_KEYED.c.member_id == loser_id, _KEYED.c.kind == WELCOME)
            .order_by(_KEYED.c.entry_id)
        ):
            self._reverse(welcome.entry_id, winner, int(welcome.points))

    def _reverse(self, welcome_id: str, holder_id: str, points: int) -> None:
        if points <= 0:
            return
        rid = reversal_id(welcome_id)
        if self._keep([EntryPoints(rid, holder_id, WELCOME_REVERSED, -points)]):
            self.add(holder_id, -points)

    def _keep(self, entries: Sequence[EntryPoints]) -> set[str]:
        """Records the keyed entries; returns the ids that were new (``ON CONFLICT DO
        NOTHING``: a push beside this one storing the same id waits for it, then skips)."""
        rows = list({e.id: {"entry_id": e.id, "member_id": e.member_id, "kind": e.kind,
                            "points": e.points} for e in entries}.values())
        if not rows:
            return set()
        new: set[str] = set()
        for i in range(0, len(rows), 500):
            stmt = (_insert(self.conn, _KEYED).values(rows[i:i + 500]).on_conflict_do_nothing()
                    .returning(_KEYED.c.entry_id))
            new.update(self.conn.execute(stmt).scalars())
        return new

    def save(self) -> None:
        """One upsert adding each member's delta, in member order."""
        rows = [{"member_id": m, "points": d, "updated_at": self.now}
                for m, d in sorted(self.delta.items()) if d]
        self.delta.clear()
        if not rows:
            return
        if self.conn.dialect.name == "postgresql":  # one statement over arrays: one trip
            self.conn.execute(_PG_ADD, {"rows": json_text(
                [{"m": r["member_id"], "p": r["points"]} for r in rows]), "now": self.now})
            return
        stmt = sqlite_insert(_POINTS)
        self.conn.execute(stmt.on_conflict_do_update(
            index_elements=[_POINTS.c.member_id],
            set_={"points": _POINTS.c.points + stmt.excluded.points,
                  "updated_at": stmt.excluded.updated_at}), rows)


_PG_ADD = text(
    "INSERT INTO member_points (member_id, points, updated_at) "
    "SELECT m, p, :now FROM json_to_recordset(CAST(:rows AS json)) AS v(m text, p bigint) "
    "ORDER BY m "
    "ON CONFLICT (member_id) DO UPDATE "
    "SET points = member_points.points + excluded.points, updated_at = excluded.updated_at")


def _insert(conn: Connection, table: Any) -> Any:
    return (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(table)


def points_of(conn: Connection, member_id: str) -> int:
    """The chain-wide points of the member holding ``member_id``'s points."""
    owner = conn.execute(select(_REDIRECTS.c.winner_member_id)
                         .where(_REDIRECTS.c.loser_member_id == member_id)).scalar()
    value = conn.execute(select(_POINTS.c.points)
                         .where(_POINTS.c.member_id == (owner or member_id))).scalar()
    return int(value or 0)
