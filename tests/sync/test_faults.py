"""Faults between a till and the real central server (uvicorn on loopback; SQLite and
PostgreSQL): killed till processes, lost answers, cut connections, duplicate and re-ordered
batches, an interrupted pull, restarts of the server and of PostgreSQL, skewed clocks, two
processes on one till, an upgrade with unsent events, and a full disk.

The workload moves the ledgers (``harness.visit``: registrations with welcome points, top-ups
with bonus, sales redeeming points, stored-value payments with a TOTP code, partial refunds
that take points back), in the test process or in the child process the fault hits. Each test
ends with ``Central.assert_consistent``: every event the till wrote is stored on the server
once, under its own seq, at one position; the chain's positions are unique (gapless on
SQLite); nothing is held; the till has nothing pending; at every till, each member's points
balance equals its points ledger (and its open lots the balance) and its stored-value
principal and bonus equal their ledger; on the server, each member's chain-wide balance
equals the sum of its ``sv.*`` events in the global log (merged losers counted for their
winners).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import sqlite3
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from pos_member.clock import FakeClock, to_ms
from pos_member.crypto import MemoryKeyStore
from pos_member.db.engine import upgrade as till_upgrade
from pos_member.db.models import AppliedEvent, Member
from pos_member.db.models import Event as TillEvent
from pos_member.errors import StorageFull
from pos_member.hlc import HLCTimestamp
from pos_member.services.enrolment import device_token
from pos_member.services.outbox import acked_through, pending_count, pending_events, sync_cursor
from sync.client import SyncClient
from sync.engine import enrol, push_all, start_from_snapshot, sync_once
from sync.errors import ServerUnavailable, SyncError
from sync.protocol import EnrolRequest, PushRequest, WireEvent
from sync.server.models import Device, Event
from tests.server.postgres import PostgresServer
from tests.sync.harness import (
    Central,
    Fault,
    Proxy,
    Till,
    assert_ledgers,
    enrolled_till,
    no_keepalive,
    points_and_balances,
)

REQUIRED = bool(os.environ.get("POS_MEMBER_REQUIRE_POSTGRES"))


@pytest.fixture
def till(tmp_path: Path, central: Central) -> Iterator[Till]:
    t = enrolled_till(central, tmp_path / "till.sqlite", 1)
    yield t
    t.close()


def members(till: Till) -> int:
    with till.app.uow.read() as s:
        return int(s.scalar(select(func.count()).select_from(Member)) or 0)


# -- a, b: the till process killed --------------------------------------------------------


def test_a_till_killed_between_commit_and_push_loses_nothing(
    till: Till, central: Central,
) -> None:
    done = till.child("visit", n=3, die=True, phones=1_000)
    assert done.returncode == -signal.SIGKILL, done.stderr
    till.reopen()
    assert members(till) == 3
    assert_ledgers(till.app)
    moved = points_and_balances(till.app)
    assert len(moved) == 3  # every visit left points and stored value
    report = till.sync()
    assert (report.pushed, report.duplicates, report.pending) == (till.events(), 0, 0)
    assert points_and_balances(till.app) == moved
    central.assert_consistent(till)
    central.assert_till_agrees(till)


def test_a_till_killed_between_push_and_ack_gets_duplicates_and_marks_them_sent(
    till: Till, central: Central,
) -> None:
    till.register(1)
    till.visit(2)
    done = till.child("sync_die_before_ack")
    assert done.returncode == -signal.SIGKILL, done.stderr
    till.reopen()
    assert pending_count(till.app.uow, device_id=till.device_id) == till.events()
    assert len(central.events_of(till.device_id)) == till.events()  # the server has them
    report = till.sync()
    assert (report.pushed, report.duplicates, report.pending) == (0, till.events(), 0)
    central.assert_consistent(till)
    central.assert_till_agrees(till)


# -- c, d: lost answers and cut connections -----------------------------------------------


def test_an_answer_lost_after_the_server_committed_is_retried_harmlessly(
    till: Till, central: Central,
) -> None:
    till.visit(2)
    with Proxy(lambda: central.base_url, {0: Fault(drop_answer=True)}) as proxy, \
            till.client(proxy.base_url, transport=no_keepalive()) as client:
        with pytest.raises(ServerUnavailable):
            sync_once(till.app, client)
        assert pending_count(till.app.uow, device_id=till.device_id) == till.events()
        assert len(central.events_of(till.device_id)) == till.events()
        report = sync_once(till.app, client)  # the retry
    assert (report.pushed, report.duplicates, report.pending) == (0, till.events(), 0)
    central.assert_consistent(till)
    central.assert_till_agrees(till)


def test_an_enrolment_answer_lost_after_hq_committed_is_retried_with_the_same_code(
    tmp_path: Path, central: Central,
) -> None:
    """The till keeps its enrolment request id until enrolled: HQ answers the same code with
    the same request id again with the same device and a fresh token (the lost one dead);
    any other use of the spent code is refused (docs/sync.md, "Enrolment and tokens")."""
    till = Till(tmp_path / "till.sqlite", MemoryKeyStore(), FakeClock(central.clock.now()),
                central)
    code = central.code(1)

    def devices() -> list[Any]:
        return central.query(lambda conn: conn.execute(
            select(Device.id, Device.token_hash).order_by(Device.number)).all())

    try:
        with Proxy(lambda: central.base_url, {0: Fault(drop_answer=True)}) as proxy, \
                SyncClient(proxy.base_url, transport=no_keepalive()) as client:
            with pytest.raises(ServerUnavailable):
                enrol(till.app, client, till.keystore, code=code, device_name="till",
                      server_url=central.base_url)
            [(spent, lost_hash)] = devices()  # HQ committed; the till never heard
            assert till.app.identity is None
            ident = enrol(till.app, client, till.keystore, code=code, device_name="till",
                          server_url=central.base_url)  # the retry, with the same code
        [(device_id, token_hash)] = devices()  # one device at HQ: the one the lost answer named
        assert ident.device_id == device_id == spent
        token = device_token(till.keystore, device_id)
        assert token is not None and token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token_hash != lost_hash  # the lost answer's token authenticates nothing
        till.register(1)
        assert till.sync().pending == 0
        with SyncClient(central.base_url) as client:  # the spent code, used otherwise: refused
            for request_id in (None, str(uuid.uuid4())):
                with pytest.raises(SyncError):
                    client.enrol(EnrolRequest(code=code, device_name="another",
                                              request_id=request_id))
        assert [d.id for d in devices()] == [device_id]
        central.assert_consistent(till)
    finally:
        till.close()


@pytest.mark.parametrize("cut_at", [60, 400])  # in the headers; in the body
def test_a_connection_cut_mid_request_stores_nothing_and_the_retry_stores_all(
    till: Till, central: Central, cut_at: int,
) -> None:
    till.visit(2)
    with Proxy(lambda: central.base_url, {0: Fault(request_bytes=cut_at)}) as proxy, \
            till.client(proxy.base_url, transport=no_keepalive(), timeout=5) as client:
        with pytest.raises(ServerUnavailable):
            sync_once(till.app, client)
        assert central.events_of(till.device_id) == []
        assert central.balances() == {}
        report = sync_once(till.app, client)
    assert (report.pushed, report.duplicates, report.pending) == (till.events(), 0, 0)
    central.assert_consistent(till)
    central.assert_till_agrees(till)


# -- e: duplicate and re-ordered batches --------------------------------------------------


def test_duplicate_and_reordered_batches_store_each_event_once(
    till: Till, central: Central,
) -> None:
    till.visit(3)
    events = [WireEvent.model_validate(e)
              for e in pending_events(till.app.uow, device_id=till.device_id, limit=1000)]
    half = len(events) // 2
    first, second = events[:half], events[half:]
    with till.client() as client:
        def push(batch: list[WireEvent]):
            return client.push(PushRequest(device_id=till.device_id, events=batch))

        later = push(second)  # batch 2 before batch 1: held
        assert later.stored == [] and later.held == [e.seq for e in second]
        assert later.acked_through == 0
        assert central.balances() == {}  # held money events count only when stored
        earlier = push(first)  # fills the gap: both batches stored
        assert [a.seq for a in earlier.stored] == [e.seq for e in events]
        again = push(first)  # batch 1 twice
        assert again.stored == [] and len(again.duplicates) == half
        twice = push(second + second)
        assert twice.stored == [] and len(twice.duplicates) == len(second) * 2
        report = sync_once(till.app, client)
    assert (report.pushed, report.duplicates, report.pending) == (0, len(events), 0)
    central.assert_consistent(till)
    central.assert_till_agrees(till)


# -- f: a pull cut mid-page -----------------------------------------------------------------


def test_a_pull_cut_mid_page_resumes_at_the_cursor_and_applies_nothing_twice(
    tmp_path: Path, till: Till, central: Central,
) -> None:
    till.register(9)
    till.visit(3)
    till.sync()
    other = enrolled_till(central, tmp_path / "other.sqlite", 1)  # the store's 2nd
    try:
        page = 5
        own = other.events()  # its set-up event: one push, then pages of 5 from position 0
        with other.client() as client:  # a fresh till: the directory's snapshot comes first
            start_from_snapshot(other.app, client)
        with Proxy(lambda: central.base_url, {2: Fault(answer_bytes=300)}) as proxy, \
                other.client(proxy.base_url, transport=no_keepalive()) as client, \
                pytest.raises(ServerUnavailable):  # the second page's answer is cut
            sync_once(other.app, client, page=page)
        positions = central.query(lambda c: list(c.scalars(
            select(Event.position).order_by(Event.position))))  # gapless on SQLite only
        assert sync_cursor(other.app.uow) == positions[page - 1]  # the first page, whole
        assert applied_ids(other) == page
        report = other.sync(page=page)
        total = len(positions)
        assert applied_ids(other) == total - own  # every other device's event, once
        assert report.cursor == positions[-1]
        assert members(other) == 12
        other.sync(page=page)  # again: nothing new, nothing applied twice
        assert applied_ids(other) == total - own
        assert points_and_balances(other.app) == points_and_balances(till.app)
        central.assert_consistent(other, till)
        central.assert_till_agrees(other)
    finally:
        other.close()


def applied_ids(till: Till) -> int:
    with till.app.uow.read() as s:
        return int(s.scalar(select(func.count()).select_from(AppliedEvent)) or 0)


# -- g: the server, and PostgreSQL, restarted between batches -------------------------------


def restart_postgres(pg: PostgresServer) -> None:
    """``pg_ctl restart`` (fast: open connections are cut); the options of the first start are
    kept in ``postmaster.opts``. ``-l``: the server must not inherit our output pipe."""
    pg._run(str(pg.bin_dir / "pg_ctl"), "-D", str(pg.base / "data"), "-l", str(pg.base / "log"),
            "-m", "fast", "-w", "-t", "60", "restart")


def push_with_a_restart(till: Till, central: Central, restart: Callable[[], None]) -> int:
    """Pushes a till's events (two visits and a registration) in batches of 4 through a
    proxy that follows the server's address;
    ``restart`` runs once, after the first batch; then syncs until the server answers (at
    most 3 tries). Returns how many rounds failed on the way."""
    till.register(1)
    till.visit(2)
    restarted: list[int] = []

    def between_batches(kind: str, done: int) -> None:
        if kind == "push" and not restarted:
            restarted.append(done)
            restart()

    failures = 0
    with Proxy(lambda: central.base_url, {}) as proxy, \
            till.client(proxy.base_url, transport=no_keepalive(), timeout=10) as client:
        try:
            push_all(till.app, client, batch=4, progress=between_batches)
        except ServerUnavailable:
            failures += 1
            assert acked_through(till.app.uow, device_id=till.device_id) == 4
            if not central.running:
                central.start()  # a new server process on the same database
        assert restarted == [4]
        for _ in range(3):  # a pool may hand out a dead connection once: retry as a till does
            try:
                report = sync_once(till.app, client, batch=4)
                break
            except ServerUnavailable:
                failures += 1
        else:
            pytest.fail("the server did not recover")
    assert report.pending == 0
    central.assert_consistent(till)
    central.assert_till_agrees(till)
    return failures


def test_the_server_restarted_between_batches_loses_and_doubles_nothing(
    till: Till, central: Central,
) -> None:
    assert push_with_a_restart(till, central, central.stop) == 1  # the next batch: no server


def test_postgresql_restarted_between_batches_loses_and_doubles_nothing(
    tmp_path: Path, sync_postgres: PostgresServer,
) -> None:
    """PostgreSQL itself restarts (fast shutdown: every open connection is cut) while the
    server process keeps running with its pool."""
    central = Central(sync_postgres.create_database())
    till = enrolled_till(central, tmp_path / "till.sqlite", 1)
    try:
        push_with_a_restart(till, central, lambda: restart_postgres(sync_postgres))
    finally:
        till.close()
        central.stop()


# -- h: skewed till clocks --------------------------------------------------------------------


@pytest.mark.parametrize("skew", [{"hours": -1}, {"hours": 1}, {"days": 1}],
                         ids=["minus-1h", "plus-1h", "plus-1d"])
def test_a_skewed_till_clock_still_syncs_exactly_once(
    tmp_path: Path, central: Central, skew: dict[str, int],
) -> None:
    from datetime import timedelta

    start = central.clock.now() + timedelta(**skew)
    skewed = enrolled_till(central, tmp_path / "skewed.sqlite", 1, start=start)
    right = enrolled_till(central, tmp_path / "right.sqlite", 1)  # the store's 2nd
    try:
        skewed.register(1)
        skewed.visit(2)
        right.visit(2)
        for t in (skewed, right, skewed):
            t.sync()
            t.clock.advance(minutes=1)
        skewed.visit(1)
        skewed.sync()
        central.assert_consistent(skewed, right)
        # More than 5 minutes ahead of the server raises clock_ahead, once per device per hour.
        flagged = [f["device_id"] for f in central.flags("clock_ahead")]
        assert flagged == ([] if skew == {"hours": -1} else [skewed.device_id])
        # The right till pulled the skewed one's events; a clock ahead does not drag its own
        # clock along (a clock behind is simply in its past): its next event is on its time.
        right.sync()
        right.register(1)
        with right.app.uow.read() as s:
            newest = s.scalar(select(func.max(TillEvent.hlc))
                              .where(TillEvent.device_id == right.device_id))
        assert HLCTimestamp.unpack(newest).wall_ms <= to_ms(right.clock.now()) + 5 * 60_000
        right.sync()
        skewed.sync()
        assert points_and_balances(skewed.app) == points_and_balances(right.app)
        central.assert_consistent(skewed, right)
        central.assert_till_agrees(skewed)
        central.assert_till_agrees(right)
    finally:
        skewed.close()
        right.close()


# -- i: two processes on one till ---------------------------------------------------------------


def test_two_processes_of_one_till_syncing_at_once_double_nothing(
    till: Till, central: Central,
) -> None:
    till.register(25)
    till.visit(5)
    till.close()
    procs = [till.child_async("sync", rounds=3, batch=7) for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in procs]
    for p, (out, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err
        marks = [int(line) for line in out.split()]
        assert marks == sorted(marks)  # the acknowledgement mark only moves forward
    till.reopen()
    central.assert_consistent(till)
    central.assert_till_agrees(till)


# -- j: an app upgrade while unsent events wait ---------------------------------------------------


def downgrade(path: Path, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    from pos_member.db import engine as till_engine

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(till_engine.__file__).parent / "migrations"))
    eng = till_engine._engine(path, immediate=True, pool_size=1)
    try:
        with eng.connect() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, revision)
            conn.commit()
    finally:
        eng.dispose()


@pytest.mark.parametrize("revision", ["0001", "0005"], ids=["from-0001", "from-0005-ledgers"])
def test_unsent_events_survive_an_upgrade_and_sync_once(
    till: Till, central: Central, revision: str,
) -> None:
    """An honest stand-in for "installed an older release, wrote events, upgraded": the events
    are written by today's code at head, the schema is stepped back (Alembic's downgrade), and
    the next start upgrades it again with the events unsent. To 0001 (which rebuilds the
    members table): registrations only, since a 0001 till had no ledgers to write. To 0005
    (stored value; balance blocks and KPIs come after): whole visits, whose points and
    stored-value ledgers stay through the upgrade. A till created by an old release with that
    release's code is not reproduced here."""
    if revision == "0001":
        till.register(3)
    else:
        till.visit(3)
    moved = points_and_balances(till.app)
    written = till.events()
    till.close()
    downgrade(till.path, revision)
    con = sqlite3.connect(till.path)
    try:
        assert con.execute("SELECT version_num FROM alembic_version").fetchone() == (revision,)
        assert con.execute("SELECT count(*) FROM events").fetchone() == (written,)
    finally:
        con.close()
    till.reopen()  # the new release starts: migrations to head
    till_upgrade(till.path)  # `pos-member db upgrade` run again changes nothing
    assert pending_count(till.app.uow, device_id=till.device_id) == written
    assert members(till) == 3
    if revision != "0001":  # (0001 has no points tables: today's welcome points are dropped)
        assert points_and_balances(till.app) == moved
    report = till.sync()
    assert (report.pushed, report.pending) == (written, 0)
    central.assert_consistent(till)
    central.assert_till_agrees(till)


# -- k: the till's disk full ------------------------------------------------------------------


def mount_tmpfs(where: Path, size: str) -> bool:
    where.mkdir()
    if shutil.which("mount") is None:
        return False
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                          capture_output=True)
    return done.returncode == 0


def consistent(till: Till) -> None:
    """Nothing half-written: one registration event per member, counters match the log."""
    con = sqlite3.connect(till.path)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        n_members = con.execute("SELECT count(*) FROM members").fetchone()[0]
        n_registered = con.execute(
            "SELECT count(*) FROM events WHERE type = 'member.registered'").fetchone()[0]
        seqs = con.execute("SELECT count(*), max(seq) FROM events").fetchone()
        last = con.execute("SELECT last_event_seq FROM device_counters").fetchone()[0]
    finally:
        con.close()
    assert n_members == n_registered
    assert seqs == (last, last)


def test_a_full_disk_refuses_registration_cleanly_and_sync_works_after(
    tmp_path: Path, central: Central,
) -> None:
    small = tmp_path / "small"
    if not mount_tmpfs(small, "8m"):
        pytest.skip("cannot mount a tmpfs here (needs root); see the RLIMIT_FSIZE variant")
    till: Till | None = None
    try:
        till = enrolled_till(central, small / "till.sqlite", 1)
        till.register(1)
        till.visit(1)
        filler = small / "filler"
        with filler.open("wb") as f:  # take every byte left
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        refused = None
        for n in range(2000):  # registrations and money alike, until one is refused
            try:
                till.visit(1)
            except StorageFull as e:
                refused = (n, e)
                break
        assert refused is not None, "the full disk refused nothing"
        consistent(till)
        assert_ledgers(till.app)
        filler.unlink()  # space is back
        till.visit(2)
        consistent(till)
        report = till.sync()
        assert report.pending == 0
        central.assert_consistent(till)
        central.assert_till_agrees(till)
    finally:
        if till is not None:
            till.close()
        subprocess.run(["umount", "-l", str(small)], capture_output=True)


def test_a_file_size_limit_refuses_registration_cleanly_and_sync_works_after(
    till: Till, central: Central,
) -> None:
    """The same without mounting anything: a till process whose files may not grow past a limit
    (RLIMIT_FSIZE) writes until SQLite says the disk is full."""
    till.visit(2)
    till.sync()
    size = till.path.stat().st_size + 48 * 1024
    done = till.child("register_until_full", limit=size, phones=5_000, money=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("refused "), done.stdout
    assert done.stdout.split()[2] == "StorageFull", done.stdout
    consistent(till)
    till.reopen()
    assert_ledgers(till.app)
    till.visit(1)
    consistent(till)
    till.sync()
    central.assert_consistent(till)
    central.assert_till_agrees(till)
