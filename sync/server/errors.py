"""The server's refusals. Each is a ``DomainError`` with an HTTP status and a machine code, so
one handler in ``app`` turns any of them into an ``ErrorBody``, and the CLI prints its text."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pos_member.errors import DomainError
from pos_member.i18n import QT_TRANSLATE_NOOP
from pos_member.stored_value_errors import SmsCodeInvalid, SmsNotSent, SmsResendTooSoon
from sync.sms_wire import (
    SMS_CODE_INVALID,
    SMS_MEMBER_UNKNOWN,
    SMS_RATE_LIMITED,
    SMS_TOO_SOON,
    SMS_UNAVAILABLE,
)

if TYPE_CHECKING:
    from pydantic_core import ErrorDetails


class ServerError(DomainError):
    status: int = 400
    code: str = "bad_request"

    def headers(self) -> dict[str, str]:
        """Headers of the error answer (``Retry-After`` on a 429)."""
        return {}


class BadRequest(ServerError):
    status = 422
    code = "bad_request"
    message = QT_TRANSLATE_NOOP("errors", "The request is not valid: {detail}")


class BodyTooLarge(ServerError):
    status = 413
    code = "too_large"
    message = QT_TRANSLATE_NOOP("errors", "The request body is over {limit} bytes.")


class Unauthorized(ServerError):
    status = 401
    code = "unauthorized"
    message = QT_TRANSLATE_NOOP("errors", "Missing, unknown or revoked device token.")


class Forbidden(ServerError):
    status = 403
    code = "forbidden"
    message = QT_TRANSLATE_NOOP("errors", "This device may not do that: {detail}")


class EnrolmentRefused(ServerError):
    status = 403
    code = "enrolment_refused"
    message = QT_TRANSLATE_NOOP(
        "errors", "The enrolment code is unknown, already used or expired: ask HQ for a new one."
    )


class StoreNotFound(ServerError):
    status = 404
    code = "not_found"
    message = QT_TRANSLATE_NOOP("errors", "No store number {number}.")


class StaffNotFoundAtHq(ServerError):
    status = 404
    code = "not_found"
    message = QT_TRANSLATE_NOOP("errors", "No active staff number {code} in store {number}.")


class InactiveStaffNotFoundAtHq(ServerError):
    status = 404
    code = "not_found"
    message = QT_TRANSLATE_NOOP("errors", "No inactive staff number {code} in store {number}.")


class DeviceNotFound(ServerError):
    status = 404
    code = "not_found"
    message = QT_TRANSLATE_NOOP("errors", "No device {device_id}.")


class FlagNotFound(ServerError):
    status = 404
    code = "not_found"
    message = QT_TRANSLATE_NOOP("errors", "No flag {flag_id}.")


class Conflict(ServerError):
    status = 409
    code = "conflict"
    message = QT_TRANSLATE_NOOP("errors", "Refused: {detail}")


class Fork(ServerError):
    """A pushed event contradicts the device's stored log: its ``(device, seq)`` is stored (or
    held) under another event, or its id is stored under another device. The till's data was
    restored from an older copy or cloned: it takes a new identity (``/v1/reidentify``)."""

    status = 409
    code = "fork"
    message = QT_TRANSLATE_NOOP(
        "errors",
        "This till's events fork from what HQ stores ({detail}): its data was restored from a "
        "backup or copied. Nothing was stored; the till takes a new identity and sends them "
        "again.",
    )


class DeviceRetired(ServerError):
    """The device's identity went to a successor: its token may only ask for a new one."""

    status = 409
    code = "device_retired"
    message = QT_TRANSLATE_NOOP(
        "errors",
        "This till's identity was handed over to a new one (a restored or copied till): it "
        "takes a new identity on its own.",
    )


class SchemaNotCurrent(ServerError):
    status = 503
    code = "schema_not_current"
    message = QT_TRANSLATE_NOOP(
        "errors",
        "The server database is at schema {found}, not {head}: "
        "run 'pos-member-server db upgrade'.",
    )


class SchemaNewer(SchemaNotCurrent):
    """A database a newer server migrated (this program rolled back): no upgrade helps."""

    message = QT_TRANSLATE_NOOP(
        "errors",
        "The server database is at schema {found}, newer than this program's {head}: run "
        "the newer version of pos-member-server (nothing was changed).",
    )


class DatabaseUnavailable(ServerError):
    """The database cannot answer now (down, restarting, or a standby replaying WAL)."""

    status = 503
    code = "database_unavailable"
    message = QT_TRANSLATE_NOOP("errors", "The server cannot reach its database.")
    retry_after_s = 5

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_s)}


class LookupRateLimited(ServerError):
    """Past a device's member lookups in its window (``lookup_limits``)."""

    status = 429
    code = "lookup_rate_limited"
    message = QT_TRANSLATE_NOOP(
        "errors", "Too many member lookups from this till: try again in {seconds} s.")

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.params["seconds"])}


class ServerBusy(ServerError):
    """More pushes are waiting in this server process than it lets wait (``admission``): the
    till is told at once when to come back instead of waiting past its own timeout."""

    status = 503
    code = "server_busy"
    message = QT_TRANSLATE_NOOP("errors", "The server is busy: try again in {seconds} s.")

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.params["seconds"])}


class KeyUnavailable(ServerError):
    """The chain's personal-data key cannot be opened: HQ's key-encryption key (KEK) is
    missing, malformed or not the one it was wrapped with (``sync.server.keys``)."""

    status = 503
    code = "key_unavailable"


class KekMissing(KeyUnavailable):
    message = QT_TRANSLATE_NOOP(
        "errors",
        "No key-encryption key for the chain's personal-data key: set ${env} (make one with "
        "'pos-member-server kek new') or keep one in the OS keyring "
        "('pos-member-server kek new --keyring').",
    )


class KekWrong(KeyUnavailable):
    message = QT_TRANSLATE_NOOP(
        "errors",
        "The key-encryption key from {source} does not open the chain's personal-data key in "
        "this database: give the one it was wrapped with.",
    )


class KekInvalid(KeyUnavailable):
    message = QT_TRANSLATE_NOOP(
        "errors",
        "The key-encryption key from {source} is not a key: 32 bytes in base64 are needed "
        "('pos-member-server kek new' makes one).",
    )


class MemberNotFoundAtHq(ServerError):
    status = 404
    code = "not_found"
    message = QT_TRANSLATE_NOOP("errors", "No member {member}.")


class NoOpenOverdraw(ServerError):
    status = 409
    code = "conflict"
    message = QT_TRANSLATE_NOOP("errors", "Member {member} has no open overdraw to settle.")


class NoOpenCouponFlag(ServerError):
    status = 409
    code = "conflict"
    message = QT_TRANSLATE_NOOP("errors", "Member {member} has no coupon used twice to settle.")


class SmsCodeRefused(ServerError):
    status = 422
    code = SMS_CODE_INVALID
    message = SmsCodeInvalid.message


class SmsTooSoon(ServerError):
    status = 429
    code = SMS_TOO_SOON
    message = SmsResendTooSoon.message

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.params["seconds"])}


class SmsGatewayDown(ServerError):
    """The gateway did not take the code: a 503, so the till's client treats it as "not now"
    (``SmsNotSent``), never as a refusal of the request."""

    status = 503
    code = SMS_UNAVAILABLE
    message = SmsNotSent.message


class SmsMemberUnknown(ServerError):
    """No registration of this member with this phone has reached HQ."""

    status = 404
    code = SMS_MEMBER_UNKNOWN
    message = QT_TRANSLATE_NOOP(
        "errors", "Head office has no registration of this member with this phone.")


class SmsRateLimited(ServerError):
    status = 429
    code = SMS_RATE_LIMITED
    message = QT_TRANSLATE_NOOP(
        "errors", "Too many SMS codes for this {scope}: try again in {seconds} s.")

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.params["seconds"])}


# -- Not answered as such: caught inside the server -----------------------------------------


class Forked(Exception):
    """Inside the push transaction: the device's log forks from the stored one (rolled back)."""

    def __init__(self, seq: int, stored_id: str, pushed_id: str,
                 stored_device_id: str | None = None) -> None:
        super().__init__(seq)
        self.detail: dict[str, Any] = {"seq": seq, "stored_event_id": stored_id,
                                       "pushed_event_id": pushed_id}
        if stored_device_id is not None:
            self.detail["stored_device_id"] = stored_device_id

    def text(self) -> str:
        d = self.detail
        if "stored_device_id" in d:
            return f"event {d['pushed_event_id']} is stored under another device"
        return f"seq {d['seq']} is stored under another event"


class TransactionTooLarge(RuntimeError):
    """One write transaction would write more log rows than its transaction id has positions
    for (``log.XID_SHIFT``: 2^20). A push is at most 1,000 events, so only a bug gets here;
    the transaction rolls back and the route answers 500."""

    def __init__(self, rows: int) -> None:
        super().__init__(f"one transaction would write {rows} log rows, over 2^20")


class PushRefused(ValueError):
    """The body is not a ``PushRequest``; ``errors`` is pydantic's list (locations, messages)."""

    def __init__(self, errors: list[ErrorDetails]) -> None:
        super().__init__(f"{len(errors)} problems")
        self.errors = errors


# What each status means on the routes that answer it (the OpenAPI description, ``responses``).
STATUSES: dict[int, str] = {
    401: "`unauthorized`: missing, unknown or revoked device token (`WWW-Authenticate`)",
    403: "`forbidden`: another store's or device's events or device id; "
         "`enrolment_refused`: the code is unknown, used or expired",
    404: "`not_found`: no such device or route; `sms_member_unknown`: HQ never saw this "
         "member registered with this phone",
    405: "`method_not_allowed`: another method than the route's (`Allow` names it)",
    409: "`fork`, `conflict` or `device_retired` (the code tells): nothing was stored",
    413: "`too_large`: the body is over MAX_BODY_BYTES (8 MiB)",
    422: "`bad_request`: not UTF-8 JSON, wrong types or fields, a value out of bounds "
         "(docs/sync.md, \"Values the server takes\"); `refused`, `sms_code_invalid`",
    429: "`sms_too_soon`, `sms_rate_limited` or `lookup_rate_limited`: wait the "
         "`Retry-After` seconds",
    503: "`server_busy`: too many pushes waiting in this server process (push only); "
         "`sms_unavailable`: the SMS gateway did not take the code (send again); "
         "`database_unavailable`, `schema_not_current`, `key_unavailable`: the server is not "
         "ready (try again later)",
}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` of a route that answers ``statuses`` (each an ErrorBody)."""
    from sync.protocol import ErrorBody

    return {status: {"model": ErrorBody, "description": STATUSES[status],
                     **({"headers": _HEADERS[status]} if status in _HEADERS else {})}
            for status in sorted(statuses)}


_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "Bearer"}},
    405: {"Allow": {"schema": {"type": "string"}, "description": "the route's method"}},
    429: {"Retry-After": {"schema": {"type": "integer", "minimum": 1},
                          "description": "seconds until a code may be sent, or a lookup "
                                         "made"}},
    503: {"Retry-After": {"schema": {"type": "integer", "minimum": 1},
                          "description": "seconds to wait (`database_unavailable`, "
                                         "`server_busy`)"}},
}
