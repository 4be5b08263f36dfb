"""The chain-wide member directory (issue 14, docs/scale.md "What a till holds"): every member
of the chain, in a slim row, so a scan recognises a member of another store offline.

A till holds its own store's members in full (``members`` and their ledgers). Of every other
member it holds one ``member_directory`` row: number, id, phone blind index, status, tier,
balance block and stored-value freeze flags, home store number (~150 bytes a member with its
indexes: ``tests/core/test_member_directory.py`` measures it). The directory's events
(``DIRECTORY_TYPES``, which HQ sends every till: ``sync/server/routes.py``) update it for every
member, the till's own included; the full handlers run too for a member held here in full (an
own-store member, or one pulled in full before the till's upgrade). A registration of another
store's member goes into the directory only.

A scan of a number or phone no ``members`` row matches falls back here
(:func:`directory_card`, called by ``member_cards.find_member``): the card shows the member as
one of another store, with their tier. A sale may name them (:func:`sale_member`): points
earned are recorded and synced as any sale (HQ routes it to the member's home store); their
points balance here is only what this store recorded (redeeming needs the member's balance,
which this till does not hold), and no referral reward or tier upgrade is worked out here
(their history is at their home store).
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.exc import DBAPIError

from pos_member import events
from pos_member.db.models import DirectoryEntry, Member, MemberAlias, Store
from pos_member.db.prepared import Prepared
from pos_member.member_code import MEMBER_NO_LENGTH, is_valid_member_no

REGISTERED = events.MEMBER_REGISTERED.type
MERGED = events.MEMBER_MERGED.type
TIER_CHANGED = events.MEMBER_TIER_CHANGED.type
BALANCE_BLOCKED = events.MEMBER_BALANCE_BLOCKED.type
BALANCE_UNBLOCKED = events.MEMBER_BALANCE_UNBLOCKED.type
SV_FROZEN = events.SV_FROZEN.type
SV_UNFROZEN = events.SV_UNFROZEN.type
# As sync/server/routes.DIRECTORY_TYPES: what HQ sends every till of the chain.
# Member service (issue 20): status, cards, phones, erasure, tiers set by hand; their handler
# (services/member_standing) writes the directory and the member's row alike.
SERVICE_TYPES = frozenset(t.type for t in events.SERVICE_TYPES)
DIRECTORY_TYPES = frozenset({REGISTERED, MERGED, TIER_CHANGED, BALANCE_BLOCKED,
                             BALANCE_UNBLOCKED, SV_FROZEN, SV_UNFROZEN}) | SERVICE_TYPES
BLOCKED = 1  # flags: HQ blocked the member's stored value (an overdraw)
FROZEN = 2  # flags: the member's stored value is frozen
_HLC_COUNTER = 1_000_000

_DIR = DirectoryEntry.__table__
_MEMBERS = Member.__table__
_BY_NO = select(_DIR).where(_DIR.c.member_no == bindparam("key"))
_BY_ID = select(_DIR).where(_DIR.c.member_id == bindparam("key"))
_BY_PHONE = select(_DIR).where(_DIR.c.phone == bindparam("key"), _DIR.c.status == "active")


def id_bytes(member_id: str) -> bytes:
    """A member id as stored here: its 16 bytes when it is a UUID as written, else its text."""
    try:
        parsed = uuid.UUID(member_id)
    except ValueError:
        return member_id.encode()
    return parsed.bytes if str(parsed) == member_id else member_id.encode()


def id_text(stored: bytes) -> str:
    return str(uuid.UUID(bytes=stored)) if len(stored) == 16 else stored.decode()


def phone_bytes(phone_index: str) -> bytes | None:
    """The blind index (64 hex digits) as its 32 bytes; None for anything else (a placeholder
    of a registration waiting for its merge)."""
    if len(phone_index) != 64:
        return None
    try:
        return bytes.fromhex(phone_index)
    except ValueError:
        return None


def hlc_int(hlc: str) -> int:
    wall, _, counter = hlc.partition("-")
    return int(wall) * _HLC_COUNTER + int(counter) if wall.isdigit() and counter.isdigit() \
        else 0


def holds(conn: Connection, member_id: str) -> bool:
    """Whether the member is held here in full (a ``members`` row)."""
    return conn.scalar(select(_MEMBERS.c.id).where(_MEMBERS.c.id == member_id)) is not None


def full_too(conn: Connection, kind: str, ev: Mapping[str, Any], p: Any,
             store_id: str | None) -> bool:
    """Whether a pulled directory event (typed payload ``p``) also runs its full handler: for
    a member held here in full, a registration of this store's member, a merge (member
    aliases, and the ledgers of members held here) and balance blocks (a row only while
    blocked). Decided before anything is written."""
    if kind == REGISTERED:  # as HQ's home rule (sync/server/routes.py): a phone's members
        home = p.store_id or ev["store_id"]  # share the home of its first registration there
        return store_id is None or home == store_id or holds(conn, p.member_id) or (
            bool(p.phone_index) and conn.scalar(select(_MEMBERS.c.id).where(
                _MEMBERS.c.phone_index == p.phone_index)) is not None)
    if kind in (MERGED, BALANCE_BLOCKED, BALANCE_UNBLOCKED) or kind in SERVICE_TYPES:
        return True
    return holds(conn, p.member_id)


def apply(conn: Connection, kind: str, ev: Mapping[str, Any], p: Any) -> None:
    """Updates the directory for a pulled directory event (after its full handler, if that
    runs: a refusal there writes nothing here)."""
    if kind == REGISTERED:
        register(conn, member_id=p.member_id, member_no=p.member_no, phone_index=p.phone_index,
                 store_id=p.store_id or ev["store_id"], at=ev["created_at"])
        return
    if kind in SERVICE_TYPES:
        return  # written by its full handler
    if kind == MERGED:
        conn.execute(update(_DIR).where(_DIR.c.member_id == id_bytes(p.loser_member_id))
                     .values(status="merged", phone=None))
        return
    key = id_bytes(p.member_id)
    if kind == TIER_CHANGED:
        set_tier(conn, p.member_id, p.to, ev["hlc"])
        return
    bit = BLOCKED if kind in (BALANCE_BLOCKED, BALANCE_UNBLOCKED) else FROZEN
    on = kind in (BALANCE_BLOCKED, SV_FROZEN)
    flags = _DIR.c.flags.op("|")(bit) if on else _DIR.c.flags.op("&")(~bit)
    conn.execute(update(_DIR).where(_DIR.c.member_id == key).values(flags=flags))


def set_tier(conn: Connection, member_id: str, tier: str, hlc: str) -> None:
    """The member's directory tier, when ``hlc`` is newer than the one it holds."""
    at = hlc_int(hlc)
    conn.execute(update(_DIR).where(_DIR.c.member_id == id_bytes(member_id), _DIR.c.tier_at < at)
                 .values(tier=tier, tier_at=at))


def register(conn: Connection, *, member_id: str, member_no: str, phone_index: str,
             store_id: str, at: str | datetime) -> None:
    """The member's directory row (kept when there is one already: a registration seen twice);
    its home store gets a ``stores`` row (named when HQ tells the name)."""
    from pos_member.services.chain_places import ensure_store
    from pos_member.services.wire_values import wire_datetime

    if not is_valid_member_no(member_no):
        raise ValueError(f"not a member number: {member_no!r}")
    if not phone_index:
        raise ValueError("a registration without a phone")
    number, key = int(member_no), id_bytes(member_id)
    if _ROW_BY_NUMBER.first(conn, {"member_no": number}) is not None:
        return
    if _ROW_BY_ID.first(conn, {"member_id": key}) is not None:
        # Renumbered (a restored till's registration HQ stores under another number): HQ's
        # number holds, as in ``own_events.numbered_at_hq``.
        conn.execute(update(_DIR).where(_DIR.c.member_id == key).values(member_no=number))
        return
    store_no = int(member_no[:4])
    ensure_store(conn, store_id, store_no,
                 at if isinstance(at, datetime) else wire_datetime(at))
    alias = _NUMBER_MERGED.first(conn, {"member_no": member_no})
    merged = alias is not None and alias.member_id is not None
    _FAST_INSERT.run(conn, {
        "member_no": number, "member_id": key,
        "phone": None if merged else phone_bytes(phone_index),
        "status": "merged" if merged else "active", "tier": "regular", "tier_at": 0,
        "flags": 0, "store_no": store_no})


_INSERT = insert(_DIR)
# A pulled registration's statements, run on the driver (pos_member/db/prepared.py): a new
# till catching up with its store's history writes a row for each of its members.
_ROW_BY_NUMBER = Prepared(select(_DIR.c.member_no)
                          .where(_DIR.c.member_no == bindparam("member_no")))
_ROW_BY_ID = Prepared(select(_DIR.c.member_no).where(_DIR.c.member_id == bindparam("member_id")))
_NUMBER_MERGED = Prepared(select(MemberAlias.member_id)
                          .where(MemberAlias.member_no == bindparam("member_no")))
_FAST_INSERT = Prepared(_INSERT, column_keys=(
    "member_no", "member_id", "phone", "status", "tier", "tier_at", "flags", "store_no"))


def register_own(conn: Connection, *, member_id: str, member_no: str, phone_index: str) -> None:
    """The directory row of a member registered at this till (``members.register_member``:
    a new number, a phone no active member holds here)."""
    conn.execute(_INSERT, {
        "member_no": int(member_no), "member_id": id_bytes(member_id),
        "phone": phone_bytes(phone_index), "status": "active", "tier": "regular",
        "tier_at": 0, "flags": 0, "store_no": int(member_no[:4])})


def renumber(conn: Connection, member_id: str, member_no: str) -> None:
    """The member's number changed here (a till's re-identity, or HQ's number for a restored
    till's registration): its directory row follows."""
    conn.execute(update(_DIR).where(_DIR.c.member_id == id_bytes(member_id))
                 .values(member_no=int(member_no)))


SNAPSHOT_POSITION = "snapshot_position"  # setting: the position of the snapshot started from


def holds_members(uow: Any) -> bool:
    """Whether any member is held here in full (a till that registered someone is not fresh:
    a snapshot row cannot be applied in full for a member sharing its phone)."""
    with uow.read() as s:
        return s.execute(select(_MEMBERS.c.id).limit(1)).first() is not None


# A snapshot row as the driver takes it: (member_no, member_id, phone, store_no), the rest
# constant (an active member of the regular tier, no flags).
_SNAPSHOT_INSERT = (
    "INSERT INTO member_directory (member_no, member_id, phone, status, tier, tier_at, flags,"
    " store_no) VALUES (?, ?, ?, 'active', 'regular', 0, 0, ?)")
_SNAPSHOT_CHUNK = 10_000


def _insert_snapshot_rows(conn: Connection, rows: list[tuple[int, bytes, bytes | None, int]]
                          ) -> None:
    """Straight through the driver (sqlite3's ``executemany`` of tuples: one prepared
    statement), in the caller's transaction: SQLAlchemy's executemany over dicts processes
    each row's parameters in Python, for a new till's 1,000,000 rows. Errors are raised as
    SQLAlchemy's (as the ``begin`` hook in ``db.engine``), so a full disk still reads as one."""
    cursor = conn.connection.driver_connection.cursor()
    try:
        for i in range(0, len(rows), _SNAPSHOT_CHUNK):
            cursor.executemany(_SNAPSHOT_INSERT, rows[i:i + _SNAPSHOT_CHUNK])
    except sqlite3.Error as e:
        raise DBAPIError.instance(_SNAPSHOT_INSERT, None, e, sqlite3.Error,
                                  dialect=conn.dialect) from e
    finally:
        cursor.close()


def load_snapshot(uow: Any, *, position: int, stores: list[tuple[str, int]],
                  members: list[tuple[str, str, str | None, int]]) -> int:
    """A new till's directory from HQ's snapshot (``GET /v2/snapshot``): one row per member of
    another store, in one transaction with the snapshot's position (``SNAPSHOT_POSITION``:
    the pull then leaves out what the snapshot holds). Rows already here are kept. Returns how
    many rows were added."""
    from pos_member.db.models import Setting
    from pos_member.services.chain_places import ensure_store

    added = 0
    with uow.begin() as tx:
        conn = tx.conn
        now = tx.clock.now()
        for store_id, number in stores:
            ensure_store(conn, store_id, number, now)
        have = set(conn.scalars(select(_DIR.c.member_no)))
        rows = []
        for member_no, member_id, phone_index, store_no in members:
            number = int(member_no)
            if number in have:
                continue
            have.add(number)
            rows.append((number, id_bytes(member_id), phone_bytes(phone_index or ""), store_no))
        _insert_snapshot_rows(conn, rows)
        added = len(rows)
        t = Setting.__table__
        conn.execute(t.delete().where(t.c.key == SNAPSHOT_POSITION))
        conn.execute(t.insert(), {"key": SNAPSHOT_POSITION, "value": str(position)})
        tx.commit()
    return added


class DirectoryMember(NamedTuple):
    """A member as the directory knows them."""

    id: str
    member_no: str
    status: str
    tier: str
    blocked: bool
    frozen: bool
    store_no: int
    store_name: str | None


def _member(conn: Connection, row: Any) -> DirectoryMember:
    name = conn.scalar(select(Store.name).where(Store.number == row.store_no))
    return DirectoryMember(id_text(row.member_id), f"{row.member_no:0{MEMBER_NO_LENGTH}d}",
                           row.status, row.tier, bool(row.flags & BLOCKED),
                           bool(row.flags & FROZEN), row.store_no, name)


def by_number(conn: Connection, member_no: str) -> DirectoryMember | None:
    """By member number; a merged-away number gives the member it was merged into."""
    if not member_no.isdigit():
        return None
    row = conn.execute(_BY_NO, {"key": int(member_no)}).first()
    if row is not None and row.status == "merged":
        winner = conn.scalar(select(MemberAlias.member_id)
                             .where(MemberAlias.member_no == member_no))
        if winner is not None:
            return by_id(conn, winner)
    return None if row is None else _member(conn, row)


def by_id(conn: Connection, member_id: str) -> DirectoryMember | None:
    row = conn.execute(_BY_ID, {"key": id_bytes(member_id)}).first()
    return None if row is None else _member(conn, row)


def status_of(conn: Connection, member_id: str) -> str | None:
    return conn.scalar(select(_DIR.c.status).where(_DIR.c.member_id == id_bytes(member_id)))


def by_phone_index(conn: Connection, phone_index: str) -> DirectoryMember | None:
    key = phone_bytes(phone_index)
    row = conn.execute(_BY_PHONE, {"key": key}).first() if key is not None else None
    return None if row is None else _member(conn, row)


class SaleMember(NamedTuple):
    """What a sale reads of a member (as ``sales._MEMBER_FOR_SALE``), for one known only from
    the directory: their tier and status; no birthday, referrer or spend here."""

    tier: str
    birthday: None
    referrer_id: None
    status: str
    balance: int | None
    earned_today: int
    has_sale: bool
    repeated: str | None
    bill_taken: bool
    spend: None
    growth: None
    remote: bool
    home_store_id: None = None  # not a member row here: the sale's home store comes with it


def sale_member(conn: Connection, member_id: str, *, balance: int | None,
                earned_today: int) -> SaleMember | None:
    """The member of a sale when only the directory knows them (``sales.record_sale``); None
    when it does not either. ``has_sale`` is taken as true: a referral reward is the home
    store's to give."""
    found = by_id(conn, member_id)
    if found is None:
        return None
    return SaleMember(found.tier, None, None, found.status, balance, earned_today, True,
                      None, False, None, None, True)
