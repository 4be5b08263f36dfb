"""The API on a real socket: served on 127.0.0.1 only. Another loopback address and the
machine's own network address get no answer (the connection is refused)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from integration_api.app import create_app
from integration_api.server import LOOPBACK, ApiServer
from tests.factories import Till
from tests.integration_api.conftest import make_api


@pytest.fixture
def served(till: Till) -> Iterator[tuple[ApiServer, str]]:
    ctx, token = make_api(till)
    server = ApiServer(create_app(ctx), port=0)
    server.start()
    yield server, token
    server.stop()


def other_addresses() -> list[str]:
    """Addresses of this machine that are not 127.0.0.1: another loopback address (Linux
    answers all of 127/8 on lo) and the address of the interface with the default route."""
    found = ["127.0.0.2"]
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks a route
        own = probe.getsockname()[0]
        if own and not own.startswith("127."):
            found.append(own)
    except OSError:
        pass
    finally:
        probe.close()
    return found


def test_the_api_answers_on_127_0_0_1(served: tuple[ApiServer, str]) -> None:
    server, token = served
    r = httpx.get(f"http://{LOOPBACK}:{server.port}/v1/health",
                  headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and "sales" in r.json()["scopes"]


def test_the_socket_is_bound_to_127_0_0_1_only(served: tuple[ApiServer, str]) -> None:
    server, _ = served
    with socket.create_connection((LOOPBACK, server.port)) as c:
        assert c.getpeername() == (LOOPBACK, server.port)
    for address in other_addresses():
        with pytest.raises(OSError):  # refused: nothing listens there
            socket.create_connection((address, server.port), timeout=5).close()


def test_a_second_till_on_the_same_port_is_an_error_not_a_shared_port(
        served: tuple[ApiServer, str], till: Till) -> None:
    server, _ = served
    ctx, _ = make_api(till)
    with pytest.raises(OSError):
        ApiServer(create_app(ctx), port=server.port or 0).start()


def test_stop_ends_serving(till: Till) -> None:
    ctx, _ = make_api(till)
    server = ApiServer(create_app(ctx), port=0)
    port = server.start()
    server.stop()
    with pytest.raises(OSError):
        socket.create_connection((LOOPBACK, port), timeout=5).close()


def test_the_socket_says_it_is_tcp_so_that_answers_are_not_held_by_nagle(
        served: tuple[ApiServer, str]) -> None:
    """asyncio turns Nagle off only on sockets whose proto is IPPROTO_TCP; with it on, every
    answer waited 40 ms for the client's delayed ACK (bench/integration.py found it)."""
    server, _ = served
    assert server.sock is not None and server.sock.proto == socket.IPPROTO_TCP


def test_headers_over_16_kib_are_431_in_the_error_shape(served: tuple[ApiServer, str]) -> None:
    """uvicorn's h11 limit held only while a head was incomplete: on loopback a whole head of
    100 KB arrived at once and was read (docs/integration.md promises 16 KiB)."""
    server, token = served
    auth = {"Authorization": f"Bearer {token}"}
    url = f"http://{LOOPBACK}:{server.port}/v1/health"
    r = httpx.get(url, headers={**auth, "X-Pad": "a" * 100_000})
    assert r.status_code == 431 and r.json()["error"] == "headers_too_large"
    assert httpx.get(url, headers={**auth, "X-Pad": "a" * 15_000}).status_code == 200
