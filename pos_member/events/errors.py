"""Why a stored or pulled event cannot be read (``decode``). Pure, like the rest of the
package: the central server imports it too."""

from __future__ import annotations


class EventNotReadable(ValueError):
    """A pulled event this version of the software cannot read. A ``ValueError``, so a reader
    that does not tell the kinds apart treats it like any other bad payload."""

    def __init__(self, type: str, version: object, problem: str) -> None:
        super().__init__(f"{type} v{version}: {problem}")
        self.type, self.version, self.problem = type, version, problem


class UnknownEventType(EventNotReadable):
    """No declaration for this type: a newer till's or server's event (readable after an
    upgrade)."""


class NewerEventVersion(EventNotReadable):
    """The payload version is newer than this software's declaration (readable after an
    upgrade)."""


class MalformedPayload(EventNotReadable):
    """The payload does not match its declared version (a bug or a tampered event; no upgrade
    will read it)."""
