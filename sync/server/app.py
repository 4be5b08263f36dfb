"""The HTTP face of the server: ``create_app(url)`` builds a FastAPI app over one database.

Routes follow ``sync.protocol`` (``/v1/enrol``, ``/v1/push``, ``/v1/pull``). Nothing is built
at import: the factory makes the engines (which connect on first use), so several processes
can serve one PostgreSQL and tests can start as many apps as they like. Every error answer is
an ``ErrorBody``: domain refusals through one handler, request validation as 422, bodies over
``MAX_BODY_BYTES`` as 413 (before the route runs), a database that cannot answer (down,
restarting, dropped, a standby cancelling the read for replay, a pool with no free connection)
as 503 with ``Retry-After``,
anything unexpected as 500.
"""

from __future__ import annotations

import gc
import logging
import time
from functools import partial
from typing import Annotated, Any

import anyio.to_thread
from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pos_member.clock import Clock, SystemClock
from pos_member.errors import DomainError
from sync import protocol
from sync.coupon_check import COUPON_CHECK_PATH, COUPON_KEY, CouponCheckResponse
from sync.member_lookup import LOOKUP_PATH, PHONE_INDEX, MemberLookupResponse
from sync.protocol import (
    API,
    API_V2,
    MAX_BIGINT,
    MAX_BODY_BYTES,
    MAX_PAGE,
    AdoptRequest,
    AdoptResponse,
    EnrolRequest,
    EnrolResponse,
    ErrorBody,
    HealthResponse,
    PullResponse,
    PushRequest,
    PushResponse,
    ReidentifyRequest,
    SnapshotResponse,
    StoreInfo,
    StoresResponse,
)
from sync.server import coupons, fleet, identities, member_cards, services, sms
from sync.server.admission import PushGate
from sync.server.context import DeviceIdentity, ServerContext
from sync.server.db import open_server_database
from sync.server.errors import (
    DatabaseUnavailable,
    PushRefused,
    ServerError,
    Unauthorized,
    responses,
)
from sync.server.gzip_answer import PAGES, gzip_answer
from sync.server.snapshot import snapshot_json
from sync.server.wire import decode_push

log = logging.getLogger(__name__)

_ERRORS = responses(405, 413, 422, 503)  # any route; each route adds its own (``responses``)
_AUTH = (401, 409)  # a device's token: unknown or revoked; retired (``device_retired``)


def create_app(database_url: str, *, read_url: str | None = None,
               clock: Clock | None = None) -> FastAPI:
    """The server app over ``database_url`` (migrated beforehand: ``pos-member-server db
    upgrade``); pulls read from ``read_url``, a streaming replica of it, if given.
    ``clock`` defaults to the system clock; tests pass a ``FakeClock``."""
    ctx = ServerContext(db=open_server_database(database_url, read_url),
                        clock=clock or SystemClock())
    app = FastAPI(
        title="POS Member central server",
        version="1",
        description=(protocol.__doc__ or "").strip(),
        responses=_ERRORS,
    )
    app.state.ctx = ctx
    app.state.push_gate = PushGate(push_threads(ctx))
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)
    _add_error_handlers(app)
    app.include_router(_routes(), prefix=API)
    app.include_router(sms.router(), prefix=API)  # stored-value SMS codes (issue 6)
    app.include_router(_v2_routes(), prefix=API_V2)  # filtered pulls (issue 14)
    _document_models(app, PushRequest)
    app.router.on_startup.append(_freeze_startup_objects)
    app.router.on_shutdown.append(ctx.db.dispose)
    return app


PUSH_THREADS = 2  # pushes run at once in one server process, at most (4 until 2026-12-05)


def push_threads(ctx: ServerContext) -> int:
    """Pushes run in threads of their own: a burst of pushes waits on the event loop (costs
    nothing) instead of filling Starlette's 40 threads with pushes waiting for a connection,
    which left pulls no thread to run in. At most ``PUSH_THREADS``, fewer when the write pool
    is smaller: a process runs its Python on one core at a time, and a push is mostly Python,
    so more at once only made each take longer (20 at once, at closing time, took past the
    till's 15 s timeout: the till sent the stored batch again), and left the process's pulls
    and its event loop waiting for the interpreter. More processes, not more threads, use
    more cores (docs/scale.md). 2, not 4: each push running at once beside others costs
    PostgreSQL more CPU an event too (its backends share the cores and their caches;
    ``bench/push_sql.py --threads``), and 4 processes of 2 kept two cores as busy as of 4, at
    ~1 µs an event less (docs/scale.md, "Pushes at once"); a closing time still ends in ~30 s
    (``bench/close_tills.py``), more of its pushes told ``server_busy`` and sent again."""
    return min(PUSH_THREADS, sum(ctx.db.pools["write"]))


def _freeze_startup_objects() -> None:
    """Moves everything alive when serving starts (modules, models, the app: ~100,000
    objects) out of the garbage collector's reach (``gc.freeze``), so the full collections
    that a 1,000-event push sets off walk only what requests allocate: ~10 % of a push's
    time otherwise. Those objects live as long as the process anyway."""
    gc.collect()
    gc.freeze()


async def _context(request: Request) -> ServerContext:
    """``async``: FastAPI runs a plain ``def`` dependency in the thread pool, a hop that
    costs more than this does."""
    ctx: ServerContext = request.app.state.ctx
    return ctx


Context = Annotated[ServerContext, Depends(_context)]
_bearer = HTTPBearer(auto_error=False, description="the device token from /v1/enrol")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _device(ctx: ServerContext, credentials: HTTPAuthorizationCredentials | None, *,
            allow_retired: bool = False) -> DeviceIdentity:
    """The calling device (a database read: call it in the thread pool), or ``Unauthorized``
    (``DeviceRetired`` for a device whose identity went to a successor, unless allowed)."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized()
    return services.authenticate(ctx, token=credentials.credentials,
                                 allow_retired=allow_retired)


def _current_device(ctx: Context, credentials: Credentials) -> DeviceIdentity:
    return _device(ctx, credentials)


CurrentDevice = Annotated[DeviceIdentity, Depends(_current_device)]


_PUSH_BODY: dict[str, Any] = {  # the body the push route reads itself (``wire``), as documented
    "requestBody": {
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PushRequest"}}},
        "required": True,
    }
}


def _routes() -> Any:
    from fastapi import APIRouter

    router = APIRouter()

    @router.get("/health", response_model=HealthResponse, responses=responses(503))
    def health(ctx: Context) -> HealthResponse:
        """For a load balancer: 200 while this server can query its database at the schema
        it expects, else 503. No token needed; it tells nothing of the chain's data."""
        return fleet.health(ctx)

    @router.post("/enrol", response_model=EnrolResponse, responses=responses(403, 409))
    def enrol(ctx: Context, body: EnrolRequest) -> EnrolResponse:
        """Spends a one-time enrolment code: returns the device token and data key, once."""
        return services.enrol(ctx, code=body.code, device_name=body.device_name,
                              request_id=body.request_id)

    # Push and pull authenticate inside their one trip to the thread pool (not through the
    # ``CurrentDevice`` dependency, a trip of its own): on a loaded 2-core machine each trip
    # and back costs a few milliseconds.

    @router.post("/push", response_model=PushResponse, openapi_extra=_PUSH_BODY,
                 responses=responses(*_AUTH, 403))
    async def push(ctx: Context, credentials: Credentials, request: Request) -> Response:
        """Stores the device's events exactly once; mark sent only what the answer lists.
        503 ``server_busy`` (``Retry-After``) when too many pushes wait already."""
        gate: PushGate = request.app.state.push_gate
        gate.admit()
        body = await request.body()
        answer = await anyio.to_thread.run_sync(partial(_push, ctx, credentials, body, gate),
                                                limiter=gate.limiter)
        return Response(answer, media_type="application/json")

    @router.get("/pull", response_model=PullResponse, responses=responses(*_AUTH))
    def pull(
        ctx: Context,
        credentials: Credentials,
        cursor: Annotated[int, Query(ge=0, le=MAX_BIGINT)] = 0,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = MAX_PAGE,
        accept_encoding: Annotated[str, Header(include_in_schema=False)] = "",
    ) -> Response:
        """The chain's changes after ``cursor`` in global order, one page (gzip-compressed
        when the client accepts it). Protocol v1: the whole chain's log; tills of this
        version pull ``/v2/pull``."""
        device = _device(ctx, credentials)
        return gzip_answer(services.pull_json(ctx, device=device, cursor=cursor, limit=limit),
                           accept_encoding, PAGES)

    @router.get("/stores", response_model=StoresResponse, responses=responses(*_AUTH))
    def stores(ctx: Context, device: CurrentDevice) -> StoresResponse:
        """The chain's stores (id, number, name): a till names other stores by them."""
        return StoresResponse(stores=[StoreInfo(id=v.id, number=v.number, name=v.name)
                                      for v in services.list_stores(ctx)])

    @router.post("/reidentify", response_model=EnrolResponse,
                 responses=responses(*_AUTH, 403))
    def reidentify(ctx: Context, credentials: Credentials, body: ReidentifyRequest
                   ) -> EnrolResponse:
        """A till whose log forked (409 ``fork``: a restored backup, a copied disk) takes a new
        device identity in its store, proven by its old token (which is retired)."""
        device = _device(ctx, credentials, allow_retired=True)
        return identities.reidentify(ctx, device=device, request=body)[0]

    @router.post("/adopt", response_model=AdoptResponse,
                 responses=responses(*_AUTH, 403, 404))
    def adopt(ctx: Context, device: CurrentDevice, body: AdoptRequest) -> AdoptResponse:
        """The new device takes over its predecessor's unsent events: which ids HQ stores
        already, which member numbers another member holds."""
        return identities.adopt(ctx, device=device, request=body)

    @router.get(LOOKUP_PATH, response_model=MemberLookupResponse,
                responses=responses(*_AUTH, 404, 429))
    def member_lookup(
        ctx: Context,
        credentials: Credentials,
        member_no: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
        phone_index: Annotated[str | None, Query(pattern=PHONE_INDEX)] = None,
        coupons: bool = False,
    ) -> Response:
        """A member's card (masked) and chain-wide balances, for a till that scanned another
        store's member: by member number or member code (a merged-away number finds the
        member it was merged into), or the phone's blind index. Exactly one of the two.
        ``coupons=true``: with the member's usable coupons (issue 18; a till from before them
        asks without, and its strict parser never sees the field)."""
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise Unauthorized()
        answer = member_cards.lookup(ctx, member_no=member_no, phone_index=phone_index,
                                     token=credentials.credentials,
                                     with_coupons=coupons)  # one connection
        return Response(answer.model_dump_json(exclude=None if coupons else {"coupons"}),
                        media_type="application/json")

    @router.get(COUPON_CHECK_PATH, response_model=CouponCheckResponse,
                responses=responses(*_AUTH, 429))
    def coupon_check(ctx: Context, credentials: Credentials,
                     key: Annotated[str, Query(pattern=COUPON_KEY)],
                     terms: bool = False) -> Response:
        """Whether HQ holds a redemption of the coupon ``key``: a till online asks before it
        redeems a coupon (issue 18). Counted with the member lookups (429).
        ``terms=true``: with its state and, to another store's till, the coupon as issued (a
        till from before them asks without, and its strict parser never sees the fields)."""
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise Unauthorized()
        answer = coupons.check(ctx, key=key, token=credentials.credentials)
        return Response(answer.model_dump_json(exclude=None if terms else _TERMS_FIELDS),
                        media_type="application/json")

    return router


_TERMS_FIELDS = {"state", "coupon", "issued_event_id"}  # GET /v1/coupons/check?terms=true


def _v2_routes() -> Any:
    from fastapi import APIRouter

    router = APIRouter()

    @router.get("/pull", response_model=PullResponse, responses=responses(*_AUTH))
    def pull_filtered(
        ctx: Context,
        credentials: Credentials,
        cursor: Annotated[int, Query(ge=0, le=MAX_BIGINT)] = 0,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = MAX_PAGE,
        snapshot: Annotated[int, Query(ge=0, le=MAX_BIGINT)] = 0,
        accept_encoding: Annotated[str, Header(include_in_schema=False)] = "",
    ) -> Response:
        """What this till's store holds, after ``cursor`` in global order, one page: its own
        store's events, the server's, the member directory of the whole chain, and other
        stores' events about its store's members (docs/scale.md, "What a till holds"). The
        cursor is the same position as ``/v1/pull``'s: a till switches at its cursor.
        ``snapshot``: the position of the snapshot the till started from (``/v2/snapshot``):
        other stores' registrations up to it are left out (the snapshot has them)."""
        device = _device(ctx, credentials)
        return gzip_answer(services.pull_json(ctx, device=device, cursor=cursor, limit=limit,
                                              filtered=True, snapshot=snapshot),
                           accept_encoding, PAGES)

    @router.get("/snapshot", response_model=SnapshotResponse, responses=responses(*_AUTH))
    def snapshot(
        ctx: Context,
        credentials: Credentials,
        accept_encoding: Annotated[str, Header(include_in_schema=False)] = "",
    ) -> Response:
        """A new till's start: the chain's member directory as of a log position (other
        stores' registrations), gzip-compressed; then ``/v2/pull?snapshot=<position>`` from
        cursor 0 (docs/scale.md, "How a new till starts")."""
        device = _device(ctx, credentials)
        return gzip_answer(snapshot_json(ctx, device=device), accept_encoding)

    return router


def _push(ctx: ServerContext, credentials: HTTPAuthorizationCredentials | None,
          body: bytes, gate: PushGate) -> bytes:
    """The push route's work, in the thread pool: authenticate, decode the body with
    ``wire`` (a ``PushRequest``, several times faster than FastAPI's model path; a refusal
    is FastAPI's own 422), store, answer the ``PushResponse`` JSON."""
    device = _device(ctx, credentials)
    try:
        request = decode_push(body)
    except PushRefused as e:
        raise RequestValidationError(
            [{**err, "loc": ("body", *err["loc"])} for err in e.errors]
        ) from None
    started = time.monotonic()
    answer = services.push_json(ctx, device=device, request=request)
    gate.took(time.monotonic() - started)
    return answer


def _document_models(app: FastAPI, *models: type[BaseModel]) -> None:
    """Adds ``models`` to the OpenAPI components: bodies a route reads itself (``_PUSH_BODY``)
    stay documented with their schema, as if FastAPI had validated them."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = generate()
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        for model in models:
            schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, definition in schema.pop("$defs", {}).items():
                schemas.setdefault(name, definition)  # FastAPI's own, where it has one
            schemas.setdefault(model.__name__, schema)
        document["components"]["schemas"] = dict(sorted(schemas.items()))
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def _error(status: int, code: str, message: str,
           headers: dict[str, str] | None = None) -> JSONResponse:
    body = ErrorBody(code=code, message=message).model_dump()
    headers = {**({"WWW-Authenticate": "Bearer"} if status == 401 else {}), **(headers or {})}
    return JSONResponse(body, status_code=status, headers=headers or None)


def _log_refusal(request: Request, status: int, code: str) -> None:
    """One line per refused request: the route and the error's code, never the body or the
    query (they may hold personal data) nor the Authorization header."""
    log.info("refused %s %s: %d %s", request.method, request.url.path, status, code)


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServerError)
    async def _server_error(request: Request, exc: ServerError) -> JSONResponse:
        _log_refusal(request, exc.status, exc.code)
        return _error(exc.status, exc.code, exc.text(), exc.headers())

    @app.exception_handler(DomainError)
    async def _domain_error(request: Request, exc: DomainError) -> JSONResponse:
        _log_refusal(request, 422, type(exc).__name__)
        return _error(422, "refused", exc.text())

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        _log_refusal(request, 422, "bad_request")
        problems = [
            f"{'.'.join(str(p) for p in err.get('loc', ()))}: {err.get('msg', '')}"
            for err in exc.errors()[:5]
        ]
        return _error(422, "bad_request", "; ".join(problems) or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        _log_refusal(request, exc.status_code, "http_error")
        if exc.status_code == 400:  # FastAPI could not read the body (not UTF-8): as bad JSON
            return _error(422, "bad_request", "body: not JSON text in UTF-8")
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return _error(exc.status_code, code, str(exc.detail), exc.headers)  # 405: Allow

    @app.exception_handler(IntegrityError)
    async def _integrity(_request: Request, exc: IntegrityError) -> JSONResponse:
        # Reached only by a request that contradicts itself (one event id under two seqs):
        # the transaction rolled back, nothing was written.
        log.warning("integrity error: %s", exc.orig)
        return _error(409, "conflict", "the request contradicts stored events")

    @app.exception_handler(OperationalError)
    @app.exception_handler(PoolTimeout)
    async def _database_down(request: Request, exc: Exception) -> JSONResponse:
        # The database is down or restarting, a hot standby cancelled the read to replay WAL,
        # or every pooled connection stayed busy past the pool's timeout: the transaction
        # rolled back and nothing was written. "Not now" (503), so a till retries later, as
        # when HQ is offline; only the error's class goes to the log (no SQL, no values).
        log.warning("database unavailable: %s", type(getattr(exc, "orig", exc)).__name__)
        error = DatabaseUnavailable()
        _log_refusal(request, error.status, error.code)
        return _error(error.status, error.code, error.text(), error.headers())

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return _error(500, "internal", "internal server error")


class BodyLimit:
    """Refuses bodies over ``limit`` bytes with 413 before the route runs: by the declared
    Content-Length, and by counting what is actually read (chunked or lying clients)."""

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await self._refuse(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await self._refuse(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = _error(413, "too_large", f"The request body is over {self.limit} bytes.")
        await response(scope, receive, send)
