"""What keeps a slow or hostile client from freezing the till: limits on body size, request
rate and requests in flight, checked before any of the application runs (plain ASGI, so a
refused request costs microseconds and never reaches the database).

- Body: at most ``max_body`` bytes, by ``Content-Length`` and by what actually arrives (a
  chunked body is counted as it comes); more is 413 and the body is not read further.
- Headers: at most ``max_headers`` bytes of names and values; more is 431. (uvicorn's h11
  limit closes a connection only while a request's head is still incomplete: a head that
  arrives whole, as on loopback, was read at any size.)
- Rate: a token bucket over every request (``rate`` per second, ``burst`` at once); past it,
  429 with ``Retry-After``. Wrong tokens are requests too, so guessing is as slow.
- In flight: at most ``max_concurrent`` requests at once (a payment waiting on the till's
  screen is not one: it has its own one-at-a-time rule); past it, 503 with ``Retry-After``.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

UNLIMITED_PATHS = frozenset({"/v1/payments"})  # waits on people, not on the till


@dataclass(frozen=True, slots=True)
class Limits:
    max_body: int = 64 * 1024
    max_headers: int = 16 * 1024
    rate: float = 50.0  # requests per second, sustained
    burst: int = 100
    max_concurrent: int = 4


class TokenBucket:
    def __init__(self, rate: float, burst: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self._clock = rate, burst, clock
        self._tokens = float(burst)
        self._at = clock()
        self._lock = threading.Lock()

    def take(self) -> float:
        """0 when a request may go; otherwise the seconds until one may."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
            self._at = now
            if self._tokens >= 1:
                self._tokens -= 1
                return 0.0
            return (1 - self._tokens) / self.rate


async def _refuse(send: Send, status: int, error: str, message: str,
                  retry_after: float | None = None) -> None:
    body = json.dumps({"error": error, "message": message}).encode()
    headers = [(b"content-type", b"application/json"),
               (b"content-length", str(len(body)).encode())]
    if retry_after is not None:
        headers.append((b"retry-after", str(max(1, math.ceil(retry_after))).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class LimitsMiddleware:
    def __init__(self, app: ASGIApp, limits: Limits) -> None:
        self.app, self.limits = app, limits
        self.bucket = TokenBucket(limits.rate, limits.burst)
        self.in_flight = 0  # touched only on the server's event loop

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wait = self.bucket.take()
        if wait:
            await _refuse(send, 429, "rate_limited", "Too many requests: slow down.", wait)
            return
        counted = scope["path"] not in UNLIMITED_PATHS
        if counted and self.in_flight >= self.limits.max_concurrent:
            await _refuse(send, 503, "till_busy",
                          "Too many requests in flight: try again shortly.", 1)
            return
        if counted:
            self.in_flight += 1
        try:
            body = await self._body(scope, receive, send)
            if body is None:
                return
            sent = False

            async def replay() -> Message:
                nonlocal sent
                if not sent:
                    sent = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive()  # a disconnect, while the answer is worked out

            await self.app(scope, replay, send)
        finally:
            if counted:
                self.in_flight -= 1

    async def _body(self, scope: Scope, receive: Receive, send: Send) -> bytes | None:
        """The whole body (small by rule), or None once a 413 or a disconnect is answered."""
        limit = self.limits.max_body
        head = 0
        for name, value in scope.get("headers", ()):
            head += len(name) + len(value)
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _refuse(send, 400, "invalid_request", "Bad Content-Length.")
                    return None
                if declared > limit:
                    await _refuse(send, 413, "body_too_large",
                                  f"The body is over {limit} bytes.")
                    return None
        if head > self.limits.max_headers:
            await _refuse(send, 431, "headers_too_large",
                          f"The headers are over {self.limits.max_headers} bytes.")
            return None
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _refuse(send, 413, "body_too_large", f"The body is over {limit} bytes.")
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)
