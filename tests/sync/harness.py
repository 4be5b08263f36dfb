"""A restartable central server on loopback, enrolled tills, a fault-injecting TCP proxy, the
exactly-once check the fault and staff-sync tests end with, a workload that moves the points
and stored-value ledgers (:func:`visit`), and the ledger invariants checked after it
(:func:`assert_ledgers` at a till, :meth:`Central.assert_balances` on the server).

The server is the real app under uvicorn (tests/server/live.serve) over a real database
(SQLite file or PostgreSQL, tests/sync/conftest.py). Stopping and starting it keeps the
database, as a restarted server process would; its port changes (port 0), so clients take the
current ``base_url`` each time.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from pos_member.bootstrap import App, bootstrap
from pos_member.clock import FakeClock
from pos_member.crypto import MemoryKeyStore
from pos_member.db.models import (
    DirectoryEntry,
    Member,
    PointsAccount,
    PointsEntry,
    PointsLot,
    SvAccount,
    SvLedgerEntry,
)
from pos_member.db.models import Event as TillEvent
from pos_member.permissions import Clerk
from pos_member.services import stored_value
from pos_member.services.enrolment import FirstAdmin, device_token
from pos_member.services.member_auth import provision_totp, totp_at
from pos_member.services.member_cards import MemberCard
from pos_member.services.members import register_member
from pos_member.services.outbox import pending_count
from pos_member.services.sale_refunds import refund_sale
from pos_member.services.sales import record_sale
from pos_member.services.staff import login
from sync.client import SyncClient
from sync.engine import SyncReport, enrol, sync_once
from sync.server import services
from sync.server.app import create_app
from sync.server.db import open_server_database
from sync.server.models import (
    Event,
    Flag,
    HeldEvent,
    MemberBalance,
    MemberHome,
    MemberPoints,
    MemberRedirect,
)
from sync.server.routes import homes_of
from tests.factories import migrated_database, new_phone
from tests.server.live import migrated, serve

ROOT = Path(__file__).resolve().parents[2]
# What ``verify=True`` builds for every client (the CA bundle, ~35 ms a time), built once: the
# tests' servers speak plain HTTP, so no certificate is ever checked with it. A test of TLS
# passes its own ``verify``.
_DEFAULT_VERIFY = httpx.create_ssl_context()


class Central:
    """The central server: a database that outlives any number of server processes."""

    def __init__(self, url: str, stores: tuple[int, ...] = (1, 2)) -> None:
        self.url = url
        self.clock = FakeClock()
        migrated(url)
        self._running: ExitStack | None = None
        self.base_url = ""
        self.start()
        for n in stores:
            services.create_store(self.ctx, number=n, name=f"store {n}")

    @property
    def running(self) -> bool:
        return self._running is not None

    def start(self) -> str:
        assert self._running is None
        app = create_app(self.url, clock=self.clock)
        self.ctx = app.state.ctx
        self._running = ExitStack()
        self.base_url = self._running.enter_context(serve(app))
        return self.base_url

    def stop(self) -> None:
        if self._running is not None:
            self._running.close()
            self._running = None
            self.base_url = ""

    def restart(self) -> str:
        self.stop()
        return self.start()

    def code(self, store_number: int) -> str:
        return services.issue_enrolment_code(self.ctx, store_number=store_number).code

    # -- what the server holds (read with a database connection of its own) -----------------

    def query(self, fn: Callable[[Any], Any]) -> Any:
        db = open_server_database(self.url)
        try:
            with db.read() as conn:
                return fn(conn)
        finally:
            db.dispose()

    def events_of(self, device_id: str) -> list[Any]:
        return self.query(lambda c: c.execute(
            select(Event.seq, Event.id, Event.position).where(Event.device_id == device_id)
            .order_by(Event.seq)).all())

    def flags(self, kind: str) -> list[dict[str, Any]]:
        return self.query(lambda c: [r.detail for r in c.execute(
            select(Flag.detail).where(Flag.kind == kind))])

    def assert_exactly_once(self, till: Till) -> None:
        """Every event the till wrote is on the server once, under its own seq, with one
        position; positions are unique chain-wide (and gapless on SQLite: on PostgreSQL they
        come from the writing transaction); nothing is held; the till has nothing pending."""
        rows = self.events_of(till.device_id)
        with till.app.uow.read() as s:
            mine = dict(s.execute(select(TillEvent.seq, TillEvent.id)
                                  .where(TillEvent.device_id == till.device_id)).all())
        assert [r.seq for r in rows] == sorted(mine) == list(range(1, len(mine) + 1))
        assert {r.seq: r.id for r in rows} == mine
        assert len({r.position for r in rows}) == len(rows)

        def chain(c: Any) -> tuple[list[int], int, int]:
            positions = list(c.scalars(select(Event.position).order_by(Event.position)))
            ids = c.scalar(select(func.count(func.distinct(Event.id))))
            held = c.scalar(select(func.count()).select_from(HeldEvent)
                            .where(HeldEvent.device_id == till.device_id))
            return positions, ids, held

        positions, distinct_ids, held = self.query(chain)
        assert len(set(positions)) == len(positions)
        if not self.url.startswith("postgresql"):
            assert positions == list(range(1, len(positions) + 1))
        assert distinct_ids == len(positions)
        assert held == 0
        assert pending_count(till.app.uow, device_id=till.device_id) == 0

    def balances(self) -> dict[str, int]:
        """``member_balances.balance_fen`` by member (what the server's hook summed)."""
        return self.query(lambda c: {m: int(b) for m, b in c.execute(
            select(MemberBalance.member_id, MemberBalance.balance_fen))})

    def expected_balances(self) -> dict[str, int]:
        """Each member's chain-wide stored value summed afresh from the global log: principal
        plus bonus deltas of every ``sv.*`` money event, a merged loser's counted for the
        member ``member_redirects`` names as its winner."""
        def read(c: Any) -> tuple[dict[str, str], list[Any]]:
            redirects = dict(c.execute(select(MemberRedirect.loser_member_id,
                                              MemberRedirect.winner_member_id)).all())
            payloads = list(c.scalars(select(Event.payload).where(Event.type.like("sv.%"))
                                      .order_by(Event.position)))
            return redirects, payloads

        redirects, payloads = self.query(read)
        totals: dict[str, int] = defaultdict(int)
        for p in payloads:
            if "principal_delta_fen" not in p:
                continue  # a PIN set, a TOTP provisioned, a lock, a freeze
            member = redirects.get(p["member_id"], p["member_id"])
            totals[member] += int(p["principal_delta_fen"]) + int(p["bonus_delta_fen"])
        return dict(totals)

    def assert_balances(self) -> None:
        """On the server, every member's ``balance_fen`` equals its ``sv.*`` events' sum."""
        held, expected = self.balances(), self.expected_balances()
        for member in held.keys() | expected.keys():
            assert held.get(member, 0) == expected.get(member, 0), member

    def assert_consistent(self, *tills: Till) -> None:
        """What every fault test ends with: each till's events stored exactly once, each till's
        balances and points equal to its ledgers, the server's balances equal to its log."""
        for till in tills:
            self.assert_exactly_once(till)
            assert_ledgers(till.app)
        self.assert_balances()

    def homes(self) -> dict[str, str]:
        """Member id → its home store at HQ (a merged loser's is its winner's): the store
        whose tills hold the member in full (docs/scale.md, "What a till pulls")."""
        return self.query(lambda c: homes_of(c, list(c.scalars(select(MemberHome.member_id)))))

    def figures(self) -> dict[str, tuple[int, int]]:
        """HQ's chain-wide (points, stored value in fen) of every member with either."""
        def read(c: Any) -> dict[str, tuple[int, int]]:
            out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
            for m, p in c.execute(select(MemberPoints.member_id, MemberPoints.points)):
                out[m][0] = int(p)
            for m, b in c.execute(select(MemberBalance.member_id, MemberBalance.balance_fen)):
                out[m][1] = int(b)
            return {m: (v[0], v[1]) for m, v in out.items() if any(v)}
        return self.query(read)

    def assert_till_agrees(self, till: Till) -> None:
        """A till that has pulled everything holds, for every member of its store (their home,
        HQ says) the server keeps a balance of, that balance in its own stored-value ledger
        (and nothing for the others). Members of other stores are held at their own store;
        here only what this store recorded of them."""
        assert till.app.identity is not None
        store, homes = till.app.identity.store_id, self.homes()
        server = {m: b for m, b in self.balances().items() if b and homes.get(m) == store}
        with till.app.uow.read() as s:
            local = {m: int(p + b) for m, p, b in s.execute(
                select(SvLedgerEntry.member_id, func.sum(SvLedgerEntry.principal_delta_fen),
                       func.sum(SvLedgerEntry.bonus_delta_fen))
                .group_by(SvLedgerEntry.member_id)) if p + b and homes.get(m) == store}
        assert local == server

    def assert_home_agrees(self, till: Till) -> None:
        """Every member of the till's store (their home) shows at the till the points and
        stored value HQ holds chain-wide: their ledgers are complete at home."""
        assert till.app.identity is not None
        store, homes = till.app.identity.store_id, self.homes()
        hq = {m: v for m, v in self.figures().items() if homes.get(m) == store}
        local = {m: (p, pr + b) for m, (p, pr, b) in points_and_balances(till.app).items()
                 if homes.get(m) == store and (p or pr + b)}
        assert local == hq


# -- the ledgers: invariants, and a workload that moves them ----------------------------------


def assert_ledgers(app: App) -> None:
    """At a till, read from the tables: every member's points balance is its ledger's sum, its
    open lots hold exactly the balance (nothing when it is negative: a debt takes from the
    lots), no lot holds more than it was given or less than nothing; every stored-value
    account's principal and bonus are its ledger's sums, and nobody's principal is negative
    unless its total is (an overdraw from two stores)."""
    with app.uow.read() as s:
        ledger = dict(s.execute(select(PointsEntry.member_id, func.sum(PointsEntry.points))
                                .group_by(PointsEntry.member_id)).all())
        balances = dict(s.execute(select(PointsAccount.member_id, PointsAccount.balance)).all())
        lots = dict(s.execute(select(PointsLot.member_id, func.sum(PointsLot.remaining))
                              .where(PointsLot.remaining > 0)
                              .group_by(PointsLot.member_id)).all())
        bad_lots = s.scalar(select(func.count()).select_from(PointsLot).where(
            (PointsLot.remaining < 0) | (PointsLot.remaining > PointsLot.points)))
        sv_ledger = {m: (int(p), int(b)) for m, p, b in s.execute(
            select(SvLedgerEntry.member_id, func.sum(SvLedgerEntry.principal_delta_fen),
                   func.sum(SvLedgerEntry.bonus_delta_fen)).group_by(SvLedgerEntry.member_id))}
        accounts = {m: (p, b) for m, p, b in s.execute(
            select(SvAccount.member_id, SvAccount.principal_fen, SvAccount.bonus_fen))}
    for member in ledger.keys() | balances.keys():
        assert balances.get(member, 0) == ledger.get(member, 0), ("points", member)
        assert lots.get(member, 0) == max(0, balances.get(member, 0)), ("lots", member)
    assert lots.keys() <= balances.keys()
    assert bad_lots == 0
    for member in sv_ledger.keys() | accounts.keys():
        assert accounts.get(member, (0, 0)) == sv_ledger.get(member, (0, 0)), ("sv", member)


def members_held(app: App) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """(id, number, status) of the members the till holds in full, and of every member in its
    chain-wide directory, each sorted."""
    from pos_member.services import member_directory

    with app.uow.read() as s:
        held = sorted(tuple(r) for r in s.execute(
            select(Member.id, Member.member_no, Member.status)))
        directory = sorted(
            (member_directory.id_text(r.member_id), f"{r.member_no:014d}", r.status)
            for r in s.execute(select(DirectoryEntry.member_id, DirectoryEntry.member_no,
                                      DirectoryEntry.status)))
    return held, directory


def points_and_balances(app: App) -> dict[str, tuple[int, int, int]]:
    """Every member with points or stored value: (points, principal, bonus), from the
    projections (the tills must agree on these after a full sync)."""
    with app.uow.read() as s:
        out: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        for m, b in s.execute(select(PointsAccount.member_id, PointsAccount.balance)):
            out[m][0] = b
        for m, p, b in s.execute(select(SvAccount.member_id, SvAccount.principal_fen,
                                        SvAccount.bonus_fen)):
            out[m][1:] = [p, b]
    return {m: (v[0], v[1], v[2]) for m, v in out.items() if any(v)}


@dataclass(frozen=True)
class Customer:
    member_id: str
    totp_secret: str  # the member's authenticator app


TOPUP_FEN = 10_000  # ¥100, +¥10 bonus under the default rules
SALE_FEN = 12_000


def new_customer(app: App, clerk: Clerk, clock: FakeClock, phone: str) -> Customer:
    """Registers a member (welcome points) and provisions its TOTP (the system clerk is an
    administrator, so it approves too: no staff PIN to hash)."""
    clock.advance(seconds=21)  # the till allows 30 registrations in 10 minutes
    card = register_member(app.uow, clerk=clerk, phone=phone, privacy_consent=True)
    secret = provision_totp(app.uow, clerk=clerk, approver=clerk, member_id=card.id).secret
    return Customer(card.id, secret)


def top_up(app: App, clerk: Clerk, customer: Customer, fen: int = TOPUP_FEN) -> None:
    stored_value.top_up(app.uow, clerk=clerk, member_id=customer.member_id, amount_fen=fen,
                        method="cash", txn_id=str(uuid.uuid4()))


def sale(app: App, clerk: Clerk, customer: Customer, fen: int = SALE_FEN, *,
         redeem: int = 0) -> str:
    """Rings up a sale for the member (redeeming ``redeem`` points); returns the bill number."""
    bill_no = f"F{uuid.uuid4().hex[:16]}"
    record_sale(app.uow, clerk, txn_id=str(uuid.uuid4()), bill_no=bill_no, amount_fen=fen,
                member_id=customer.member_id, redeem_points=redeem)
    return bill_no


def refund(app: App, clerk: Clerk, bill_no: str, fen: int | None = None) -> None:
    """A refund; ``clerk`` is a manager here, who approves it themself."""
    refund_sale(app.uow, clerk, approver=clerk, txn_id=str(uuid.uuid4()), bill_no=bill_no,
                amount_fen=fen)


def pay(app: App, clerk: Clerk, clock: FakeClock, customer: Customer, fen: int, *,
        online: bool = False, step: bool = True) -> None:
    """Pays from stored value with the member's TOTP code (offline by default: the factor
    that works without the server). Each code is taken once: the clock moves a step first
    (``step=False``: the caller moved it)."""
    if step:
        clock.advance(seconds=30)
    code = totp_at(customer.totp_secret, int(clock.now().timestamp()))
    stored_value.pay(app.uow, clerk=clerk, member_id=customer.member_id, amount_fen=fen,
                     txn_id=str(uuid.uuid4()), factor=stored_value.TotpFactor(code),
                     online=online)


def visit(app: App, clerk: Clerk, clock: FakeClock, phone: str) -> Customer:
    """One customer's visit, moving both ledgers with every kind of entry: registration (100
    welcome points), a ¥100 top-up (+¥10 bonus), a ¥120 sale redeeming the welcome points,
    ¥30 paid from stored value with a TOTP code, a second sale half refunded (its points
    taken back)."""
    c = new_customer(app, clerk, clock, phone)
    top_up(app, clerk, c)
    sale(app, clerk, c, redeem=100)
    pay(app, clerk, clock, c, 3_000)
    refund(app, clerk, sale(app, clerk, c, 6_000), 3_000)
    return c


@dataclass
class Till:
    path: Path
    keystore: MemoryKeyStore
    clock: FakeClock
    central: Central
    app: App = field(init=False)

    def __post_init__(self) -> None:
        self.app = bootstrap(migrated_database(self.path), keystore=self.keystore,
                             clock=self.clock)

    @property
    def device_id(self) -> str:
        assert self.app.identity is not None
        return self.app.identity.device_id

    @property
    def clerk(self) -> Clerk:
        assert self.app.identity is not None
        return self.app.identity.system_clerk()

    def client(self, base_url: str | None = None, **kw: Any) -> SyncClient:
        kw.setdefault("verify", _DEFAULT_VERIFY)
        return SyncClient(base_url or self.central.base_url,
                          device_token(self.keystore, self.device_id), **kw)

    def sync(self, base_url: str | None = None, **kw: Any) -> SyncReport:
        with self.client(base_url) as client:
            return sync_once(self.app, client, **kw)

    def register(self, n: int = 1) -> list[MemberCard]:
        """``n`` members, 21 s apart (the till allows 30 registrations in 10 minutes)."""
        cards = []
        for _ in range(n):
            self.clock.advance(seconds=21)
            cards.append(register_member(self.app.uow, clerk=self.clerk, phone=new_phone(),
                                         privacy_consent=True))
        return cards

    def visit(self, n: int = 1) -> list[Customer]:
        """``n`` customers' visits (:func:`visit`): both ledgers move."""
        return [visit(self.app, self.clerk, self.clock, new_phone()) for _ in range(n)]

    def login(self, code: str, secret: str) -> Clerk:
        return login(self.app.uow, code=code, secret=secret, device_id=self.device_id)

    def events(self) -> int:
        with self.app.uow.read() as s:
            return int(s.scalar(select(func.count()).select_from(TillEvent)) or 0)

    def close(self) -> None:
        self.app.close()

    def reopen(self) -> None:
        self.app.close()
        self.app = bootstrap(self.path, keystore=self.keystore, clock=self.clock)

    # -- another process on the same till database -----------------------------------------

    def child(self, action: str, *, timeout: float = 60,
              **args: Any) -> subprocess.CompletedProcess[str]:
        """Runs ``tests/sync/fault_child.py`` on this till's database (this process's handle is
        closed first; call :meth:`reopen` after)."""
        self.app.close()
        spec = {"db": str(self.path), "keys": dict(self.keystore._values),
                "now": self.clock.now().isoformat(), "base_url": self.central.base_url,
                "action": action, **args}
        return subprocess.run([sys.executable, "-m", "tests.sync.fault_child", json.dumps(spec)],
                              cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})

    def child_async(self, action: str, **args: Any) -> subprocess.Popen[str]:
        spec = {"db": str(self.path), "keys": dict(self.keystore._values),
                "now": self.clock.now().isoformat(), "base_url": self.central.base_url,
                "action": action, **args}
        return subprocess.Popen([sys.executable, "-m", "tests.sync.fault_child", json.dumps(spec)],
                                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})


def enrolled_till(central: Central, path: Path, store_number: int, *,
                  admin: FirstAdmin | None = None, start: datetime | None = None,
                  code: str | None = None) -> Till:
    keystore = MemoryKeyStore()
    clock = FakeClock(start or central.clock.now())
    till = Till(path, keystore, clock, central)
    with SyncClient(central.base_url) as client:
        enrol(till.app, client, keystore, code=code or central.code(store_number),
              device_name=path.stem, server_url=central.base_url, admin=admin)
    return till


# -- a loopback proxy that loses answers and cuts connections --------------------------------


@dataclass
class Fault:
    """What the proxy does to one connection (one request: the clients it serves keep none
    alive). ``request_bytes``: forward that many bytes of the request, then cut both sides.
    ``drop_answer``: forward the whole request, wait for the server's first answer bytes (it
    has committed), then cut without passing them on. ``answer_bytes``: pass that many bytes
    of the answer, then cut."""

    request_bytes: int | None = None
    drop_answer: bool = False
    answer_bytes: int | None = None


class Proxy:
    def __init__(self, target: Callable[[], str], faults: dict[int, Fault]) -> None:
        self._target = target  # the server's current base URL
        self.faults = faults  # by connection number, from 0
        self.connections = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.base_url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._listener.close()

    def __enter__(self) -> Proxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            fault = self.faults.get(self.connections, Fault())
            self.connections += 1
            threading.Thread(target=self._relay, args=(client, fault), daemon=True).start()

    def _relay(self, client: socket.socket, fault: Fault) -> None:
        target = httpx.URL(self._target())
        try:
            upstream = socket.create_connection((target.host, target.port), timeout=5)
            upstream.settimeout(None)
        except OSError:  # the server is down: so is the connection
            client.close()
            return
        done = threading.Event()

        def up() -> None:
            sent = 0
            try:
                while not done.is_set():
                    data = client.recv(65536)
                    if not data:
                        upstream.shutdown(socket.SHUT_WR)
                        return
                    if fault.request_bytes is not None and sent + len(data) >= fault.request_bytes:
                        upstream.sendall(data[: fault.request_bytes - sent])
                        cut()
                        return
                    upstream.sendall(data)
                    sent += len(data)
            except OSError:
                cut()

        def cut() -> None:
            done.set()
            for s in (client, upstream):
                with suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()

        threading.Thread(target=up, daemon=True).start()
        passed = 0
        try:
            while not done.is_set():
                data = upstream.recv(65536)
                if not data:
                    break
                if fault.drop_answer:
                    break  # the server answered (it committed); the answer is lost
                if fault.answer_bytes is not None and passed + len(data) >= fault.answer_bytes:
                    client.sendall(data[: fault.answer_bytes - passed])
                    break
                client.sendall(data)
                passed += len(data)
        except OSError:
            pass
        cut()


def no_keepalive() -> httpx.HTTPTransport:
    """One connection per request, so a proxy fault hits exactly one request."""
    return httpx.HTTPTransport(limits=httpx.Limits(max_keepalive_connections=0))
