"""The SMS gateway adapter against a fake gateway on loopback, driven by the outbox."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.errors import KeyringLocked

from pos_member.services.notifications import deliver_due, enqueue, pending_count
from sync.sms_gateway import KEYRING_NAME, KEYRING_SERVICE, SmsGatewayChannel
from tests.factories import Till, without_welcome_pack
from tests.keyrings import DictKeyring
from tests.sync.fake_sms_gateway import FakeGateway, fake_gateway


@pytest.fixture(autouse=True)
def no_welcome_pack(till: Till) -> None:
    """These tests count the messages a gateway gets: no welcome-pack message here."""
    without_welcome_pack(till)


@pytest.fixture
def gateway() -> Iterator[tuple[FakeGateway, str]]:
    with fake_gateway() as state:
        yield state, state.url


@pytest.fixture
def use_keyring() -> Iterator[Callable[[KeyringBackend], None]]:
    """Puts a test keyring backend in place of the OS one (restored afterwards)."""
    previous = keyring.get_keyring()
    yield keyring.set_keyring
    keyring.set_keyring(previous)


@pytest.fixture
def memory_keyring(use_keyring: Callable[[KeyringBackend], None]) -> DictKeyring:
    backend = DictKeyring()
    use_keyring(backend)
    return backend



def _queue(till: Till, member_id: str, key: str) -> None:
    with till.uow.begin() as tx:
        enqueue(tx, member_id=member_id, kind="sv.paid",
                params={"amount_fen": 100, "balance_fen": 900}, dedupe_key=key)
        tx.commit()


def test_delivers_once_with_the_key_as_a_bearer_token(gateway: tuple[FakeGateway, str],
                                                      till: Till) -> None:
    state, url = gateway
    m = till.register(phone="13912345678")
    _queue(till, m.id, "k")
    channel = SmsGatewayChannel(url, api_key=lambda: "secret-key")
    assert deliver_due(till.uow, channel).sent == 1
    assert deliver_due(till.uow, channel).sent == 0
    [msg] = state.delivered.values()
    assert msg["to"] == "13912345678" and "¥1.00" in msg["text"]
    assert state.auth == ["Bearer secret-key"]


def test_a_failing_gateway_is_retried_later_and_nothing_lost(
        gateway: tuple[FakeGateway, str], till: Till) -> None:
    state, url = gateway
    state.fail_next = 2
    m = till.register()
    _queue(till, m.id, "k")
    channel = SmsGatewayChannel(url, api_key=lambda: "k")
    assert deliver_due(till.uow, channel).retried == 1
    till.clock.advance(seconds=31)
    assert deliver_due(till.uow, channel).retried == 1
    till.clock.advance(seconds=61)
    assert deliver_due(till.uow, channel).sent == 1
    assert pending_count(till.uow) == 0 and len(state.delivered) == 1


def test_an_unreachable_gateway_keeps_the_message(till: Till) -> None:
    m = till.register()
    _queue(till, m.id, "k")
    channel = SmsGatewayChannel("http://127.0.0.1:9/send", api_key=lambda: "k", timeout=0.5)
    assert deliver_due(till.uow, channel).retried == 1
    assert pending_count(till.uow) == 1


def test_the_api_key_comes_from_the_os_keyring_at_each_send(
        gateway: tuple[FakeGateway, str], till: Till, memory_keyring: DictKeyring) -> None:
    state, url = gateway
    memory_keyring.set_password(KEYRING_SERVICE, KEYRING_NAME, "key-from-keyring")
    channel = SmsGatewayChannel(url)  # the default: keyring_api_key
    m = till.register(phone="13912345678")
    _queue(till, m.id, "k1")
    assert deliver_due(till.uow, channel).sent == 1
    memory_keyring.set_password(KEYRING_SERVICE, KEYRING_NAME, "rotated-key")
    _queue(till, m.id, "k2")
    assert deliver_due(till.uow, channel).sent == 1
    assert state.auth == ["Bearer key-from-keyring", "Bearer rotated-key"]
    assert [msg["to"] for msg in state.delivered.values()] == ["13912345678"] * 2
    channel.close()


def test_no_key_in_the_os_keyring_keeps_the_message_unsent(
        gateway: tuple[FakeGateway, str], till: Till, memory_keyring: DictKeyring) -> None:
    state, url = gateway
    m = till.register()
    _queue(till, m.id, "k")
    assert deliver_due(till.uow, SmsGatewayChannel(url)).retried == 1
    assert state.requests == 0 and pending_count(till.uow) == 1


def test_a_locked_keyring_is_a_channel_failure_not_a_crash(
        gateway: tuple[FakeGateway, str], till: Till,
        use_keyring: Callable[[KeyringBackend], None]) -> None:
    class Locked(DictKeyring):
        def get_password(self, service: str, username: str) -> str | None:
            raise KeyringLocked("collection is locked")

    use_keyring(Locked())
    state, url = gateway
    m = till.register()
    _queue(till, m.id, "k")
    assert deliver_due(till.uow, SmsGatewayChannel(url)).retried == 1
    assert state.requests == 0 and pending_count(till.uow) == 1
    con = sqlite3.connect(till.path)
    [(error,)] = con.execute("SELECT last_error FROM notification_outbox").fetchall()
    con.close()
    assert error == "OS keyring not readable: KeyringLocked"


@pytest.mark.parametrize("url", ["http://", "https:/sms.example.com", "ftp://sms.example.com",
                                 "http://sms.example.com:99999/send"])
def test_an_address_that_cannot_be_reached_is_refused_when_the_channel_is_made(
        url: str) -> None:
    with pytest.raises(ValueError, match="SMS gateway address"):
        SmsGatewayChannel(url, api_key=lambda: "k")
