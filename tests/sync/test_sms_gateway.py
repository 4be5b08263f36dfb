"""The SMS gateway adapter against a fake gateway on loopback, driven by the outbox."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from pos_member.services.notifications import deliver_due, enqueue, pending_count
from sync.sms_gateway import SmsGatewayChannel
from tests.factories import Till, make_till


class FakeGateway:
    def __init__(self) -> None:
        self.delivered: dict[str, dict[str, Any]] = {}
        self.requests = 0
        self.fail_next = 0
        self.auth: list[str] = []


@pytest.fixture
def gateway() -> Iterator[tuple[FakeGateway, str]]:
    state = FakeGateway()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state.requests += 1
            state.auth.append(self.headers.get("Authorization", ""))
            if state.fail_next:
                state.fail_next -= 1
                self.send_response(503)
            else:  # idempotent by id, as real gateways are by their idempotency key
                state.delivered.setdefault(self.headers["Idempotency-Key"], body)
                self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}/send"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def till(tmp_path: Path) -> Till:
    return make_till(tmp_path)


def _queue(till: Till, member_id: str, key: str) -> None:
    with till.uow.begin() as tx:
        enqueue(tx, member_id=member_id, kind="sv.paid",
                params={"amount_fen": 100, "balance_fen": 900}, dedupe_key=key)
        tx.commit()


def test_delivers_with_the_key_from_the_keyring_once(gateway: tuple[FakeGateway, str],
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


def test_no_key_in_the_keyring_sends_nothing(gateway: tuple[FakeGateway, str],
                                             till: Till) -> None:
    state, url = gateway
    m = till.register()
    _queue(till, m.id, "k")
    assert deliver_due(till.uow, SmsGatewayChannel(url, api_key=lambda: None)).retried == 1
    assert state.requests == 0
