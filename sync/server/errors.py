"""The server's refusals. Each is a ``DomainError`` with an HTTP status and a machine code, so
one handler in ``app`` turns any of them into an ``ErrorBody``, and the CLI prints its text."""

from __future__ import annotations

from typing import Any

from pos_member.errors import DomainError
from pos_member.i18n import QT_TRANSLATE_NOOP


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


class DeviceNotFound(ServerError):
    status = 404
    code = "not_found"
    message = QT_TRANSLATE_NOOP("errors", "No device {device_id}.")


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
    429: "`sms_too_soon` or `sms_rate_limited`: wait the `Retry-After` seconds",
    503: "`sms_unavailable`: the SMS gateway did not take the code (send again)",
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
                          "description": "seconds until a code may be sent"}},
}
