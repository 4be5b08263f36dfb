"""An in-memory stand-in for the central server, speaking ``sync.protocol`` without HTTP.

It keeps the protocol's promises (each ``(device, seq)`` stored once, a global order,
``acked_through`` = the longest gapless run) so the engine's own logic is tested fast; the real
server on loopback is exercised in ``test_e2e.py``.
"""

from __future__ import annotations

import base64
import os
from typing import Any

from sync.errors import ServerRefused, ServerUnavailable
from sync.protocol import (
    MAX_PAGE,
    Ack,
    Change,
    EnrolRequest,
    EnrolResponse,
    OutboxBatch,
    PullResponse,
    PushRequest,
    PushResponse,
    SnapshotResponse,
    StoreInfo,
    StoresResponse,
    WireEvent,
)


class FakeServer:
    def __init__(self) -> None:
        self.log: list[Change] = []
        self.index: dict[tuple[str, int], int] = {}
        self.pushes = 0
        self.enrolments = 0
        self.down = False
        self.lose_next_answer = False  # commit the push, then "lose" the answer
        self.forgetful = False  # answer 200 but claim nothing stored (a broken server)
        self.busy: list[float] = []  # the next pushes answered "busy, come back in N s"
        self.refusing: set[str] = set()  # devices whose pushes are refused (422)
        self.data_key = base64.b64encode(os.urandom(64)).decode()

    def use_token(self, token: str) -> None:
        """Every device may call (this fake checks no tokens)."""

    def enrol(self, request: EnrolRequest) -> EnrolResponse:
        self._check_up()
        self.enrolments += 1
        n = self.enrolments
        return EnrolResponse(store_id=f"store-{n}", store_number=n, store_name=f"门店{n}",
                             device_id=f"device-{n}", device_number=1, token=f"token-{n}",
                             data_key=self.data_key)

    def push(self, request: PushRequest | OutboxBatch) -> PushResponse:
        self._check_up()
        if self.busy:
            raise ServerUnavailable(detail="server error 503: busy",
                                    retry_after=self.busy.pop(0))
        if isinstance(request, OutboxBatch):
            request = request.request()  # the server validates what the till sends
        if request.device_id in self.refusing:  # e.g. a payload not as declared
            raise ServerRefused(status=422, code="bad_request", detail="payloads refused")
        self.pushes += 1
        stored: list[Ack] = []
        duplicates: list[Ack] = []
        for e in sorted(request.events, key=lambda e: e.seq):
            key = (request.device_id, e.seq)
            if key in self.index:
                duplicates.append(Ack(seq=e.seq, position=self.index[key]))
            else:
                stored.append(Ack(seq=e.seq, position=self._append(e)))
        acked = 0
        while not self.forgetful and (request.device_id, acked + 1) in self.index:
            acked += 1
        if self.lose_next_answer:
            self.lose_next_answer = False
            raise ServerUnavailable(detail="the answer was lost")
        return PushResponse(stored=stored, duplicates=duplicates, held=[], acked_through=acked)

    def snapshot(self) -> SnapshotResponse:
        """Nothing to start from: the till pulls the whole log (this fake filters nothing)."""
        self._check_up()
        return SnapshotResponse(position=0, stores=[], members=[])

    def pull(self, cursor: int, limit: int = MAX_PAGE, *, snapshot: int = 0) -> PullResponse:
        self._check_up()
        page = self.log[cursor:cursor + limit]
        new_cursor = page[-1].position if page else cursor
        return PullResponse(changes=page, cursor=new_cursor, more=len(self.log) > new_cursor)

    def stores(self) -> StoresResponse:
        self._check_up()
        return StoresResponse(stores=[StoreInfo(id=f"store-{n}", number=n, name=f"门店{n}")
                                      for n in range(1, self.enrolments + 1)])

    def publish(self, event: dict[str, Any]) -> None:
        """A server-side event (a merge, a rules version) joins the global order."""
        self._append(WireEvent.model_validate(event))

    def stored_count(self, device_id: str) -> int:
        return sum(1 for d, _ in self.index if d == device_id)

    def _append(self, event: WireEvent) -> int:
        position = len(self.log) + 1
        self.log.append(Change(position=position, event=event))
        self.index[(event.device_id, event.seq)] = position
        return position

    def _check_up(self) -> None:
        if self.down:
            raise ServerUnavailable(detail="connection refused or no network")
