"""The limits in front of the API, on the ASGI level with an application that holds requests
until told: the rate (429), requests in flight (503), the body's size however it arrives
(413). A refused request never reaches the application."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from integration_api.limits import Limits, LimitsMiddleware, TokenBucket


class Held:
    """An ASGI app that answers 200 once ``release`` is set; counts what reached it."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.entered = asyncio.Event()
        self.reached = 0
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.reached += 1
        self.bodies.append((await receive())["body"])
        self.entered.set()
        await self.release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})


async def call(app: Any, body: bytes = b"{}", *, path: str = "/v1/sales",
               chunks: int = 1, length: bool = True) -> tuple[int, dict[str, Any]]:
    parts = [body[i::chunks] for i in range(chunks)] if chunks > 1 else [body]
    messages = [{"type": "http.request", "body": p, "more_body": i < len(parts) - 1}
                for i, p in enumerate(parts)]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    headers = [(b"content-length", str(len(body)).encode())] if length else []
    await app({"type": "http", "path": path, "headers": headers}, receive, send)
    status = sent[0]["status"]
    body_out = b"".join(m.get("body", b"") for m in sent[1:])
    return status, json.loads(body_out) if body_out else {}


def test_past_the_burst_requests_are_429_with_retry_after() -> None:
    async def run() -> list[int]:
        inner = Held()
        inner.release.set()
        app = LimitsMiddleware(inner, Limits(rate=0.001, burst=3))
        return [(await call(app))[0] for _ in range(5)]

    assert asyncio.run(run()) == [200, 200, 200, 429, 429]


def test_the_bucket_refills_at_its_rate() -> None:
    now = [0.0]
    bucket = TokenBucket(rate=2, burst=1, clock=lambda: now[0])
    assert bucket.take() == 0 and bucket.take() == 0.5
    now[0] = 0.5
    assert bucket.take() == 0


def test_past_the_requests_in_flight_a_request_is_503_and_never_reaches_the_app() -> None:
    async def run() -> tuple[int, int, int]:
        inner = Held()
        app = LimitsMiddleware(inner, Limits(max_concurrent=1, rate=1000, burst=1000))
        first = asyncio.create_task(call(app))
        await inner.entered.wait()
        second, answer = await call(app)
        assert answer["error"] == "till_busy"
        inner.release.set()
        return (await first)[0], second, inner.reached

    assert asyncio.run(run()) == (200, 503, 1)


def test_a_payment_waiting_at_the_till_does_not_take_a_place() -> None:
    async def run() -> int:
        inner = Held()
        app = LimitsMiddleware(inner, Limits(max_concurrent=1, rate=1000, burst=1000))
        waiting = asyncio.create_task(call(app, path="/v1/payments"))
        await inner.entered.wait()
        inner.entered.clear()
        other = asyncio.create_task(call(app))
        await inner.entered.wait()
        inner.release.set()
        await waiting
        return (await other)[0]

    assert asyncio.run(run()) == 200


def test_a_body_over_the_limit_is_413_by_its_length_or_as_it_arrives() -> None:
    async def run() -> tuple[int, int, int, int]:
        inner = Held()
        inner.release.set()
        app = LimitsMiddleware(inner, Limits(max_body=10, rate=1000, burst=1000))
        declared, _ = await call(app, b"x" * 11)
        chunked, _ = await call(app, b"x" * 11, chunks=3, length=False)
        fits, _ = await call(app, b"x" * 10, chunks=2, length=False)
        return declared, chunked, fits, inner.reached

    assert asyncio.run(run()) == (413, 413, 200, 1)
