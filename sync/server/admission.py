"""How many pushes a server process lets wait, and when it tells a till to come back.

Pushes run in threads of their own, at most ``push_threads`` at once (``app``); more wait on
the event loop. When every till of a chain closes at once, that queue grows until the last
pushes wait longer than the till's own timeout (``sync.client.DEFAULT_TIMEOUT``, 15 s): the
till gives up while the server still stores its batch, and its next try sends it again, all
for a duplicate answer. So a process admits a push only while it expects to answer it within
``WAIT_BUDGET_S`` (half the till's timeout: the pushes waiting ahead of it, over the threads,
plus its own run, each at the running average of the last pushes' times, which grows with
the load) and while at most ``WAITING_PER_THREAD`` pushes per thread wait; a push with none
running ahead of it is always let in. Under a load where pushes run slower than the budget,
this lets fewer run at once until they run within it again. Otherwise the push
is answered at once with 503 ``server_busy`` and a ``Retry-After`` of about the time the
pushes ahead of it take, spread from half of it to half as much again so that tills told to
come back at the same moment do not all come back at the same second. Centred on that time,
not after it: a till back too early is refused again at no cost (nothing is read), while
tills all back late leave the server idle meanwhile, which at closing time made the last
tills wait longest. Nothing of a refused push is read or
written. docs/scale.md, "Closing time for the whole chain".
"""

from __future__ import annotations

import math
import random
import threading

from anyio import CapacityLimiter

from sync.server.errors import ServerBusy

WAITING_PER_THREAD = 2  # waiting pushes per push thread before a push is refused as busy
WAIT_BUDGET_S = 7.5  # the longest a push is expected to take, waiting and running, to be let in
MAX_RETRY_AFTER_S = 60
_WEIGHT = 0.2  # of the newest push in the running average of a push's time


class PushGate:
    """A process's push threads (``limiter``) and the running average of a push's time."""

    def __init__(self, threads: int) -> None:
        self.limiter = CapacityLimiter(threads)
        self.max_waiting = WAITING_PER_THREAD * threads
        self._average_s = 0.1
        self._lock = threading.Lock()

    def admit(self) -> None:
        """Raises ``ServerBusy`` when ``max_waiting`` pushes wait already, or when a push let
        in now would be expected to take longer than ``WAIT_BUDGET_S``."""
        stats = self.limiter.statistics()
        running, waiting = stats.borrowed_tokens, stats.tasks_waiting
        if not running:
            return  # nothing ahead of it: never refused (the process always makes progress)
        expected = (waiting / self.limiter.total_tokens + 1) * self._average_s
        if waiting >= self.max_waiting or expected > WAIT_BUDGET_S:
            raise ServerBusy(seconds=self.retry_after(running + waiting))

    def retry_after(self, ahead: int) -> int:
        """Seconds until ``ahead`` pushes have run, spread from half of it to one and a half
        times it, at least 1, at most ``MAX_RETRY_AFTER_S``."""
        drain = ahead * self._average_s / self.limiter.total_tokens
        return min(MAX_RETRY_AFTER_S, max(1, math.ceil(drain * random.uniform(0.5, 1.5))))

    def took(self, seconds: float) -> None:
        """A push ran for ``seconds`` (in its thread)."""
        with self._lock:
            self._average_s += _WEIGHT * (seconds - self._average_s)
