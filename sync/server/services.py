"""HQ and device use cases of the central server. Each is a function with keyword-only
arguments that runs in one transaction (``ctx.db.write()``), reads time from ``ctx.clock``,
and raises a ``ServerError`` (nothing written) when it refuses.

``push`` lives in ``ingest`` and ``pull`` in ``pull``; both are re-exported here.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, update

from pos_member.clock import EPOCH, to_ms
from pos_member.errors import RulesInvalid
from pos_member.events import KPI_TARGET_SET, RULES_PUBLISHED, RulesPublished, TargetSet
from pos_member.ids import uuid7_str
from pos_member.kpi_inputs import parse_month, parse_target
from pos_member.rules_config import parse_rules
from sync.protocol import EnrolResponse
from sync.server.context import DeviceIdentity, ServerContext
from sync.server.driver import Statement
from sync.server.errors import (
    BadRequest,
    Conflict,
    DeviceNotFound,
    DeviceRetired,
    EnrolmentRefused,
    StoreNotFound,
    Unauthorized,
)
from sync.server.ingest import push, push_json
from sync.server.log import LogWriter
from sync.server.models import (
    SERVER_STORE_ID,
    Device,
    EnrolmentCode,
    Event,
    Flag,
    RulesVersion,
    Store,
)
from sync.server.pull import pull, pull_json

__all__ = [
    "FlagView", "IssuedCode", "StoreView", "authenticate", "create_store", "enrol",
    "issue_enrolment_code", "list_flags", "publish_rules", "pull", "pull_json", "push", "push_json",
    "revoke_device",
]

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud over the phone
CODE_LENGTH = 10
CODE_VALID_FOR = timedelta(hours=24)
MAX_STORE_NUMBER = 9999  # member numbers hold 4 digits of store number (member_code.py)
MAX_DEVICES_PER_STORE = 99  # ... and 2 digits of device number


@dataclass(frozen=True)
class StoreView:
    id: str
    number: int
    name: str


@dataclass(frozen=True)
class IssuedCode:
    code: str  # shown once; only its hash is stored
    store_number: int
    expires_at: datetime


@dataclass(frozen=True)
class FlagView:
    id: int
    kind: str
    store_id: str | None
    detail: dict[str, Any]
    raised_at: datetime
    resolved_at: datetime | None


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def normalise_code(code: str) -> str:
    """Codes are typed by people: case, spaces and dashes do not matter."""
    return "".join(ch for ch in code.upper() if ch not in " -")


def _name(text: str, what: str) -> str:
    """A store's or till's name, trimmed: 1-100 characters, none a control character (no line
    break, no terminal escape: HQ's listings print it). Raises ``BadRequest``."""
    name = text.strip()
    if not 1 <= len(name) <= 100 or not name.isprintable():
        raise BadRequest(detail=f"{what} must be 1-100 characters, none a control character")
    return name


def create_store(ctx: ServerContext, *, number: int, name: str) -> StoreView:
    """Creates store ``number`` (1-9999, unique). Raises ``BadRequest`` or ``Conflict``."""
    if not 1 <= number <= MAX_STORE_NUMBER:
        raise BadRequest(detail=f"store number must be 1-{MAX_STORE_NUMBER}")
    name = _name(name, "store name")
    with ctx.db.write() as conn:
        if conn.execute(select(Store.id).where(Store.number == number)).first():
            raise Conflict(detail=f"store number {number} exists already")
        store_id = uuid7_str(lambda: to_ms(ctx.clock.now()))
        conn.execute(insert(Store).values(id=store_id, number=number, name=name))
    return StoreView(id=store_id, number=number, name=name)


def store_id_of(conn: Connection, number: int) -> str:
    """The id of store ``number``; ``StoreNotFound`` if the chain has none."""
    found = conn.execute(select(Store.id).where(Store.number == number)).scalar()
    if found is None:
        raise StoreNotFound(number=number)
    return found


def list_stores(ctx: ServerContext) -> list[StoreView]:
    """Every store of the chain, by number."""
    with ctx.db.read() as conn:
        rows = conn.execute(select(Store.id, Store.number, Store.name).order_by(Store.number))
        return [StoreView(id=r.id, number=r.number, name=r.name) for r in rows]


def issue_enrolment_code(ctx: ServerContext, *, store_number: int) -> IssuedCode:
    """A random single-use code for enrolling one device in the store, valid 24 hours.

    Only its SHA-256 is stored, so the returned ``code`` is the one chance to read it.
    """
    now = ctx.clock.now()
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    with ctx.db.write() as conn:
        store_id = store_id_of(conn, store_number)
        conn.execute(insert(EnrolmentCode).values(
            code_hash=_sha256(code), store_id=store_id, issued_at=now,
            expires_at=now + CODE_VALID_FOR, used_at=None, device_id=None,
        ))
    return IssuedCode(code=code, store_number=store_number, expires_at=now + CODE_VALID_FOR)


def enrol(ctx: ServerContext, *, code: str, device_name: str,
          request_id: str | None = None) -> EnrolResponse:
    """Spends the enrolment code and creates a device with the store's next device number.

    Returns the device token (only its hash is stored) and the chain's data key: both once.
    Raises ``EnrolmentRefused`` for an unknown, used or expired code (nothing written). An HQ
    clock set back does not bring an expired code back: a code issued after HQ's now, or
    expired by the time HQ last issued or spent a code, is refused too (docs/rules.md,
    "Enrolment codes").

    ``request_id``: the till's idempotency key (kept on the device). A spent code asked again
    with the request id that spent it, while the code is still valid, is answered with the same
    device and a fresh token (the lost answer's token stops working), as long as that device
    was never used (nothing pushed, not revoked or retired); any other use of a spent code is
    refused (docs/sync.md, "Enrolment and tokens").
    """
    now = ctx.clock.now()
    name = _name(device_name, "device name")
    code_hash = _sha256(normalise_code(code))
    token = secrets.token_urlsafe(32)
    with ctx.db.write() as conn:
        row = conn.execute(
            select(EnrolmentCode.store_id, EnrolmentCode.used_at, EnrolmentCode.expires_at,
                   EnrolmentCode.issued_at, EnrolmentCode.device_id)
            .where(EnrolmentCode.code_hash == code_hash)
        ).first()
        if row is None or row.expires_at <= now \
                or row.issued_at > now or row.expires_at <= _latest_code_time(conn):
            raise EnrolmentRefused()  # the last two: HQ's clock set back (docs/rules.md)
        store = conn.execute(select(Store.__table__).where(Store.id == row.store_id)).one()
        if row.used_at is not None:
            again = _answered_again(conn, row.device_id, request_id)
            if again is None:
                raise EnrolmentRefused()
            conn.execute(update(Device).where(Device.id == again.id)
                         .values(token_hash=_sha256(token)))
            device_id, number = again.id, again.number
        else:
            number = (
                conn.execute(select(func.max(Device.number))
                             .where(Device.store_id == store.id)).scalar() or 0
            ) + 1
            if number > MAX_DEVICES_PER_STORE:
                raise Conflict(detail=f"store {store.number} has {MAX_DEVICES_PER_STORE} "
                                      "devices")
            device_id = uuid7_str(lambda: to_ms(now))
            conn.execute(insert(Device).values(
                id=device_id, store_id=store.id, number=number, name=name,
                token_hash=_sha256(token), enrolled_at=now, revoked_at=None,
                request_id=request_id,
            ))
            conn.execute(
                update(EnrolmentCode).where(EnrolmentCode.code_hash == code_hash)
                .values(used_at=now, device_id=device_id)
            )
        data_key = ctx.db.keys.data_key(conn)
        response = EnrolResponse(
            store_id=store.id, store_number=store.number, store_name=store.name,
            device_id=device_id, device_number=number, token=token, data_key=data_key,
        )
    return response


def _answered_again(conn: Connection, device_id: str | None,
                    request_id: str | None) -> Any | None:
    """The device a spent code enrolled, when ``request_id`` is the one that spent it and the
    device was never used (its answer was lost on the way): else None."""
    if request_id is None or device_id is None:
        return None
    device = conn.execute(select(Device.id, Device.number).where(
        Device.id == device_id, Device.request_id == request_id,
        Device.revoked_at.is_(None), Device.retired_at.is_(None))).first()
    if device is None or conn.execute(select(Event.id).where(Event.device_id == device_id)
                                      .limit(1)).first() is not None:
        return None
    return device


def _latest_code_time(conn: Connection) -> datetime:
    """The latest time HQ issued or spent an enrolment code: HQ's clock has been there, so a
    code expired by then stays expired whatever the clock says now (a small table: codes)."""
    issued, used = conn.execute(select(func.max(EnrolmentCode.issued_at),
                                       func.max(EnrolmentCode.used_at))).one()
    return max(t for t in (issued, used, EPOCH) if t is not None)


# Built once: every push and pull asks it; a statement built per call cost SQLAlchemy more CPU
# (~0.4 ms: its cache key, the cached result's columns adapted) than the query took.
_BY_TOKEN = Statement(select(Device.id, Device.store_id, Device.number, Device.name,
                             Device.revoked_at, Device.retired_at, Device.replaces_device_id
                             ).where(Device.token_hash == bindparam("token_hash")))


def authenticate(ctx: ServerContext, *, token: str, allow_retired: bool = False
                 ) -> DeviceIdentity:
    """The device holding ``token``. Raises ``Unauthorized`` if unknown or revoked, and
    ``DeviceRetired`` if its identity went to a successor (unless ``allow_retired``: the one
    thing such a token may do is ask for a new identity). One statement in autocommit: no
    BEGIN before it and no ROLLBACK when the connection goes back to the pool (every push and
    pull starts here: three round trips were two too many)."""
    with ctx.db.read() as pooled:
        conn = pooled.execution_options(isolation_level="AUTOCOMMIT")
        return authenticate_on(conn, token=token, allow_retired=allow_retired)


def authenticate_on(conn: Connection, *, token: str, allow_retired: bool = False
                    ) -> DeviceIdentity:
    """:func:`authenticate` on a connection the caller holds for its own reads too (one
    checkout and transaction for a small request: the remote member lookup)."""
    rows = _BY_TOKEN.rows(conn, {"token_hash": _sha256(token)})
    row = rows[0] if rows else None
    if row is None or row.revoked_at is not None:
        raise Unauthorized()
    if row.retired_at is not None and not allow_retired:
        raise DeviceRetired()
    return DeviceIdentity(id=row.id, store_id=row.store_id, number=row.number, name=row.name,
                          retired=row.retired_at is not None, replaces=row.replaces_device_id)


def revoke_device(ctx: ServerContext, *, device_id: str) -> None:
    """Revokes the device's token from now on (idempotent). Raises ``DeviceNotFound``."""
    now = ctx.clock.now()
    with ctx.db.write() as conn:
        revoked = conn.execute(
            select(Device.revoked_at).where(Device.id == device_id)
        ).first()
        if revoked is None:
            raise DeviceNotFound(device_id=device_id)
        if revoked.revoked_at is None:
            conn.execute(update(Device).where(Device.id == device_id).values(revoked_at=now))


def publish_rules(ctx: ServerContext, *, path: Path, starts_at: datetime | None = None) -> str:
    """Validates the rules file, stores it as a new version and appends a ``rules.published``
    server event (payload: version, source, published_at) that every till pulls.

    ``starts_at`` (default: now) is when tills put it in force, while running; a naive time
    is UTC. Returns the version. Raises ``RulesInvalid`` for a bad file and ``Conflict`` when
    the version was published before.
    """
    try:
        source = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise RulesInvalid(field="(file)", problem=f"cannot read {path}: {e}") from None
    rules = parse_rules(source)
    now = ctx.clock.now()
    with ctx.db.write() as conn:
        if conn.execute(select(RulesVersion.version).where(RulesVersion.version == rules.version)
                        ).first():
            raise Conflict(detail=f"rules version {rules.version} was published before")
        conn.execute(insert(RulesVersion).values(
            version=rules.version, source=source, published_at=now
        ))
        LogWriter(conn, now=now).append_server_event(
            type=RULES_PUBLISHED, entity_id=None, rules_version=rules.version,
            payload=RulesPublished(version=rules.version, source=source,
                                   published_at=now.isoformat(),
                                   starts_at=_aware(starts_at or now).isoformat()),
        )
    return rules.version


def set_store_target(ctx: ServerContext, *, store_number: int, month: str, target: str | int
                     ) -> tuple[str, int]:
    """HQ sets a store's new-member target for a month (SPEC §2.7): a ``kpi.target_set`` server
    event the store's tills pull and apply like the manager's own (newest write wins). Returns
    the month and target as stored. Refuses a bad month or target (``InvalidMonth``,
    ``InvalidTarget``) or an unknown store, writing nothing."""
    month, target = parse_month(month), parse_target(target)
    with ctx.db.write() as conn:
        store_id = store_id_of(conn, store_number)
        LogWriter(conn, now=ctx.clock.now()).append_server_event(
            type=KPI_TARGET_SET, entity_id=None,
            payload=TargetSet(store_id=store_id, month=month, target=target),
            after_hlc=_newest_target_hlc(conn, store_id, month),
        )
    return month, target


def _newest_target_hlc(conn: Connection, store_id: str, month: str) -> str | None:
    """The newest HLC of the store's target for ``month`` (its tills' and HQ's): HQ's must sort
    after it to win on every till, even over one a till stamped with a clock far ahead."""
    rows = conn.execute(select(Event.hlc, Event.payload).where(
        Event.type == KPI_TARGET_SET.type,
        Event.store_id.in_((store_id, SERVER_STORE_ID)))).all()
    return max((r.hlc for r in rows if isinstance(r.payload, dict)
                and r.payload.get("store_id") == store_id and r.payload.get("month") == month),
               default=None)


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def list_flags(ctx: ServerContext, *, open_only: bool = False, kind: str | None = None,
               store_number: int | None = None, since: date | None = None) -> list[FlagView]:
    """Flags raised for HQ, oldest first: open ones only, of one kind, of one store, raised on
    or after a UTC day."""
    query = select(Flag.__table__).order_by(Flag.id)
    if open_only:
        query = query.where(Flag.resolved_at.is_(None))
    if kind is not None:
        query = query.where(Flag.kind == kind)
    if since is not None:
        query = query.where(Flag.raised_at >= datetime.combine(since, time(), tzinfo=UTC))
    with ctx.db.read() as conn:
        if store_number is not None:
            query = query.where(Flag.store_id == store_id_of(conn, store_number))
        rows = conn.execute(query).all()
    return [
        FlagView(id=r.id, kind=r.kind, store_id=r.store_id, detail=r.detail,
                 raised_at=r.raised_at, resolved_at=r.resolved_at)
        for r in rows
    ]
