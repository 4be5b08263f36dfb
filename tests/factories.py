"""Factories for tests: a set-up till on a temporary SQLite file, staff per role, members."""

from __future__ import annotations

import atexit
import base64
import os
import shutil
import sqlite3
import tempfile
import uuid
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Any

from pos_member.bootstrap import App, bootstrap
from pos_member.clock import FakeClock
from pos_member.crypto import MemoryKeyStore, PiiCipher
from pos_member.db.engine import upgrade
from pos_member.permissions import Clerk, Role
from pos_member.services.member_cards import MemberCard
from pos_member.services.members import register_member
from pos_member.services.outbox import pending_events
from pos_member.services.setup import get_setting
from pos_member.services.staff import create_staff

PINS = {Role.ADMIN: "975310", Role.MANAGER: "802468", Role.CASHIER: "135790", Role.GUIDE: "246801"}
_phones = count(10_000_000)
_server_seq = count(1)
_schema: Path | None = None  # an empty till database at the newest schema, made once


@dataclass
class Till:
    app: App
    clock: FakeClock
    keystore: MemoryKeyStore
    clerks: dict[Role, Clerk]
    path: Path

    @property
    def uow(self):  # type: ignore[no-untyped-def]
        return self.app.uow

    @property
    def cashier(self) -> Clerk:
        return self.clerks[Role.CASHIER]

    @property
    def manager(self) -> Clerk:
        return self.clerks[Role.MANAGER]

    @property
    def guide(self) -> Clerk:
        return self.clerks[Role.GUIDE]

    def register(self, phone: str | None = None, **kw: object) -> MemberCard:
        kw.setdefault("privacy_consent", True)
        kw.setdefault("clerk", self.cashier)
        return register_member(
            self.uow, phone=new_phone() if phone is None else phone, **kw
        )  # type: ignore[arg-type]

    def table_counts(self) -> dict[str, int]:
        return table_counts(self.path)

    def dump(self) -> str:
        """Every row of every table as SQL: a refusal or a repeat must leave all of them as
        they were (row counts alone would miss a balance, a lot or a flag updated in place)."""
        return dump_database(self.path)


def dump_database(db: Path) -> str:
    """The schema (every table, index and trigger) and every row of every table, in storage
    order, one line each: what ``iterdump`` says, in a form compared as reliably (a value's
    type shows: 1, '1' and 1.0 differ), without its two queries and SQL quoting per table."""
    con = sqlite3.connect(db)
    try:
        schema = con.execute("SELECT type, name, tbl_name, sql FROM sqlite_master "
                             "ORDER BY type, name").fetchall()
        lines = [repr(row) for row in schema]
        for kind, name, _, _ in schema:
            if kind == "table":
                lines.append(f"-- {name}")
                lines.extend(repr(row) for row in con.execute(f'SELECT * FROM "{name}"'))
        return "\n".join(lines)
    finally:
        con.close()


def table_counts(db: Path) -> dict[str, int]:
    """Row counts of every table: tests compare them to prove nothing changed."""
    con = sqlite3.connect(db)
    try:
        names = [r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
        return {n: con.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}
    finally:
        con.close()


def new_phone() -> str:
    return f"139{next(_phones):08d}"


def migrated_database(path: Path) -> Path:
    """Puts an empty till database at the newest schema at ``path`` unless one is there: a
    copy of one that the real migrations built once in this test process, so opening it runs
    none (Alembic was half the cost of setting up a till). The migrations themselves:
    tests/core/test_db.py."""
    global _schema
    if path.exists():
        return path
    if _schema is None:
        folder = Path(tempfile.mkdtemp(prefix="posm-schema-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        upgrade(folder / "head.sqlite")
        _schema = folder / "head.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_schema, path)
    return path


def make_till(tmp_path: Path, *, clock: FakeClock | None = None, store_number: int = 1,
              device_number: int = 1, data_key: str | None = None,
              store_id: str | None = None) -> Till:
    """A set-up till. ``data_key`` (base64, 64 bytes) replaces its own key, as enrolment hands
    every till the chain's key: tills sharing one can read each other's members. ``store_id``:
    another till's store (this till is one more of it)."""
    clock = clock or FakeClock()
    keystore = MemoryKeyStore()
    path = tmp_path / f"till-{store_number}-{device_number}.sqlite"
    app = bootstrap(migrated_database(path), keystore=keystore, clock=clock)
    # One id per store number, as HQ gives a store's tills its one id at enrolment: tills of
    # one store hold its members in full, another store's only in the member directory.
    store_id = store_id or str(uuid.uuid5(uuid.NAMESPACE_URL, f"pos-member:store:{store_number}"))
    ident = app.set_up(keystore, store_number=store_number, store_name=f"门店{store_number}",
                       device_number=device_number, device_name="收银台", store_id=store_id)
    if data_key is not None:
        with app.uow.read() as s:
            key_id = get_setting(s, "data_key_id")
        keystore.put(f"data-key:{key_id}", data_key)
        app.uow.cipher = PiiCipher(base64.b64decode(data_key))
    system = ident.system_clerk()
    clerks: dict[Role, Clerk] = {}
    for i, role in enumerate(Role):
        code = f"{store_number}{i}01" if device_number == 1 else \
            f"{store_number}{device_number}{i}01"  # a store's second till: its own staff
        info = create_staff(app.uow, clerk=system, code=code,
                            name=f"{role.value}-{i}", role=role, secret=PINS[role])
        clerks[role] = Clerk(info.id, info.name, role, ident.store_id, ident.device_id)
    return Till(app, clock, keystore, clerks, path)


def clone_till(till: Till, path: Path) -> Till:
    """Another till opened on a copy of ``till``'s database at ``path`` (SQLite's backup, so
    its committed state, WAL included): the same identity, staff, data key and clock. Cheaper
    than :func:`make_till` when many tests or examples each need a till in the same state."""
    src, dst = sqlite3.connect(till.path), sqlite3.connect(path)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    app = bootstrap(path, keystore=till.keystore, clock=till.clock)
    return Till(app, till.clock, till.keystore, dict(till.clerks), path)


def new_data_key() -> str:
    return base64.b64encode(os.urandom(64)).decode()


def wire_events(till: Till) -> list[dict[str, Any]]:
    """Every event the till has not had acknowledged, in the wire shape (as pushed)."""
    return pending_events(till.uow, device_id=till.app.identity.device_id, limit=1_000_000)


def server_event(type: str, payload: dict[str, Any], *, hlc: str = "001767600000000-000000",
                 created_at: str = "2026-01-05T12:00:00+00:00") -> dict[str, Any]:
    """An event the central server itself issues (a merge, a rules version), in the wire shape."""
    return {"id": str(uuid.uuid4()), "store_id": "hq", "device_id": "server",
            "seq": next(_server_seq), "clerk_id": None, "hlc": hlc, "type": type,
            "entity_id": None, "payload_version": 1, "payload": payload,
            "rules_version": "server", "created_at": created_at}


def as_changes(events: list[dict[str, Any]], *, first_position: int = 1) -> list[dict[str, Any]]:
    """Events as one pulled page's changes, numbered in the given order."""
    return [{"position": first_position + i, "event": e} for i, e in enumerate(events)]


def apply_pulled(till: Till, events: list[dict[str, Any]], *, first: int = 1) -> None:
    """Applies ``events`` at ``till`` as one pulled page starting at position ``first``."""
    from pos_member.services.pulled_events import apply_page

    assert till.app.identity is not None
    apply_page(till.uow, device_id=till.app.identity.device_id,
               changes=as_changes(events, first_position=first), cursor=first + len(events) - 1)


def without_welcome_pack(till: Till) -> None:
    """The till's rules without the welcome coupon pack (a test counting what a registration
    writes or sends, where the pack is not the point)."""
    import dataclasses

    rules = till.uow.rules
    till.uow.rules = dataclasses.replace(rules, registration=dataclasses.replace(
        rules.registration, welcome_coupon_pack=""))


def hq_coupon(till: Till, member_id: str, template: str = "CPN-10") -> str:
    """A coupon HQ issued to the member (``pos-member-server issue-coupons``), as the till
    pulls it: HQ's device, the member's home store, source "hq". Returns its key."""
    from pos_member.coupon_rules import terms_of, validity

    t = till.uow.rules.coupons.template(template)
    assert t is not None and till.app.identity is not None
    now = till.clock.now()
    start, end = validity(t, now, till.clock.zone)
    key = os.urandom(6).hex()
    coupon = {"key": key, "member_id": member_id, "template": t.code, "name": t.name,
              "terms": terms_of(t), "valid_from": start.isoformat(),
              "valid_until": end.isoformat(), "source": "hq",
              "trigger_key": f"hq:test:{member_id}:{key}", "issued_at": now.isoformat(),
              "store_id": till.app.identity.store_id, "device_id": "server"}
    event = {**server_event("coupon.issued", {"member_id": member_id, "coupon": coupon,
                                              "reason": "store anniversary"}),
             "store_id": till.app.identity.store_id, "entity_id": member_id}
    apply_pulled(till, [event], first=next(_server_seq) + 1000)
    return key


class HqBalanceSays:
    """A fake of HQ's chain-wide stored-value balance (``member_privacy.ChainBalance``):
    ``fen`` for every member, or None for an HQ that could not be asked."""

    def __init__(self, fen: int | None = 0) -> None:
        self.fen = fen

    def chain_balance_fen(self, *, member_no: str) -> int | None:
        return self.fen


NOTHING_AT_HQ = HqBalanceSays(0)


def enrolled(till: Till) -> None:
    """The till as enrolment leaves it, HQ's address kept: a till of a chain (one never
    enrolled is a store on its own)."""
    from pos_member.services.outbox import SERVER_URL, put_setting

    with till.uow.begin() as tx:
        put_setting(tx.session, SERVER_URL, "https://hq.example.invalid")
        tx.commit()
