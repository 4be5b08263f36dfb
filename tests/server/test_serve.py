"""``pos-member-server serve`` as an operator starts it: migrates, then answers on its port."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.server.postgres import free_port


def test_serve_migrates_and_answers_with_error_bodies(tmp_path: Path) -> None:
    port = free_port()
    url = f"sqlite:///{tmp_path / 'server.sqlite'}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sync.server.cli", "--database", url, "serve", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/v1/pull", timeout=2)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(proc.communicate()[0].decode()) from None
                time.sleep(0.1)
        assert response.status_code == 401
        assert response.json()["code"] == "unauthorized"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_serve_on_a_port_in_use_says_so_in_one_line(tmp_path: Path) -> None:
    """It was several uvicorn lines and exit 3."""
    import socket

    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        url = f"sqlite:///{tmp_path / 'server.sqlite'}"
        done = subprocess.run(
            [sys.executable, "-m", "sync.server.cli", "--database", url, "serve",
             "--host", "127.0.0.1", "--port", str(port)],
            capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and f"port {port}" in done.stderr, done.stderr
    assert not (tmp_path / "server.sqlite").exists()  # nothing migrated


def test_serve_answers_without_waiting_for_the_client_s_delayed_ack() -> None:
    """The listener is a TCP socket by name, so asyncio (which uvicorn serves on) sets
    TCP_NODELAY on each connection it accepts: made with protocol 0, it did not, and each
    answer after the first on a kept-alive connection waited ~40 ms (a member lookup 47 ms
    instead of ~2)."""
    import asyncio
    import socket

    from sync.server.cli import listening_socket

    async def accepted_nodelay() -> int:
        listener = listening_socket("127.0.0.1", 0)
        seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            sock = writer.get_extra_info("socket")
            seen.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(connected, sock=listener)
        async with server:
            _, writer = await asyncio.open_connection(*listener.getsockname()[:2])
            value = await seen
            writer.close()
        return value

    assert asyncio.run(accepted_nodelay()) != 0
