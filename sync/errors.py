"""Why a sync with the central server failed, as the till sees it (``sync.client`` raises
these). Each is a ``DomainError`` with a translatable message: the till shows them."""

from __future__ import annotations

from pos_member.errors import DomainError
from pos_member.i18n import QT_TRANSLATE_NOOP


class SyncError(DomainError):
    message = QT_TRANSLATE_NOOP("errors", "Sync failed: {detail}")


class ServerUnavailable(SyncError):
    message = QT_TRANSLATE_NOOP(
        "errors",
        "The server cannot be reached ({detail}). Nothing is lost: the till keeps working and "
        "syncs later.",
    )

    def __init__(self, message: str | None = None, *, retry_after: float | None = None,
                 **params: object) -> None:
        """``retry_after``: the seconds HQ asked the till to wait (its ``Retry-After``),
        when it answered at all."""
        self.retry_after = retry_after
        super().__init__(message, **params)


class ServerRefused(SyncError):
    message = QT_TRANSLATE_NOOP("errors", "The server refused the request ({status}): {detail}")

    def __init__(self, *, status: int, code: str, detail: str) -> None:
        self.status = status
        self.code = code
        super().__init__(status=status, detail=detail)

    @property
    def token_refused(self) -> bool:
        """HQ refused this till's token (401, 403: revoked, retired): only HQ reinstating
        the device or a new enrolment helps."""
        return self.status in (401, 403)


class ProtocolMismatch(SyncError):
    message = QT_TRANSLATE_NOOP(
        "errors", "The server's answer does not follow the sync protocol: {detail}"
    )
