"""The server's refusals. Each is a ``DomainError`` with an HTTP status and a machine code, so
one handler in ``app`` turns any of them into an ``ErrorBody``, and the CLI prints its text."""

from __future__ import annotations

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
