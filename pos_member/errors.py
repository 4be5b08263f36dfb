"""Domain errors. Each carries an English message template (translated by the UI under the
``errors`` context) and the parameters to fill in after translation."""

from __future__ import annotations

from typing import Any

from pos_member.i18n import QT_TRANSLATE_NOOP


class DomainError(Exception):
    """A refusal the user can act on. ``message`` is an English template with ``{name}`` fields."""

    message: str = QT_TRANSLATE_NOOP("errors", "The operation was refused.")

    def __init__(self, message: str | None = None, **params: Any) -> None:
        if message is not None:
            self.message = message
        self.params = params
        super().__init__(self.text())

    def text(self) -> str:
        """The English text with its parameters filled in (logs, CLI, tests)."""
        return self.message.format(**self.params)


class InvalidInput(DomainError):
    message = QT_TRANSLATE_NOOP("errors", "The input is not valid.")


class InvalidPhone(InvalidInput):
    message = QT_TRANSLATE_NOOP(
        "errors", "Not a mainland mobile number: 11 digits starting with 13-19 are needed."
    )


class InvalidMoney(InvalidInput):
    message = QT_TRANSLATE_NOOP("errors", "Not a valid amount of money: {value}")


class ConsentRequired(DomainError):
    message = QT_TRANSLATE_NOOP(
        "errors", "The member must agree to the privacy policy before registering."
    )


class DuplicatePhone(DomainError):
    message = QT_TRANSLATE_NOOP(
        "errors", "This phone number already belongs to member {member_no}."
    )

    def __init__(self, *, member_id: str, member_no: str) -> None:
        self.member_id = member_id
        self.member_no = member_no
        super().__init__(member_no=member_no)


class RegistrationRateLimited(DomainError):
    message = QT_TRANSLATE_NOOP(
        "errors",
        "Too many registrations on this till: at most {limit} in {minutes} minutes. "
        "The store manager has been alerted.",
    )


class MemberNotFound(DomainError):
    message = QT_TRANSLATE_NOOP("errors", "No member found for {query}.")


class MalformedCode(DomainError):
    message = QT_TRANSLATE_NOOP("errors", "This code is not recognised: {code}")


class ReferrerNotFound(DomainError):
    message = QT_TRANSLATE_NOOP("errors", "The referrer {query} is not a member.")


class GuideNotFound(DomainError):
    message = QT_TRANSLATE_NOOP("errors", "The recruiting guide is not active staff of this store.")


class PermissionDenied(DomainError):
    message = QT_TRANSLATE_NOOP("errors", "Your role ({role}) may not {action}.")


class LoginFailed(DomainError):
    message = QT_TRANSLATE_NOOP("errors", "Wrong staff number or PIN.")


class LoginLocked(DomainError):
    message = QT_TRANSLATE_NOOP(
        "errors", "Too many wrong PINs: this login is locked until {until}."
    )


class WeakSecret(InvalidInput):
    message = QT_TRANSLATE_NOOP(
        "errors", "The PIN must be 6 digits and not a repeat or a sequence, or a password of 8+."
    )


class DuplicateStaff(DomainError):
    message = QT_TRANSLATE_NOOP("errors", "Staff number {code} is already taken.")


class StoreNotSetUp(DomainError):
    message = QT_TRANSLATE_NOOP(
        "errors", "This till has no store yet: run 'pos-member demo' or enrol it."
    )


class RulesInvalid(DomainError):
    message = QT_TRANSLATE_NOOP("errors", "Rules file refused: {field}: {problem}")


class ConfigInvalid(DomainError):
    message = QT_TRANSLATE_NOOP("errors", "Configuration refused: {field}: {problem}")


class KeyStoreUnavailable(DomainError):
    message = QT_TRANSLATE_NOOP(
        "errors",
        "The OS credential store is not available ({detail}). "
        "Personal data cannot be read or written without it.",
    )


class TillNotFresh(DomainError):
    message = QT_TRANSLATE_NOOP(
        "errors",
        "This till already has {what}: enrolment is for a fresh till. "
        "Use a new data folder (--data-dir) to enrol it.",
    )


class NotEnrolled(DomainError):
    message = QT_TRANSLATE_NOOP(
        "errors", "This till is not enrolled with a server: run 'pos-member enrol' first."
    )


class StorageFull(DomainError):
    message = QT_TRANSLATE_NOOP(
        "errors",
        "The till could not write to its disk (full or failing): nothing was saved. "
        "Free some space or call support, then try again.",
    )
