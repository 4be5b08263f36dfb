"""HQ's member cards and the remote lookup (issue 14): ``GET /v1/members/lookup``.

``member_cards`` holds one row per registration, kept at ingest (:func:`after_store`): the
card fields of ``member.registered`` (personal data still encrypted, as the event has them),
then the profile edits and tier changes newer by hybrid clock than what the row shows (the
tills' rule), and ``status="merged"`` for a merged-away member; an erased member's card
(``member_service``) takes no profile edit pushed after the erasure. An edit that arrives before its
registration is not shown (a till edits a member only after pulling its registration).

:func:`lookup` finds a member by number (a merged-away number scans to its winner, one step:
``member_redirects`` always points at the final winner) or by the phone's blind index
(``member_index``: the phone's owner), decrypts the phone and name with the chain's data key
only to mask them, and adds the chain-wide balances (``balances``, ``points``). Every read is
in one statement of indexed point reads; the answer never holds a personal value in clear.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from pos_member.crypto import PiiCipher
from pos_member.errors import MalformedCode
from pos_member.events import (
    BIRTHDAY_CTX,
    GENDER_CTX,
    MEMBER_PROFILE_UPDATED,
    MEMBER_REGISTERED,
    MEMBER_TIER_CHANGED,
    NAME_CTX,
    PHONE_CTX,
    TAGS_CTX,
    opened_value,
)
from pos_member.events.base import unseal
from pos_member.member_code import CodeKind, classify_code
from pos_member.phone import mask_name, mask_phone
from sync.member_lookup import MemberLookupResponse, RemoteCard
from sync.server import coupons, lookup_limits
from sync.server.balances import StoredEvent
from sync.server.context import ServerContext
from sync.server.driver import json_text, text_statement, unnest_columns
from sync.server.duplicate_phones import list_value, one_of
from sync.server.errors import BadRequest, MemberNotFoundAtHq
from sync.server.locks import card_key, lock_keys
from sync.server.log import LogWriter
from sync.server.models import (
    Event,
    MemberBalance,
    MemberCardRow,
    MemberIndex,
    MemberPoints,
    MemberRedirect,
    Store,
)

CARDS = MemberCardRow.__table__
# The registration's fields a card shows (ciphertexts included), and those an edit may change.
CARD_FIELDS = ("phone_enc", "name_enc", "gender_enc", "birthday_enc", "gender", "birthday",
               "tags", "tags_enc", "source_channel", "referrer_id", "registered_at",
               "marketing_consent")
EDITABLE = frozenset({"name_enc", "gender_enc", "birthday_enc", "gender", "birthday", "tags",
                      "tags_enc", "marketing_consent"})
# A value an edit sets sealed or in clear (older tills) replaces its other form on the card.
_OTHER_FORM = {"gender_enc": "gender", "gender": "gender_enc", "birthday_enc": "birthday",
               "birthday": "birthday_enc", "tags_enc": "tags", "tags": "tags_enc"}
_CARD_TYPES = frozenset({MEMBER_REGISTERED.type, MEMBER_PROFILE_UPDATED.type,
                         MEMBER_TIER_CHANGED.type})
_UPDATE = (update(CARDS).where(CARDS.c.member_id == bindparam("m"))
           .values(status=bindparam("s"), tier=bindparam("t"), tier_hlc=bindparam("th"),
                   profile=bindparam("p"), profile_hlc=bindparam("ph"),
                   updated_at=bindparam("u")))


# -- kept at ingest ------------------------------------------------------------------------


def registration_row(payload: Mapping[str, Any], *, hlc: str) -> dict[str, Any] | None:
    """The new card row of a ``member.registered`` payload (any version: v1's clear gender
    and birthday are kept as they came), or None when it is not a registration HQ can show."""
    member_id, member_no = payload.get("member_id"), payload.get("member_no")
    if not (isinstance(member_id, str) and 0 < len(member_id) <= 36
            and isinstance(member_no, str) and 0 < len(member_no) <= 32
            and isinstance(payload.get("phone_enc"), str)):
        return None
    store_id = payload.get("store_id")
    return {"member_id": member_id, "member_no": member_no,
            "store_id": store_id if isinstance(store_id, str) and len(store_id) <= 36 else None,
            "status": "active", "tier": "regular", "tier_hlc": "",
            "profile": {k: payload[k] for k in CARD_FIELDS if k in payload},
            "profile_hlc": hlc}


def apply_edit(row: dict[str, Any], event_type: str, payload: Mapping[str, Any],
               hlc: str) -> bool:
    """A profile edit or tier change on a card row (a dict of its columns) when newer than
    what the row shows; True when it changed the row."""
    if event_type == MEMBER_TIER_CHANGED.type:
        to = payload.get("to")
        if isinstance(to, str) and 0 < len(to) <= 32 and hlc > row["tier_hlc"]:
            row["tier"], row["tier_hlc"] = to, hlc
            return True
        return False
    fields = payload.get("fields")
    if not isinstance(fields, Mapping) or hlc < row["profile_hlc"]:
        return False
    changes = {k: v for k, v in fields.items() if k in EDITABLE}
    profile = {k: v for k, v in row["profile"].items()
               if not (k in _OTHER_FORM and _OTHER_FORM[k] in changes)}
    row["profile"] = {**profile, **changes}
    row["profile_hlc"] = hlc
    return bool(changes)


def new_only(log: LogWriter, stored: Sequence[StoredEvent]) -> bool:
    """Whether ``after_store`` only adds new members' cards for these events (registrations,
    no edit and no merge): it takes no key and reads nothing then."""
    mine = [e for e in stored if e.type in _CARD_TYPES]
    return bool(mine) and not log.merges and all(
        e.type == MEMBER_REGISTERED.type for e in mine)


def after_store(log: LogWriter, conn: Connection, stored: Sequence[StoredEvent]) -> None:
    """The push hook: registrations add cards, edits and tier changes update them, this push's
    merges mark the losers. Costs nothing for a batch without member events."""
    mine = [e for e in stored if e.type in _CARD_TYPES]
    merges = list(log.merges)
    if not mine and not merges:
        return
    now = log._now
    if not merges and all(e.type == MEMBER_REGISTERED.type for e in mine):
        _insert_registered(log, mine, now=now)  # the usual push: new members only
        return
    ids = {str(e.payload.get("member_id")) for e in mine} | {
        m.loser_member_id for m in merges}
    lock_keys(conn, [card_key(m) for m in ids])
    rows = {r.member_id: dict(r._mapping) for r in conn.execute(
        select(CARDS).where(one_of(conn, CARDS.c.member_id, "ids")),
        {"ids": list_value(conn, sorted(ids))})}
    new: dict[str, dict[str, Any]] = {}
    dirty: set[str] = set()
    for e in mine:
        payload = e.payload
        if e.type == MEMBER_REGISTERED.type:
            row = registration_row(payload, hlc=_hlc(e))
            if row is not None and row["member_id"] not in rows:
                rows[row["member_id"]] = new[row["member_id"]] = row
            continue
        found = rows.get(str(payload.get("member_id")))
        if found is not None and found["status"] == "erased" \
                and e.type == MEMBER_PROFILE_UPDATED.type:
            continue  # an edit made before the erasure reached its till brings nothing back
        if found is not None and apply_edit(found, e.type, payload, _hlc(e)):
            dirty.add(found["member_id"])
    for merged in merges:
        loser = rows.get(merged.loser_member_id)
        if loser is not None:
            loser["status"] = "merged"
            dirty.add(merged.loser_member_id)
    if new:
        insert_cards(conn, [{**r, "updated_at": now} for r in new.values()])
    changed = [{"m": m, "s": r["status"], "t": r["tier"], "th": r["tier_hlc"],
                "p": r["profile"], "ph": r["profile_hlc"], "u": now}
               for m, r in rows.items() if m in dirty and m not in new]
    if changed:
        conn.execute(_UPDATE, changed)
    for m in dirty & new.keys():  # edited in the push that registered it
        conn.execute(_UPDATE, [{"m": m, "s": new[m]["status"], "t": new[m]["tier"],
                                "th": new[m]["tier_hlc"], "p": new[m]["profile"],
                                "ph": new[m]["profile_hlc"], "u": now}])


def _insert_registered(log: LogWriter, registered: Sequence[StoredEvent], *,
                       now: datetime) -> None:
    """A push of registrations and nothing else a card reads: their cards are inserted, a
    member already holding one keeps it (``ON CONFLICT DO NOTHING``, as ``after_store``
    would leave it: a registration never edits a card), so no key is locked and nothing
    read first (two round trips a push); a push writes them at its end (``later``)."""
    new: dict[str, dict[str, Any]] = {}
    for e in registered:
        row = registration_row(e.payload, hlc=_hlc(e))
        if row is not None:
            new.setdefault(row["member_id"], {**row, "updated_at": now})
    if new:
        log.later.add_cards(new.values())


def cards_insert(params: dict[str, Any], rows: Sequence[Mapping[str, Any]], now: str) -> str:
    """The PostgreSQL insert of new cards, their columns bound into ``params``
    (``driver.unnest_columns``; each profile as its JSON text), ``updated_at`` bound as
    ``now`` (``insert_cards``, ``later``)."""
    source = unnest_columns(params, "c", (
        ("i", [r["member_id"] for r in rows], "text"),
        ("n", [r["member_no"] for r in rows], "text"),
        ("s", [r["store_id"] for r in rows], "text"),
        ("t", [r["tier"] for r in rows], "text"),
        ("th", [r["tier_hlc"] for r in rows], "text"),
        ("p", [json_text(r["profile"]) for r in rows], "text"),
        ("h", [r["profile_hlc"] for r in rows], "text")))
    return (
        "INSERT INTO member_cards (member_id, member_no, store_id, status, tier, tier_hlc, "
        f"profile, profile_hlc, updated_at) SELECT i, n, s, 'active', t, th, CAST(p AS json), "
        f"h, :{now} FROM {source} ON CONFLICT (member_id) DO NOTHING")


def insert_cards(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """New cards (active; each row's columns, ``updated_at`` the same in all), skipping a
    member another push stored meanwhile: one statement on PostgreSQL (one trip) over the
    rows' columns, each bound as one text (``cards_insert``); an ``executemany`` on
    SQLite."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        conn.execute(sqlite_insert(CARDS).on_conflict_do_nothing(), rows)
        return
    params: dict[str, Any] = {"now": rows[0]["updated_at"]}
    text_statement(cards_insert(params, rows, "now")).rows(conn, params)


def _hlc(e: StoredEvent) -> str:
    return str(getattr(e, "hlc", ""))


# -- the lookup ----------------------------------------------------------------------------

_REDIRECTS = MemberRedirect.__table__
_BALANCES = MemberBalance.__table__
_POINTS_T = MemberPoints.__table__
_STORES = Store.__table__
_BY_NO = (select(CARDS.c.member_id).where(CARDS.c.member_no == bindparam("k"))
          .order_by(CARDS.c.status, CARDS.c.member_id).limit(1)  # "active" before "merged"
          .scalar_subquery())
_BY_PHONE = select(MemberIndex.member_id).where(
    MemberIndex.phone_index == bindparam("k")).scalar_subquery()


def _answer_statement(asked: Any) -> Any:
    """One statement, one round trip: the card of the member ``asked`` names (its winner's,
    when it was merged away), its balance, points, store name and HQ's last position."""
    winner = select(_REDIRECTS.c.winner_member_id).where(
        _REDIRECTS.c.loser_member_id == asked).scalar_subquery()
    return (
        select(CARDS, _BALANCES.c.balance_fen, _BALANCES.c.flag_id,
               _POINTS_T.c.points, _STORES.c.name.label("store_name"),
               select(func.max(Event.position)).scalar_subquery().label("position"))
        .select_from(CARDS.outerjoin(_BALANCES, _BALANCES.c.member_id == CARDS.c.member_id)
                     .outerjoin(_POINTS_T, _POINTS_T.c.member_id == CARDS.c.member_id)
                     .outerjoin(_STORES, _STORES.c.id == CARDS.c.store_id))
        .where(CARDS.c.member_id == func.coalesce(winner, asked)))


_ANSWER_BY_NO = _answer_statement(_BY_NO)
_ANSWER_BY_PHONE = _answer_statement(_BY_PHONE)
_NUMBER = select(CARDS.c.member_no).where(CARDS.c.member_id == bindparam("k"))


def parse_key(member_no: str | None, phone_index: str | None) -> tuple[str, str]:
    """("no", member number) or ("phone", blind index); exactly one must be given. A member
    QR's payload reads as its number; a phone number is refused (send its blind index)."""
    if (member_no is None) == (phone_index is None):
        raise BadRequest(detail="give exactly one of member_no and phone_index")
    if phone_index is not None:
        return "phone", phone_index
    try:
        scanned = classify_code(member_no or "")
    except MalformedCode:
        raise BadRequest(detail="member_no is not a member number or member code") from None
    if scanned.kind is not CodeKind.MEMBER:
        raise BadRequest(detail="member_no is a phone number: send its phone_index")
    return "no", scanned.value


def lookup(ctx: ServerContext, *, member_no: str | None = None,
           phone_index: str | None = None, token: str | None = None,
           with_coupons: bool = False) -> MemberLookupResponse:
    """The member's card and chain-wide balances; ``BadRequest``, ``MemberNotFoundAtHq``.
    Reads the primary (``read()``): a registration pushed a moment ago is found. ``token``:
    the caller's device token, checked on the same connection first (``Unauthorized``).
    ``with_coupons``: the member's usable coupons too, to a device of another store."""
    now = ctx.clock.now()
    with ctx.db.read() as pooled:
        # Autocommit: no BEGIN before the reads and no ROLLBACK when the connection goes back
        # to the pool, two round trips of the five; each read is one statement anyway.
        conn = pooled.execution_options(isolation_level="AUTOCOMMIT")
        device = None
        if token is not None:
            from sync.server.services import authenticate_on  # services imports ingest → us

            device = authenticate_on(conn, token=token)
        kind, key = parse_key(member_no, phone_index)
        if device is not None:  # counted and recorded; past the limit: 429, nothing looked up
            lookup_limits.admit(ctx.db, conn, device=device, kind=kind, key=key, now=now)
        row = conn.execute(_ANSWER_BY_NO if kind == "no" else _ANSWER_BY_PHONE,
                           {"k": key}).first()
        if row is None:
            raise MemberNotFoundAtHq(member=key[:14] if kind == "no" else "(phone)")
        referrer = row.profile.get("referrer_id")
        referrer_no = (conn.execute(_NUMBER, {"k": referrer}).scalar()
                       if isinstance(referrer, str) else None)
        cipher = _cipher(ctx.db.keys.data_key(conn))
        held = (coupons.usable_of(conn, row.member_id, now=now) if with_coupons
                and device is not None and device.store_id != row.store_id else [])
    return MemberLookupResponse(
        card=_card(row, cipher, store_name=row.store_name, referrer_no=referrer_no),
        balance_fen=int(row.balance_fen or 0), points=int(row.points or 0),
        blocked=row.flag_id is not None, position=int(row.position or 0), as_of=now,
        coupons=held)


@functools.lru_cache(maxsize=4)
def _cipher(data_key: str) -> PiiCipher:
    return PiiCipher(base64.b64decode(data_key))


def _card(row: Any, cipher: PiiCipher, *, store_name: str | None,
          referrer_no: str | None) -> RemoteCard:
    """The card as the till masks it (``member_cards.make_card``)."""
    p: Mapping[str, Any] = row.profile
    phone = unseal(cipher, p.get("phone_enc"), context=PHONE_CTX) or ""
    name = unseal(cipher, p.get("name_enc"), context=NAME_CTX)
    gender = (unseal(cipher, p["gender_enc"], context=GENDER_CTX) if p.get("gender_enc")
              else p.get("gender"))
    birthday = (unseal(cipher, p["birthday_enc"], context=BIRTHDAY_CTX)
                if p.get("birthday_enc") else p.get("birthday"))
    tags = (opened_value("tags", unseal(cipher, p["tags_enc"], context=TAGS_CTX))
            if p.get("tags_enc") else p.get("tags"))
    return RemoteCard(
        member_id=row.member_id, member_no=row.member_no, phone_masked=mask_phone(phone),
        name_masked=mask_name(name), gender=gender if gender in ("F", "M") else None,
        birthday_month=_month(birthday),
        tags=[t for t in tags if isinstance(t, str)] if isinstance(tags, list) else [],
        channel=str(p.get("source_channel") or "walk_in"), referrer_no=referrer_no,
        tier=row.tier, status=row.status, store_id=row.store_id,
        store_name=store_name or "", registered_at=p.get("registered_at") or row.updated_at,
        marketing_consent=bool(p.get("marketing_consent")))


def _month(birthday: Any) -> int | None:
    try:
        return date.fromisoformat(str(birthday)).month if birthday else None
    except ValueError:
        return None
