"""What every server service receives: the database and the clock (STYLE §9: time is injected)."""

from __future__ import annotations

from dataclasses import dataclass

from pos_member.clock import Clock
from sync.server.db import ServerDatabase


@dataclass(frozen=True)
class ServerContext:
    db: ServerDatabase
    clock: Clock


@dataclass(frozen=True)
class DeviceIdentity:
    """An enrolled, unrevoked device, as ``authenticate`` found it."""

    id: str
    store_id: str
    number: int
    name: str
    retired: bool = False  # its identity went to a successor: only /v1/reidentify answers it
    replaces: str | None = None  # the device whose unsent events it took over, if any
