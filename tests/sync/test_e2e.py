"""Two tills and the real central server (uvicorn on loopback; SQLite and PostgreSQL) driven end
to end: enrol, register offline, sync, merge duplicate phones, retry a push, close the day with
the server down, and the command line.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import keyring
import pytest

from pos_member.bootstrap import App, bootstrap
from pos_member.clock import FakeClock
from pos_member.crypto import KeyringKeyStore, MemoryKeyStore
from pos_member.errors import DuplicatePhone
from pos_member.services.enrolment import device_token
from pos_member.services.member_cards import MemberCard, find_member
from pos_member.services.members import register_member
from pos_member.services.outbox import pending_count, pending_events
from pos_member_app.cli import main
from sync.client import SyncClient
from sync.engine import close_day, enrol, sync_once
from sync.protocol import PushRequest, WireEvent
from sync.server import services
from sync.server.app import create_app
from sync.server.context import ServerContext
from tests.factories import migrated_database, new_phone
from tests.keyrings import DictKeyring
from tests.server.live import migrated, serve


@dataclass
class HQ:
    base_url: str
    ctx: ServerContext
    running: ExitStack

    def code(self, store_number: int) -> str:
        return services.issue_enrolment_code(self.ctx, store_number=store_number).code

    def stop(self) -> None:
        """The server goes away (idempotent): its port stops answering."""
        self.running.close()


@pytest.fixture
def hq(server_database_url: str) -> Iterator[HQ]:
    """The real server app under uvicorn on 127.0.0.1 (port 0), a migrated database (SQLite or
    PostgreSQL), and two stores, 1 and 2."""
    url = server_database_url
    migrated(url)
    app = create_app(url, clock=FakeClock())
    services.create_store(app.state.ctx, number=1, name="一号店")
    services.create_store(app.state.ctx, number=2, name="二号店")
    with ExitStack() as running:
        base_url = running.enter_context(serve(app))
        yield HQ(base_url, app.state.ctx, running)


@dataclass
class Till:
    app: App
    keystore: MemoryKeyStore
    clock: FakeClock
    base_url: str

    @property
    def device_id(self) -> str:
        assert self.app.identity is not None
        return self.app.identity.device_id

    def client(self, **kw: float) -> SyncClient:
        return SyncClient(self.base_url, device_token(self.keystore, self.device_id), **kw)

    def sync(self) -> None:
        with self.client() as client:
            sync_once(self.app, client)

    def register(self, phone: str | None = None) -> MemberCard:
        assert self.app.identity is not None
        return register_member(self.app.uow, clerk=self.app.identity.system_clerk(),
                               phone=phone or new_phone(), privacy_consent=True)

    def find(self, code: str) -> MemberCard:
        assert self.app.identity is not None
        return find_member(self.app.uow, clerk=self.app.identity.system_clerk(), code=code)


def enrolled_till(tmp_path: Path, hq: HQ, store_number: int, *, minutes_later: int = 0) -> Till:
    keystore = MemoryKeyStore()
    clock = FakeClock()
    clock.advance(minutes=minutes_later)
    app = bootstrap(migrated_database(tmp_path / f"till-{store_number}.sqlite"),
                    keystore=keystore, clock=clock)
    with SyncClient(hq.base_url) as client:
        enrol(app, client, keystore, code=hq.code(store_number), device_name=f"till {store_number}",
              server_url=hq.base_url)
    return Till(app, keystore, clock, hq.base_url)


@pytest.fixture
def one(tmp_path: Path, hq: HQ) -> Iterator[Till]:
    till = enrolled_till(tmp_path, hq, 1)
    yield till
    till.app.close()


@pytest.fixture
def two(tmp_path: Path, hq: HQ) -> Iterator[Till]:
    till = enrolled_till(tmp_path, hq, 2, minutes_later=1)
    yield till
    till.app.close()


def test_members_registered_offline_at_two_stores_reach_both(one: Till, two: Till) -> None:
    at_one, at_two = one.register(), two.register()
    one.sync()
    two.sync()
    one.sync()
    assert one.find(at_two.member_no).id == at_two.id
    assert two.find(at_one.member_no).id == at_one.id
    assert two.find(at_one.member_no).store_name == "一号店"  # HQ's name (GET /v1/stores)


def test_every_event_is_acknowledged_after_a_sync(one: Till) -> None:
    one.register()
    one.sync()
    assert pending_count(one.app.uow, device_id=one.device_id) == 0


def test_one_phone_registered_at_both_stores_ends_as_one_member(one: Till, two: Till) -> None:
    phone = new_phone()
    earlier, later = one.register(phone), two.register(phone)
    one.sync()
    two.sync()
    one.sync()
    for till in (one, two):
        for code in (phone, earlier.member_no, later.member_no):
            assert till.find(code).id == earlier.id
        with pytest.raises(DuplicatePhone):
            till.register(phone)


def test_a_retried_push_after_a_lost_answer_stores_nothing_twice(one: Till) -> None:
    one.register()
    events = [WireEvent.model_validate(e)
              for e in pending_events(one.app.uow, device_id=one.device_id, limit=1000)]
    request = PushRequest(device_id=one.device_id, events=events)
    with one.client() as client:
        first = client.push(request)  # its answer "lost": the till marked nothing
        again = client.push(request)
        assert (len(first.stored), len(again.stored)) == (len(events), 0)
        assert sorted(a.position for a in again.duplicates) == sorted(
            a.position for a in first.stored)
        report = sync_once(one.app, client)
    # The till's own retry: answered as duplicates, and only now marked sent.
    assert (report.pushed, report.duplicates, report.pending) == (0, len(events), 0)
    with one.client() as client:
        mine = [c for c in client.pull(0).changes if c.event.device_id == one.device_id]
    assert len(mine) == len(events)


def test_close_day_with_the_server_down_is_not_ok(one: Till, hq: HQ) -> None:
    one.register()
    hq.stop()
    with one.client(timeout=2) as client:
        report = close_day(one.app, client)
    assert not report.ok
    assert report.pending > 0
    assert "cannot be reached" in (report.error or "")


def test_close_day_once_synced_is_ok_and_counts_the_days_registrations(one: Till) -> None:
    one.register()
    one.register()
    with one.client() as client:
        report = close_day(one.app, client)
    assert report.ok
    assert report.summary.total_registrations == 2


def test_the_command_line_enrols_and_closes_the_day(
    tmp_path: Path, hq: HQ, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    previous = keyring.get_keyring()
    store = DictKeyring()
    keyring.set_keyring(store)
    logs = tmp_path / "logs"
    monkeypatch.setenv("POS_MEMBER_LOG_DIR", str(logs))
    try:
        data = tmp_path / "cli-till"
        code = hq.code(1)
        assert main(["enrol", "--server", hq.base_url, "--code", code,
                     "--device-name", "前台", "--data-dir", str(data),
                     "--admin-code", "900", "--admin-name", "周店长", "--admin-pin", "246810"]) == 0
        out = capsys.readouterr().out
        assert "Enrolled: store 1 一号店" in out
        assert "Administrator 900 (周店长) can log in." in out
        app = bootstrap(data / "till.sqlite", keystore=KeyringKeyStore())
        try:
            assert app.identity is not None
            phone = new_phone()
            register_member(app.uow, clerk=app.identity.system_clerk(), phone=phone,
                            privacy_consent=True)
            token = device_token(KeyringKeyStore(), app.identity.device_id)
        finally:
            app.close()
        assert main(["sync", "--data-dir", str(data)]) == 0
        assert main(["close-day", "--data-dir", str(data)]) == 0
        assert "Closed: all events stored on the server." in capsys.readouterr().out
    finally:
        keyring.set_keyring(previous)
    text = (logs / "pos-member.log").read_text(encoding="utf-8")
    for line in ("pos-member 0.1.0 starting", "command enrol", "till of store 1",
                 "sync round: pushed", "closed: ok"):
        assert line in text, line
    assert token
    for secret in (code, "246810", token, phone, "周店长", "前台"):
        assert secret not in text, secret
