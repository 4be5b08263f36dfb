"""Hybrid logical clock (Kulkarni et al., "Logical Physical Clocks", 2014).

A timestamp is ``(wall_ms, counter)``: ``wall_ms`` follows the largest physical time seen, the
counter orders events within one millisecond or while the wall clock stands behind. Timestamps
issued by one clock never go backwards, whatever the wall clock does; ``observe`` folds in a
timestamp received from another node so causality is kept across devices.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

_PACK_WIDTH_MS = 15
_PACK_WIDTH_COUNTER = 6


@dataclass(frozen=True, order=True, slots=True)
class HLCTimestamp:
    wall_ms: int
    counter: int

    def pack(self) -> str:
        """Fixed-width text that sorts like the timestamp: ``000001767603600000-000000``."""
        return f"{self.wall_ms:0{_PACK_WIDTH_MS}d}-{self.counter:0{_PACK_WIDTH_COUNTER}d}"

    @classmethod
    def unpack(cls, text: str) -> HLCTimestamp:
        wall, _, counter = text.partition("-")
        if not (wall.isdigit() and counter.isdigit()):
            raise ValueError(f"not a hybrid timestamp: {text!r}")
        return cls(int(wall), int(counter))


ZERO = HLCTimestamp(0, 0)


class HybridClock:
    """Issues monotonic hybrid timestamps. Not thread-safe: the unit of work serialises use.

    ``last`` is persisted with every event (see ``EventLog``), so a restarted till resumes from
    the highest timestamp it issued and never goes back even if its wall clock did.
    """

    def __init__(self, physical_ms: Callable[[], int], last: HLCTimestamp = ZERO) -> None:
        self._physical_ms = physical_ms
        self.last = last

    def now(self) -> HLCTimestamp:
        pt = self._physical_ms()
        if pt > self.last.wall_ms:
            self.last = HLCTimestamp(pt, 0)
        else:
            self.last = HLCTimestamp(self.last.wall_ms, self.last.counter + 1)
        return self.last

    def observe(self, remote: HLCTimestamp) -> HLCTimestamp:
        """Receive event: the next local timestamp is after both ours and ``remote``."""
        pt = self._physical_ms()
        wall = max(self.last.wall_ms, remote.wall_ms, pt)
        if wall == self.last.wall_ms == remote.wall_ms:
            counter = max(self.last.counter, remote.counter) + 1
        elif wall == self.last.wall_ms:
            counter = self.last.counter + 1
        elif wall == remote.wall_ms:
            counter = remote.counter + 1
        else:
            counter = 0
        self.last = HLCTimestamp(wall, counter)
        return self.last
