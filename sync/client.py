"""The till's HTTP client for the sync protocol (``sync.protocol``), over httpx.

Errors come out as two kinds the caller can act on:

- :class:`ServerUnavailable`: no answer (offline, refused connection, timeout, a cut connection)
  or a 5xx. Nothing is lost: the events stay unsent and a later sync retries.
- :class:`ServerRefused`: a 4xx with the server's ``ErrorBody``; retrying the same request will
  not help (a revoked token, a spent enrolment code, a malformed batch).

An answer that does not match the protocol is :class:`ProtocolMismatch`. Not thread-safe: one
client per worker.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, TypeVar

import httpx
import msgspec
from pydantic import BaseModel, ValidationError

from pos_member.hq_trust import Verify
from sync.errors import ProtocolMismatch, ServerRefused, ServerUnavailable, SyncError

if TYPE_CHECKING:
    from pos_member.services.coupon_redeem import HqCouponAnswer
    from sync.member_lookup import MemberLookupResponse
from sync.protocol import (
    API,
    API_V2,
    MAX_PAGE,
    AdoptRequest,
    AdoptResponse,
    EnrolRequest,
    EnrolResponse,
    ErrorBody,
    OutboxBatch,
    PullResponse,
    PushRequest,
    PushResponse,
    ReidentifyRequest,
    SnapshotResponse,
    StoresResponse,
)

M = TypeVar("M", bound=BaseModel)
DEFAULT_TIMEOUT = 15.0  # seconds; a closing sync of 1,000 events takes well under one
# A checkout waits on HQ's coupon check; past this it redeems as offline (docs/rules.md).
COUPON_CHECK_TIMEOUT = 3.0
log = logging.getLogger(__name__)


class SyncClient:
    """``base_url`` is the server's root (``https://hq.example.com``); the protocol's ``/v1``
    is added here. ``token`` is the device token (``None`` only for enrolment)."""

    def __init__(self, base_url: str, token: str | None = None, *,
                 timeout: float = DEFAULT_TIMEOUT, verify: Verify = True,
                 transport: httpx.BaseTransport | None = None) -> None:
        """``verify``: the certificates trusted for HQ (``pos_member.hq_trust.hq_verify``).
        Pull pages come gzip-compressed (a quarter of their size); httpx decodes them."""
        headers = {"Accept-Encoding": "gzip",
                   **({"Authorization": f"Bearer {token}"} if token else {})}
        self._http = httpx.Client(base_url=base_url.rstrip("/") + API, headers=headers,
                                  timeout=timeout, verify=verify, transport=transport)
        self._pull_url = base_url.rstrip("/") + API_V2 + "/pull"
        self._snapshot_url = base_url.rstrip("/") + API_V2 + "/snapshot"

    def enrol(self, request: EnrolRequest) -> EnrolResponse:
        return self._call("POST", "/enrol", EnrolResponse, body=request)

    def push(self, request: PushRequest | OutboxBatch) -> PushResponse:
        if isinstance(request, OutboxBatch):
            return self._call("POST", "/push", PushResponse, content=request.to_json())
        return self._call("POST", "/push", PushResponse, body=request)

    def pull(self, cursor: int, limit: int = MAX_PAGE, *, snapshot: int = 0) -> PullResponse:
        """Protocol v2: the store's filtered log (its own store, the server, the chain's member
        directory, other stores' events about its members), at the same cursor as v1's;
        ``snapshot``: the position of the snapshot this till started from."""
        params = {"cursor": cursor, "limit": limit, **({"snapshot": snapshot} if snapshot else {})}
        return self._call("GET", self._pull_url, PullResponse, params=params)

    def snapshot(self) -> SnapshotResponse:
        """A new till's member directory as of a log position (``GET /v2/snapshot``), gzip on
        the wire. Decoded without validating each of its (maybe millions of) rows."""
        answer = self._call("GET", self._snapshot_url, _RawAnswer)
        try:
            return _decode_snapshot(answer.body)
        except msgspec.ValidationError as e:
            raise ProtocolMismatch(detail=f"SnapshotResponse: {e}") from None

    def stores(self) -> StoresResponse:
        """The chain's stores, for naming other stores at this till."""
        return self._call("GET", "/stores", StoresResponse)

    def reidentify(self, request: ReidentifyRequest) -> EnrolResponse:
        """A new device for this forked till, proven by its (old) token."""
        return self._call("POST", "/reidentify", EnrolResponse, body=request)

    def adopt(self, request: AdoptRequest) -> AdoptResponse:
        """This (new) device takes over its predecessor's unsent events."""
        return self._call("POST", "/adopt", AdoptResponse, body=request)

    def use_token(self, token: str) -> None:
        """From now on, call as the device holding ``token`` (a new identity)."""
        self._http.headers["Authorization"] = f"Bearer {token}"

    def sms_send(self, *, member_id: str, phone: str, amount_fen: int, txn_id: str) -> str:
        """Asks HQ to text the member a payment code; returns the challenge id. Raises
        ``SmsResendTooSoon`` within the resend spacing (per member), ``SmsNotSent`` when HQ
        or its SMS gateway cannot send it now (stored value, issue 6)."""
        from pos_member.stored_value_errors import SmsNotSent
        from sync.sms_wire import SmsSendRequest, SmsSendResponse, sms_error

        try:
            return self._call("POST", "/sms/send", SmsSendResponse, body=SmsSendRequest(
                member_id=member_id, phone=phone, amount_fen=amount_fen,
                txn_id=txn_id)).challenge_id
        except ServerRefused as e:
            raise sms_error(e) from None
        except ServerUnavailable:  # offline, or HQ's 503: its gateway did not take the code
            raise SmsNotSent() from None

    def sms_verify(self, *, challenge_id: str, member_id: str, amount_fen: int, txn_id: str,
                   code: str) -> str:
        """Checks the code with HQ (``stored_value.SmsVerifier``, so ``pay()`` can call it);
        returns the verified challenge id, or raises ``SmsCodeInvalid`` (wrong, expired, used
        up, already used) or ``SmsUnavailable`` (HQ not reachable: no money may move)."""
        from pos_member.stored_value_errors import SmsUnavailable
        from sync.sms_wire import SmsVerifyRequest, SmsVerifyResponse, sms_error

        try:
            return self._call("POST", "/sms/verify", SmsVerifyResponse, body=SmsVerifyRequest(
                challenge_id=challenge_id, member_id=member_id, amount_fen=amount_fen,
                txn_id=txn_id, code=code)).challenge_id
        except ServerRefused as e:
            raise sms_error(e) from None
        except ServerUnavailable:
            raise SmsUnavailable() from None

    def member_lookup(self, *, member_no: str | None = None, phone_index: str | None = None
                      ) -> MemberLookupResponse | None:
        """Another store's member as HQ knows it (card, chain-wide balances), or None when
        HQ has no such member (``GET /v1/members/lookup``; issue 14). ``ServerUnavailable``
        when HQ cannot be reached: the till falls back to what it cached."""
        from sync.member_lookup import LOOKUP_PATH, MemberLookupResponse

        params = {"member_no": member_no} if member_no is not None else {
            "phone_index": phone_index or ""}
        params["coupons"] = "true"  # the member's usable coupons, kept for offline (issue 18)
        try:
            return self._call("GET", LOOKUP_PATH, MemberLookupResponse, params=params)
        except ServerRefused as e:
            if e.status == 404:
                return None
            raise

    def coupon_at_hq(self, key: str) -> HqCouponAnswer | None:
        """Whether HQ holds a redemption of the coupon ``key`` (``GET /v1/coupons/check``;
        ``coupon_redeem.HqCoupons``, so the checkout can ask before redeeming a coupon). None when
        HQ gave no answer within ``COUPON_CHECK_TIMEOUT``, refused (its limit per till, a revoked
        token) or answered what the protocol does not say: the till then redeems by its own copy, as
        offline (docs/rules.md)."""
        from pos_member.services.coupon_redeem import HqCouponAnswer
        from sync.coupon_check import COUPON_CHECK_PATH, CouponCheckResponse

        try:
            a = self._call("GET", COUPON_CHECK_PATH, CouponCheckResponse,
                           params={"key": key, "terms": "true"},
                           timeout=COUPON_CHECK_TIMEOUT)
        except SyncError as e:  # never the key in the log: the kind of failure only
            log.warning("HQ did not answer a coupon check (%s): redeemed as offline",
                        type(e).__name__)
            return None
        return HqCouponAnswer(redeemed=a.redeemed, sale_id=a.sale_id, store_no=a.store_no,
                              store_name=a.store_name, used_at=a.used_at, state=a.state,
                              coupon=a.coupon, issued_event_id=a.issued_event_id)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SyncClient:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _call(self, method: str, path: str, answer: type[M], *, body: BaseModel | None = None,
              content: bytes | None = None, params: Mapping[str, int | str] | None = None,
              timeout: float | None = None) -> M:
        if body is not None:
            content = body.model_dump_json().encode()
        headers = {"Content-Type": "application/json"} if content is not None else None
        try:
            response = self._http.request(
                method, path, content=content, params=params, headers=headers,
                **({"timeout": timeout} if timeout is not None else {}))
        except httpx.TimeoutException:
            raise ServerUnavailable(detail="no answer in time") from None
        except httpx.TransportError as e:
            raise ServerUnavailable(detail=_transport_detail(e)) from None
        except httpx.DecodingError:  # a gzip answer cut or garbled on the way
            raise ServerUnavailable(detail="an answer that could not be decoded") from None
        if response.status_code >= 500:
            raise ServerUnavailable(detail=f"server error {response.status_code}: "
                                    f"{_error_message(response)}",
                                    retry_after=_retry_after(response))
        if response.status_code >= 400:
            raise ServerRefused(status=response.status_code, code=_error_code(response),
                                detail=_error_message(response))
        if response.status_code != 200:
            raise ProtocolMismatch(detail=f"unexpected status {response.status_code}")
        if answer is _RawAnswer:
            return _RawAnswer.model_construct(body=response.content)  # type: ignore[return-value]
        try:
            return answer.model_validate_json(response.content)
        except ValidationError as e:
            raise ProtocolMismatch(detail=f"{answer.__name__}: {e.error_count()} problems") \
                from None


class _RawAnswer(BaseModel):
    """An answer's bytes as they came (decoded by the caller)."""

    body: bytes


class _Snapshot(msgspec.Struct, frozen=True):
    position: int
    stores: list[tuple[str, int]]
    members: list[tuple[str, str, str | None, int]]


_SNAPSHOT = msgspec.json.Decoder(_Snapshot)


def _decode_snapshot(body: bytes) -> SnapshotResponse:
    s = _SNAPSHOT.decode(body)
    return SnapshotResponse.model_construct(position=s.position, stores=s.stores,
                                            members=s.members)


def _error_body(response: httpx.Response) -> ErrorBody | None:
    try:
        return ErrorBody.model_validate_json(response.content)
    except ValidationError:
        return None


def _retry_after(response: httpx.Response) -> float | None:
    """A ``Retry-After`` of seconds (HQ never sends a date), else None."""
    try:
        seconds = float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None
    return seconds if 0 <= seconds <= 3600 else None


def _error_message(response: httpx.Response) -> str:
    body = _error_body(response)
    if body is not None:
        return body.message
    return response.reason_phrase or "no error body"


def _error_code(response: httpx.Response) -> str:
    body = _error_body(response)
    return body.code if body is not None else "unknown"


def _caused_by(error: BaseException, kind: type[BaseException]) -> bool:
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, kind):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _transport_detail(e: httpx.TransportError) -> str:
    if isinstance(e, httpx.ConnectError):
        if _caused_by(e, ssl.SSLCertVerificationError):
            return ("HQ's certificate is not trusted: set hq_ca in config.toml to the chain's CA "
                    'or to "system" (docs/deploy.md)')
        return "connection refused or no network"
    if isinstance(e, httpx.RemoteProtocolError):
        return "the connection was cut"
    return type(e).__name__
