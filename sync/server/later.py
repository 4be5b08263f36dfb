"""What a push keeps of its events, written at its end in one statement (PostgreSQL).

A push's transaction used to write each projection as its hook reached it: the members'
homes, the events' routes (after reading the homes of the members they name), the new phone
owners, the device's progress and the new members' cards, five to six round trips between
the server and PostgreSQL a push, each a wait for a CPU on a busy machine. None of them is
read again by the push that writes it (nor by a push beside it: they are its own rows, or
rows under keys it holds), so a push (``LogWriter(..., later=True)``, ``ingest``) keeps them
here and writes them all once its hooks are done (``flush``): on PostgreSQL one statement of
data-modifying CTEs, one round trip, the routes' homes looked up by one index probe a member
inside it; on SQLite the same writes one after another. A hook that reads one of these
tables on a rare path (``member_service``: a phone change or an erasure) flushes first.

Any other ``LogWriter`` writes at once: each ``add_*`` flushes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, Table, insert, update

from sync.server.driver import text_statement, unnest_columns
from sync.server.models import DeviceProgress, MemberIndex

INDEX_COLUMNS = ("phone_index", "member_id", "member_no", "hlc", "event_id")
_INDEX: Table = MemberIndex.__table__  # type: ignore[assignment]


class Later:
    """A transaction's projection writes, until ``flush``."""

    def __init__(self, conn: Connection, *, keep: bool) -> None:
        """``keep``: hold the writes until ``flush`` (a push); else each add writes at once."""
        self.conn = conn
        self.keep = keep
        self.homes: dict[str, str] = {}  # member id → home store, new (``ON CONFLICT`` skips)
        self.fixed: list[tuple[str, int]] = []  # (store, position) routes known already
        self.wanted: list[tuple[int, str, str]] = []  # (position, own store, member key)
        self.index: list[tuple[str, str, str, str, str]] = []  # new member_index rows
        self.progress: tuple[str, int, bool] | None = None  # (device, acked, row existed)
        self.cards: list[dict[str, Any]] = []  # new member_cards rows (``ON CONFLICT`` skips)

    def add_routes(self, homes: Mapping[str, str], fixed: Iterable[tuple[str, int]],
                   wanted: Iterable[tuple[int, str, str]]) -> None:
        """New homes, routes known already, and events to route to the homes of the members
        they name but their own store: (position, own store, member id), one a member."""
        for member_id, store in homes.items():
            self.homes.setdefault(member_id, store)
        self.fixed.extend(fixed)
        self.wanted.extend(wanted)
        self._now()

    def add_index(self, rows: Iterable[tuple[str, str, str, str, str]]) -> None:
        self.index.extend(rows)
        self._now()

    def add_progress(self, device_id: str, acked: int, *, existed: bool) -> None:
        self.progress = (device_id, acked, existed or self.progress is not None)
        self._now()

    def add_cards(self, rows: Iterable[dict[str, Any]]) -> None:
        """``member_cards.insert_cards``' rows (``updated_at`` the same in all)."""
        self.cards.extend(rows)
        self._now()

    def _now(self) -> None:
        if not self.keep:
            self.flush()

    def flush(self) -> None:
        """Writes what is kept, in one statement on PostgreSQL."""
        if not (self.homes or self.fixed or self.wanted or self.index or self.progress
                or self.cards):
            return
        if self.conn.dialect.name == "postgresql":
            sql, params = self._statement()
            text_statement(sql).rows(self.conn, params)
        else:
            self._one_by_one()
        self.homes, self.fixed, self.wanted, self.index = {}, [], [], []
        self.progress, self.cards = None, []

    def _statement(self) -> tuple[str, dict[str, Any]]:
        parts: list[str] = []
        params: dict[str, Any] = {}
        if self.homes:
            parts.append("nh AS (SELECT m, s FROM " + unnest_columns(params, "h", (
                ("m", list(self.homes), "text"), ("s", list(self.homes.values()), "text")))
                + ")")
            parts.append(
                "ih AS (INSERT INTO member_homes (member_id, store_id) SELECT m, s FROM nh "
                "ON CONFLICT (member_id) DO NOTHING)")
        routes: list[str] = []
        if self.fixed:
            routes.append("SELECT s, p FROM " + unnest_columns(params, "f", (
                ("s", [s for s, _ in self.fixed], "text"),
                ("p", [p for _, p in self.fixed], "bigint"))))
        if self.wanted:
            wanted = self.wanted
            parts.append("w AS (SELECT p, o, k FROM " + unnest_columns(params, "w", (
                ("p", [p for p, _, _ in wanted], "bigint"),
                ("o", [o for _, o, _ in wanted], "text"),
                ("k", [k for _, _, k in wanted], "text"))) + ")")
            parts.append("wk AS (SELECT k FROM " + unnest_columns(params, "wk", (
                ("k", list({k for _, _, k in wanted}), "text"),)) + ")")  # each member once
            # one index probe a member (a join the planner cannot flatten: see
            # ``duplicate_phones.rows_by_key``); a home stored before wins over this push's
            # (``ON CONFLICT DO NOTHING`` keeps it), which the CTE above cannot see
            parts.append(
                "old AS (SELECT h.member_id AS k, h.store_id AS s FROM wk CROSS JOIN LATERAL "
                "(SELECT member_id, store_id FROM member_homes WHERE member_id = wk.k "
                "OFFSET 0) AS h)")
            found = "SELECT k, s FROM old"
            if self.homes:
                found += (" UNION ALL SELECT nh.m, nh.s FROM nh WHERE nh.m IN "
                          "(SELECT k FROM wk) AND nh.m NOT IN (SELECT k FROM old)")
            parts.append(f"found AS ({found})")
            routes.append("SELECT DISTINCT f.s, w.p FROM w JOIN found AS f ON f.k = w.k "
                          "WHERE f.s <> w.o")
        if routes:
            parts.append("ir AS (INSERT INTO event_routes (store_id, position) "
                         + " UNION ".join(routes) + ")")
        if self.index:
            parts.append(
                "ii AS (INSERT INTO member_index (" + ", ".join(INDEX_COLUMNS) + ") "
                "SELECT a, b, c, d, e FROM " + unnest_columns(params, "i", (
                    (c, [r[n] for r in self.index], "text") for n, c in enumerate("abcde")))
                + ")")
        if self.progress is not None:
            device_id, acked, existed = self.progress
            params["device"], params["acked"] = device_id, acked
            parts.append(
                "ip AS (UPDATE device_progress SET acked_through = :acked "
                "WHERE device_id = :device)" if existed else
                "ip AS (INSERT INTO device_progress (device_id, acked_through) "
                "VALUES (:device, :acked))")
        if self.cards:
            from sync.server.member_cards import cards_insert

            params["cards_at"] = self.cards[0]["updated_at"]
            parts.append(f"ic AS ({cards_insert(params, self.cards, 'cards_at')})")
        return "WITH " + ", ".join(parts) + " SELECT 1", params

    def _one_by_one(self) -> None:
        """SQLite (and the module's tests): the same writes as separate statements."""
        from sync.server import member_cards, routes  # (they import log, which imports us)
        from sync.server.log import insert_values

        conn = self.conn
        routes.insert_homes(conn, self.homes)
        rows = list(self.fixed)
        if self.wanted:
            found = routes.homes_of(conn, {k for _, _, k in self.wanted})
            rows.extend(sorted({(found[k], p) for p, own, k in self.wanted
                                if k in found and found[k] != own}))
        routes.insert_routes(conn, rows)
        insert_values(conn, _INDEX, INDEX_COLUMNS, self.index)
        if self.progress is not None:
            device_id, acked, existed = self.progress
            if existed:
                conn.execute(update(DeviceProgress).where(DeviceProgress.device_id == device_id)
                             .values(acked_through=acked))
            else:
                conn.execute(insert(DeviceProgress).values(device_id=device_id,
                                                           acked_through=acked))
        member_cards.insert_cards(conn, self.cards)
