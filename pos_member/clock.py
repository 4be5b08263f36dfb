"""Time is injected: services ask a clock, tests move it (STYLE §9).

A clock gives the instant in UTC (``now``: what is stored and sent) and the store's local date
and time in the store's time zone (``local``, ``today``: every day boundary — the daily earn
cap, the KPI day, the day report, birthdays, tier periods, the offline stored-value cap). The
host's own time zone is never used: a till whose Windows is set to another zone still counts
the store's day (docs/rules.md, "Store time").
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
DEFAULT_ZONE = "Asia/Shanghai"  # the chain's stores; config.toml's ``time_zone`` overrides it
DEFAULT_TZ = ZoneInfo(DEFAULT_ZONE)


# Files of a Linux zone folder that are the host's own zone (or the POSIX default) under
# another name, not a place: the store's day must never follow the host's setting.
_HOST_ZONE_FILES = frozenset({"localtime", "posixrules"})


def store_zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name`` (``"Asia/Shanghai"``). Raises ValueError saying why for a
    name that is not one (a UTC offset such as ``"+08:00"``, a typo, an empty string)."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError("must be an IANA time zone name like \"Asia/Shanghai\"")
    try:
        if name.strip() in _HOST_ZONE_FILES:
            raise ValueError(name)
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}; use an IANA name like "
                         "\"Asia/Shanghai\"") from None


class Clock(Protocol):
    @property
    def zone(self) -> tzinfo:
        """The store's time zone."""
        ...

    def now(self) -> datetime:
        """Aware UTC datetime."""
        ...

    def local(self, when: datetime | None = None) -> datetime:
        """``when`` (default: now) as the store's local date and time (naive means UTC)."""
        ...

    def today(self) -> date:
        """The store's local date now."""
        ...


class _StoreTime:
    """``local`` and ``today`` for a clock with ``now`` and ``zone``."""

    zone: tzinfo

    def now(self) -> datetime:
        raise NotImplementedError

    def local(self, when: datetime | None = None) -> datetime:
        when = self.now() if when is None else when
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return when.astimezone(self.zone)

    def today(self) -> date:
        return self.local().date()


def _zone(zone: tzinfo | str | None) -> tzinfo:
    if zone is None:
        return DEFAULT_TZ
    return store_zone(zone) if isinstance(zone, str) else zone


class SystemClock(_StoreTime):
    def __init__(self, zone: tzinfo | str | None = None) -> None:
        self.zone = _zone(zone)

    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock(_StoreTime):
    """A clock that stands still until told to move; it may also move backwards."""

    def __init__(self, start: datetime | None = None, *,
                 zone: tzinfo | str | None = None) -> None:
        self._now = start or datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        self.zone = _zone(zone)

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> None:
        self._now += timedelta(**delta)

    def set(self, when: datetime) -> None:
        self._now = when


def until_text(clock: Clock, when: datetime) -> str:
    """When something ends (a lock), as the store's local ``HH:MM`` when that is today, else
    ``YYYY-MM-DD HH:MM``: a lock ending after midnight must not read as earlier today
    (docs/rules.md, "Store time")."""
    local = clock.local(when)
    return local.strftime("%H:%M" if local.date() == clock.today() else "%Y-%m-%d %H:%M")


def to_ms(when: datetime) -> int:
    """Milliseconds since the Unix epoch, in integer arithmetic; naive means UTC."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - EPOCH) // _MS


def from_ms(ms: int) -> datetime:
    return EPOCH + ms * _MS
