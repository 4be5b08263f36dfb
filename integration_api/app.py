"""The local integration API (FastAPI): the main POS beside the till looks up members, reports
sales and refunds, asks for points quotes and stored-value payments, and reads the day.

Nothing runs on the till's GUI thread. The routes are ``async def`` that call the till's
services (pos_member.integration) straight on uvicorn's own thread: each is a millisecond or
two of SQLite, and handing it to a worker thread and back cost as much again (two thread
switches under the GIL; bench/integration.py). Requests in flight are few by rule (limits.py),
so one waiting for the database delays the next by as much, never the till's screen. The
payment, which waits minutes for people, is a plain ``def`` on FastAPI's worker threads.
Limits are :mod:`integration_api.limits`; the token and scopes :mod:`pos_member.integration.tokens`.
The lookup and the sale, which a POS sends at every bill, are answered in front of FastAPI when
the request is an ordinary one (:mod:`integration_api.hot`: the same functions, the same answer).
Every refusal is one JSON shape, ``{"error": name, "message": text}`` (``ErrorOut``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException

from integration_api import schemas as s
from integration_api.hot import HotRoute, HotRoutes
from integration_api.limits import Limits, LimitsMiddleware
from integration_api.payments import PaymentDesk, PaymentRequest
from pos_member import __version__
from pos_member.crypto import KeyStore
from pos_member.db.uow import UnitOfWork
from pos_member.errors import (
    DomainError,
    DuplicateBill,
    KeyStoreUnavailable,
    MemberNotFound,
    PermissionDenied,
    SaleNotFound,
    StorageFull,
)
from pos_member.integration import queries, reports
from pos_member.integration.errors import (
    NoTokenIssued,
    PaymentNotPossible,
    RotationNotOffered,
    ScopeMissing,
    TillBusy,
    TokenInvalid,
    TxnIdReused,
    error_code,
)
from pos_member.integration.tokens import Authenticator, Scope, issue_token, require_scope
from pos_member.permissions import Clerk
from pos_member.services.member_cards import find_member
from pos_member.stored_value_errors import TxnIdConflict

log = logging.getLogger(__name__)

STATUS: tuple[tuple[type[Exception], int], ...] = (
    (TokenInvalid, 401), (NoTokenIssued, 401), (ScopeMissing, 403), (PermissionDenied, 403),
    (MemberNotFound, 404), (SaleNotFound, 404), (TxnIdReused, 409), (DuplicateBill, 409),
    (TxnIdConflict, 409), (TillBusy, 409), (PaymentNotPossible, 409), (RotationNotOffered, 409),
    (KeyStoreUnavailable, 503), (StorageFull, 503),
)
ERRORS = {code: {"model": s.ErrorOut} for code in (401, 403, 404, 409, 413, 422, 429, 503)}


@dataclass
class ApiContext:
    """What the API works with: the till's unit of work, who acts for the POS (``pos_clerk``),
    the token it accepts and the till's pay desk (None: no till window to show a dialog)."""

    uow: UnitOfWork
    clerk: Clerk
    auth: Authenticator
    payments: PaymentDesk | None = None
    limits: Limits = field(default_factory=Limits)
    keystore: Callable[[], KeyStore] | None = None  # where a rotated token goes (None: no
    # rotation over the API; the manager's Ctrl+I still rotates)
    paying: threading.Lock = field(default_factory=threading.Lock)


def status_of(error: Exception) -> int:
    for kind, status in STATUS:
        if isinstance(error, kind):
            return status
    return 422


_bearer = HTTPBearer(auto_error=False, description="the till's integration token")


async def _scopes(request: Request,
            cred: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
            ) -> frozenset[Scope]:
    ctx: ApiContext = request.app.state.ctx
    return ctx.auth.check(cred.credentials if cred is not None else None)


Scopes = Annotated[frozenset[Scope], Depends(_scopes)]


def create_app(ctx: ApiContext) -> Any:
    """The ASGI application: FastAPI behind the limits."""
    api = FastAPI(title="POS Member till integration API", version="1",
                  description="Loopback-only API of a running POS Member till "
                              "(docs/integration.md).",
                  responses=ERRORS)  # type: ignore[arg-type]
    api.state.ctx = ctx
    api.add_exception_handler(DomainError, _domain_error)  # type: ignore[arg-type]
    api.add_exception_handler(RequestValidationError, _invalid)  # type: ignore[arg-type]
    api.add_exception_handler(Exception, _failed)
    api.add_exception_handler(StarletteHTTPException, _http)  # type: ignore[arg-type]
    _member_routes(api, ctx)
    _sale_routes(api, ctx)
    _payment_route(api, ctx)
    _token_route(api, ctx)
    hot = HotRoutes(api, {
        "/v1/members/lookup": HotRoute(s.LookupIn, partial(lookup_answer, ctx),
                                       exclude_none=True),
        "/v1/sales": HotRoute(s.SaleIn, partial(sale_answer, ctx)),
    }, scopes_of=lambda token: ctx.auth.check(token), refused=_domain_error, failed=_failed)
    return LimitsMiddleware(hot, ctx.limits)


async def _domain_error(request: Request, error: DomainError) -> JSONResponse:
    status = status_of(error)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(s.ErrorOut(error=error_code(error), message=error.text())
                        .model_dump(exclude_none=True), status, headers=headers)


async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
    """An unknown path or method, in the same shape as every other refusal. A body FastAPI
    could not parse (not UTF-8, nested too deep, a number of thousands of digits: its 400) is
    ``422 invalid_request`` as any other body that is not JSON (docs/integration.md, Errors)."""
    if error.status_code == 400:
        return JSONResponse(s.ErrorOut(error="invalid_request", message="body: not valid JSON",
                                       fields=["body"]).model_dump(), 422)
    name = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
    return JSONResponse(s.ErrorOut(error=name, message=str(error.detail)).model_dump(
        exclude_none=True), error.status_code, headers=getattr(error, "headers", None))


async def _failed(request: Request, error: Exception) -> JSONResponse:
    """The till's own failure (a bug, the disk): the same JSON shape, no detail (a database
    error's text holds the statement's values); its type goes to the log."""
    log.error("integration API: %s on %s", type(error).__name__, request.url.path)
    return JSONResponse(s.ErrorOut(error="internal", message=(
        "The till could not do this now; nothing was written. Try again, with the same "
        "txn_id.")).model_dump(exclude_none=True), 500)


async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
    problems = error.errors()
    fields = [".".join(str(p) for p in e.get("loc", ())[1:]) for e in problems]
    first = problems[0] if problems else {}
    where = fields[0] if fields else "body"
    return JSONResponse(s.ErrorOut(
        error="invalid_request", message=f"{where}: {first.get('msg', 'not valid')}",
        fields=fields).model_dump(), 422)


def _member_routes(api: FastAPI, ctx: ApiContext) -> None:
    @api.get("/v1/health", response_model=s.HealthOut)
    async def health(scopes: Scopes) -> s.HealthOut:
        """Whether the till answers and what this token may do."""
        return s.HealthOut(store_id=ctx.clerk.store_id, device_id=ctx.clerk.device_id,
                           scopes=sorted(scopes), version=__version__)

    @api.post("/v1/members/lookup", response_model=s.MemberOut,
              response_model_exclude_none=True)
    async def lookup(body: s.LookupIn, scopes: Scopes) -> s.MemberOut:
        """A member by scanned code, member number or phone (a POST, so that no phone number
        sits in a URL). Masked unless the token has the ``personal`` scope."""
        return lookup_answer(ctx, body, scopes)

    @api.get("/v1/day", response_model=s.DayOut)
    async def day(scopes: Scopes, date: date | None = None) -> s.DayOut:
        """The store's figures for ``date`` (default: today in the store's time zone)."""
        require_scope(scopes, Scope.FIGURES)
        return day_out(queries.day_figures(ctx.uow, ctx.clerk, day=date))


def lookup_answer(ctx: ApiContext, body: s.LookupIn, scopes: frozenset[Scope]) -> s.MemberOut:
    """``POST /v1/members/lookup`` (its route, and integration_api.hot's fast path)."""
    require_scope(scopes, Scope.LOOKUP)
    v = queries.lookup_member(ctx.uow, ctx.clerk, code=body.code,
                              personal=Scope.PERSONAL in scopes)
    c, r = v, v.revealed
    return s.MemberOut(
        member_no=c.member_no, tier=c.tier, status=c.status, phone_masked=c.phone_masked,
        name_masked=c.name_masked, birthday_month=c.birthday_month, points=v.points,
        stored_value_fen=v.stored_value.total_fen,
        stored_value_frozen=v.stored_value.frozen,
        stored_value_blocked=v.stored_value.blocked,
        phone=r.phone if r else None, name=r.name if r else None,
        birthday=r.birthday if r else None)


def sale_answer(ctx: ApiContext, body: s.SaleIn, scopes: frozenset[Scope]) -> s.SaleOut:
    """``POST /v1/sales`` (its route, and integration_api.hot's fast path)."""
    require_scope(scopes, Scope.SALES)
    return sale_out(body.txn_id, reports.report_sale(ctx.uow, ctx.clerk, body.report()))


def _sale_routes(api: FastAPI, ctx: ApiContext) -> None:
    @api.post("/v1/sales", response_model=s.SaleOut)
    async def sale(body: s.SaleIn, scopes: Scopes) -> s.SaleOut:
        """Reports a sale; idempotent by ``txn_id``."""
        return sale_answer(ctx, body, scopes)

    @api.post("/v1/refunds", response_model=s.RefundOut)
    async def refund(body: s.RefundIn, scopes: Scopes) -> s.RefundOut:
        """Reports a refund of a bill, an amount of it or some of its lines; idempotent by
        ``txn_id``."""
        require_scope(scopes, Scope.REFUNDS)
        return refund_out(body.txn_id, reports.report_refund(ctx.uow, ctx.clerk,
                                                             body.report()))

    @api.post("/v1/quotes", response_model=s.QuoteOut)
    async def quote(body: s.QuoteIn, scopes: Scopes) -> s.QuoteOut:
        """The most points a bill may redeem and the points it would earn."""
        require_scope(scopes, Scope.SALES)
        card, q = queries.quote(ctx.uow, ctx.clerk, member=body.member,
                                amount_fen=body.amount_fen, redeem_points=body.redeem_points)
        redeem = min(body.redeem_points, q.cap_points, q.spendable)
        return s.QuoteOut(member_no=card.member_no if card else None, cap_points=q.cap_points,
                          spendable_points=q.spendable, redeem_step=q.redeem_step,
                          redeem_points=redeem, paid_fen=q.paid_fen,
                          points_earned=q.earn.earned if q.earn else 0)


def _payment_route(api: FastAPI, ctx: ApiContext) -> None:
    @api.post("/v1/payments", response_model=s.PaymentOut)
    def payment(body: s.PaymentIn, scopes: Scopes) -> s.PaymentOut:
        """Asks the till to take a stored-value payment: the till shows its pay dialog with
        the member, the bill and the amount; the answer comes when the cashier and the member
        have finished (``paid``) or cancelled it. One payment at a time; a repeated
        ``txn_id`` already paid answers at once."""
        require_scope(scopes, Scope.PAYMENTS)
        card = find_member(ctx.uow, clerk=ctx.clerk, code=body.member)
        txn_id = reports.till_txn_id(body.txn_id, "payment")
        done = queries.payment_done(ctx.uow, txn_id=txn_id, member_id=card.id,
                                    amount_fen=body.amount_fen)
        if done is None:
            desk = ctx.payments
            if desk is None:
                raise PaymentNotPossible(reason="no cashier is logged in at the till")
            if not ctx.paying.acquire(blocking=False):
                raise TillBusy()
            try:
                done = desk.take_payment(PaymentRequest(
                    txn_id=txn_id, bill_no=body.bill_no, card=card,
                    amount_fen=body.amount_fen)).result
            finally:
                ctx.paying.release()
        if done is None:
            return s.PaymentOut(status="cancelled", txn_id=body.txn_id,
                                amount_fen=body.amount_fen)
        return s.PaymentOut(status="paid", txn_id=body.txn_id, amount_fen=done.amount_fen,
                            principal_fen=-done.principal_delta_fen,
                            bonus_fen=-done.bonus_delta_fen, balance_fen=done.balance.total_fen)


def _token_route(api: FastAPI, ctx: ApiContext) -> None:
    @api.post("/v1/token/rotate", response_model=s.TokenOut)
    def rotate(scopes: Scopes,
               cred: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
               ) -> s.TokenOut:
        """A new token with the same scopes, shown once in this answer; the one that asked
        stops working at once. For an integrator who must change the token (a leak, a new
        POS); the manager can do the same at the till (Ctrl+I). Two rotations with one token
        at once: one gets the new token, the other 401 (its token has just ended)."""
        if ctx.keystore is None:
            raise RotationNotOffered()
        keystore = ctx.keystore
        token, record = ctx.auth.rotate(
            cred.credentials if cred is not None else None,
            lambda old: issue_token(keystore(), device_id=ctx.clerk.device_id,
                                    now=ctx.uow.clock.now(), scopes=old.scopes))
        return s.TokenOut(token=token, scopes=sorted(record.scopes),
                          issued_at=record.issued_at)


def fastapi_of(app: Any) -> FastAPI:
    """The FastAPI application inside the limits and the fast path (its OpenAPI description)."""
    while isinstance(app, LimitsMiddleware | HotRoutes):
        app = app.app
    assert isinstance(app, FastAPI)
    return app


def sale_out(txn_id: str, r: reports.ReportedSale) -> s.SaleOut:
    x = r.sale
    return s.SaleOut(txn_id=txn_id, bill_no=x.bill_no, sale_id=x.sale_id, amount_fen=x.bill_fen,
                     redeem_points=x.redeem_points, redeem_fen=x.redeem_fen,
                     paid_fen=x.paid_fen, member_no=r.member_no,
                     points_earned=x.earn.earned if x.earn else 0,
                     points_balance=x.balance if x.member_id else None, tier=x.tier_after,
                     tier_upgraded=x.upgraded, repeated=x.repeated)


def refund_out(txn_id: str, done: Any) -> s.RefundOut:
    r, sv = done.refund, done.stored_value
    return s.RefundOut(txn_id=txn_id, bill_no=r.bill_no, refund_fen=r.refund_fen,
                       refunded_total_fen=r.refunded_total_fen, points_clawed=r.clawed_points,
                       points_restored=r.restored_points, points_balance=r.balance,
                       given_back=[s.MoneyOut(kind=t.kind, amount_fen=t.amount_fen)
                                   for t in done.back],
                       stored_value_fen=sv.balance.total_fen if sv is not None else None,
                       repeated=r.repeated)


def day_out(b: Any) -> s.DayOut:
    x = b.sales
    return s.DayOut(
        day=b.day, sales=x.sales, member_sales=x.member_sales, ratio_permille=x.ratio_permille,
        ratio_target_permille=b.ratio_target_permille, amount_fen=x.amount_fen,
        member_amount_fen=x.member_amount_fen, share_permille=x.share_permille,
        registrations=b.registrations,
        guides=[s.GuideOut(code=g.code, name=g.name, on_shift=g.on_shift, target=g.target,
                           registrations=g.registrations, sales=g.sales.sales,
                           member_sales=g.sales.member_sales,
                           ratio_permille=g.sales.ratio_permille, amount_fen=g.sales.amount_fen,
                           member_amount_fen=g.sales.member_amount_fen) for g in b.guides])
