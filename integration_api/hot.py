"""The two calls a POS makes at every bill — look up the member, report the sale — answered
without FastAPI's machinery per request when the request is an ordinary one.

FastAPI spends about 0.1 ms of Python on each request around the route (its middleware stack,
dependency solving, re-validating and serialising the answer through a ``TypeAdapter``): as
much again as a member lookup's own work (bench/integration.py; docs/integration.md). Here,
a ``POST`` to one of these paths whose bearer token is good, whose body is JSON
(``application/json``) and valid for the route's model is answered by the same function the
route calls (``app.lookup_answer``, ``app.sale_answer``), in the same shape FastAPI gives it
(``Response`` of the model's JSON, by alias, ``exclude_none`` as the route says). A domain
refusal or a failure inside it is answered by the app's own exception handlers, so the body
and status are the same either way.

Anything else — no token or a wrong one, another content type, a body the model refuses, any
other path or method — goes on to FastAPI untouched (its body handed over again), which
answers as it always has: so every refusal keeps FastAPI's exact shape, and the OpenAPI
description is still FastAPI's routes. Nothing is decided here that FastAPI would decide
otherwise: the checks that send a request on are the same checks FastAPI runs first.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from integration_api.limits import ASGIApp, Message, Receive, Scope, Send
from pos_member.errors import DomainError

Answer = Callable[[Any, frozenset[Any]], BaseModel]
Responder = Callable[[Request, Any], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class HotRoute:
    model: type[BaseModel]  # the route's body model
    answer: Answer  # (body, scopes) -> the route's answer; raises as the route does
    exclude_none: bool = False  # the route's response_model_exclude_none


class HotRoutes:
    """ASGI in front of FastAPI (inside the limits, which hand the whole body in one message).
    ``scopes_of(token)`` is the app's token check (raises a ``DomainError`` when it fails);
    ``refused`` and ``failed`` are the app's handlers of a ``DomainError`` and of anything
    else."""

    def __init__(self, app: ASGIApp, routes: Mapping[str, HotRoute], *,
                 scopes_of: Callable[[str], frozenset[Any]], refused: Responder,
                 failed: Responder) -> None:
        self.app, self.routes = app, dict(routes)
        self.scopes_of, self.refused, self.failed = scopes_of, refused, failed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self.routes.get(scope["path"]) if scope["type"] == "http" \
            and scope["method"] == "POST" else None
        if route is None:
            await self.app(scope, receive, send)
            return
        first = await receive()
        ready = self._ready(route, scope, first)
        if ready is None:
            await self.app(scope, _again(first, receive), send)
            return
        body, scopes = ready
        try:
            answer = route.answer(body, scopes)
        except DomainError as e:
            await (await self.refused(Request(scope), e))(scope, receive, send)
            return
        except Exception as e:
            await (await self.failed(Request(scope), e))(scope, receive, send)
            raise  # as Starlette's error middleware does: the server logs it
        await Response(answer.model_dump_json(by_alias=True, exclude_none=route.exclude_none),
                       media_type="application/json")(scope, receive, send)

    def _ready(self, route: HotRoute, scope: Scope, first: Message
               ) -> tuple[BaseModel, frozenset[Any]] | None:
        """The body and the token's scopes, or None: FastAPI answers this one."""
        if first["type"] != "http.request" or first.get("more_body", False):
            return None
        token = content_type = None
        for name, value in scope["headers"]:
            if name == b"authorization" and token is None:
                scheme, _, token = value.decode("latin-1").partition(" ")
                if scheme.lower() != "bearer" or not token:
                    return None
            elif name == b"content-type" and content_type is None:
                content_type = value.decode("latin-1").split(";", 1)[0].strip().lower()
        if token is None or content_type != "application/json":
            return None
        try:
            scopes = self.scopes_of(token)
            return route.model.model_validate(json.loads(first.get("body", b""))), scopes
        except (DomainError, ValueError, ValidationError, RecursionError):
            return None  # ValueError: not JSON; RecursionError: nested too deep for json


def _again(first: Message, receive: Receive) -> Receive:
    """``receive`` with ``first`` handed out once more, first."""
    sent = False

    async def again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return first
        return await receive()

    return again
