"""Error mapping of the HTTP client: offline and timeouts versus refusals with the server's text."""

from __future__ import annotations

import gzip
import socket

import httpx
import pytest

from sync.client import SyncClient
from sync.errors import ProtocolMismatch, ServerRefused, ServerUnavailable
from sync.protocol import EnrolRequest, PullResponse


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def answering(status: int, body: bytes) -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: httpx.Response(status, content=body))


def test_no_server_listening_is_unavailable() -> None:
    with SyncClient(f"http://127.0.0.1:{closed_port()}", "t", timeout=2) as client, \
            pytest.raises(ServerUnavailable, match="cannot be reached"):
        client.pull(0)


def test_a_server_too_slow_to_answer_is_unavailable() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    with SyncClient("http://hq", "t", transport=httpx.MockTransport(slow)) as client, \
            pytest.raises(ServerUnavailable, match="no answer in time"):
        client.pull(0)


def test_a_refusal_carries_the_servers_message() -> None:
    body = b'{"code": "unauthorized", "message": "the device token is revoked"}'
    with SyncClient("http://hq", "t", transport=answering(401, body)) as client, \
            pytest.raises(ServerRefused, match="token is revoked") as refused:
        client.pull(0)
    assert (refused.value.status, refused.value.code) == (401, "unauthorized")


def test_a_server_error_is_unavailable_not_a_refusal() -> None:
    body = b'{"code": "internal", "message": "internal server error"}'
    with SyncClient("http://hq", "t", transport=answering(500, body)) as client, \
            pytest.raises(ServerUnavailable):
        client.pull(0)


@pytest.mark.parametrize(("header", "seconds"), [("7", 7.0), (None, None), ("soon", None)])
def test_hq_busy_carries_its_retry_after(header: str | None, seconds: float | None) -> None:
    body = b'{"code": "server_busy", "message": "The server is busy: try again in 7 s."}'
    headers = {"Retry-After": header} if header is not None else {}
    transport = httpx.MockTransport(
        lambda request: httpx.Response(503, content=body, headers=headers))
    with SyncClient("http://hq", "t", transport=transport) as client, \
            pytest.raises(ServerUnavailable, match="busy") as busy:
        client.pull(0)
    assert busy.value.retry_after == seconds


def test_an_answer_off_the_protocol_is_a_mismatch() -> None:
    with SyncClient("http://hq", "t", transport=answering(200, b'{"changes": 3}')) as client, \
            pytest.raises(ProtocolMismatch):
        client.pull(0)


def test_requests_carry_the_device_token_and_the_protocol_prefix() -> None:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b'{"changes": [], "cursor": 7, "more": false}')

    with SyncClient("http://hq/", "secret", transport=httpx.MockTransport(record)) as client:
        assert client.pull(7, 50).cursor == 7
    assert str(seen[0].url) == "http://hq/v2/pull?cursor=7&limit=50"  # the filtered pull
    assert seen[0].headers["Authorization"] == "Bearer secret"


def test_enrolment_sends_no_token() -> None:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(404, content=b'{"code": "not_found", "message": "no such code"}')

    with SyncClient("http://hq", transport=httpx.MockTransport(record)) as client, \
            pytest.raises(ServerRefused, match="no such code"):
        client.enrol(EnrolRequest(code="ABC123", device_name="x"))
    assert "Authorization" not in seen[0].headers


def test_the_client_asks_for_gzip_and_reads_it() -> None:
    page = PullResponse(changes=[], cursor=7, more=False)

    def gzipped(request: httpx.Request) -> httpx.Response:
        assert request.headers["Accept-Encoding"] == "gzip"
        return httpx.Response(200, content=gzip.compress(page.model_dump_json().encode()),
                              headers={"Content-Encoding": "gzip"})

    with SyncClient("http://hq", "t", transport=httpx.MockTransport(gzipped)) as client:
        assert client.pull(7) == page


def test_a_garbled_gzip_answer_is_unavailable() -> None:
    def garbled(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"not gzip", headers={"Content-Encoding": "gzip"})

    with SyncClient("http://hq", "t", transport=httpx.MockTransport(garbled)) as client, \
            pytest.raises(ServerUnavailable, match="could not be decoded"):
        client.pull(0)
