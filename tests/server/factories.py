"""Factories for the server tests: a migrated server on loopback, stores, devices, events."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field
from itertools import count
from typing import Any

import httpx
from sqlalchemy import func, select

from pos_member.clock import FakeClock, to_ms
from pos_member.crypto import PiiCipher
from pos_member.events import PHONE_CTX
from pos_member.hlc import HLCTimestamp
from sync.protocol import API, EnrolResponse, PullResponse, PushResponse, WireEvent
from sync.server import services
from sync.server.context import ServerContext
from sync.server.models import ServerBase

_store_numbers = count(1)


@dataclass
class Device:
    """An enrolled till as the tests drive it: its identity, token and next sequence number."""

    server: LiveServer
    enrolment: EnrolResponse
    next_seq: int = 1

    @property
    def id(self) -> str:
        return self.enrolment.device_id

    @property
    def store_id(self) -> str:
        return self.enrolment.store_id

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.enrolment.token}"}

    def event(self, *, seq: int | None = None, type: str = "test.happened",
              payload: dict[str, Any] | None = None, hlc: str | None = None) -> WireEvent:
        """A new event of this device; ``seq`` defaults to the next one."""
        if seq is None:
            seq = self.next_seq
        self.next_seq = max(self.next_seq, seq + 1)
        now = self.server.clock.now()
        return WireEvent(
            id=str(uuid.uuid4()), store_id=self.store_id, device_id=self.id, seq=seq,
            clerk_id=None, hlc=hlc or HLCTimestamp(to_ms(now), seq).pack(), type=type,
            entity_id=None, payload_version=1, payload=payload or {"n": seq},
            rules_version="2026.1", created_at=now,
        )

    def registered(self, payload: dict[str, Any], *, phone: str = "13800000000"
                   ) -> dict[str, Any]:
        """A ``member.registered`` payload with what a till always writes and a test leaves
        out (the server refuses a payload missing a declared field, ``payloads``): the phone
        sealed with the chain's data key, the channel, the privacy consent; ``payload`` on
        top."""
        cipher = PiiCipher(base64.b64decode(self.enrolment.data_key))
        at = self.server.clock.now().isoformat()
        return {"phone_enc": base64.b64encode(cipher.encrypt(phone, context=PHONE_CTX)).decode(),
                "source_channel": "walk_in", "registered_at": at,
                "privacy_policy_version": "2026.1", "privacy_consent_at": at, **payload}

    def events(self, n: int) -> list[WireEvent]:
        return [self.event() for _ in range(n)]

    def push_raw(self, events: list[WireEvent], **kw: Any) -> httpx.Response:
        body = {"device_id": self.id, "events": [e.model_dump(mode="json") for e in events]}
        return self.server.http.post(f"{API}/push", json=body, headers=self.headers, **kw)

    def push(self, events: list[WireEvent]) -> PushResponse:
        response = self.push_raw(events)
        if response.status_code != 200:
            raise AssertionError(f"push answered {response.status_code}: {response.text}")
        return PushResponse.model_validate_json(response.content)

    def pull(self, cursor: int = 0, limit: int = 1000, *, api: str = API) -> PullResponse:
        """``api``: ``/v1`` the whole chain's log, ``/v2`` the store's (filtered)."""
        response = self.server.http.get(
            f"{api}/pull", params={"cursor": cursor, "limit": limit}, headers=self.headers
        )
        if response.status_code != 200:
            raise AssertionError(f"pull answered {response.status_code}: {response.text}")
        return PullResponse.model_validate_json(response.content)

    def pull_all(self, cursor: int = 0, limit: int = 1000, *, api: str = API) -> list[Any]:
        changes = []
        while True:
            page = self.pull(cursor, limit, api=api)
            changes.extend(page.changes)
            cursor = page.cursor
            if not page.more:
                return changes


@dataclass
class LiveServer:
    url: str  # the database URL
    base_url: str
    ctx: ServerContext
    clock: FakeClock
    http: httpx.Client
    stores: dict[int, str] = field(default_factory=dict)

    @property
    def backend(self) -> str:
        return "postgresql" if self.ctx.db.is_postgres else "sqlite"

    def store(self, number: int | None = None) -> int:
        number = number or next(_store_numbers)
        if number not in self.stores:
            self.stores[number] = services.create_store(
                self.ctx, number=number, name=f"store {number}"
            ).id
        return number

    def code(self, store_number: int | None = None) -> str:
        number = self.store(store_number)
        return services.issue_enrolment_code(self.ctx, store_number=number).code

    def enrol(self, store_number: int | None = None, name: str = "till") -> Device:
        code = self.code(store_number)
        response = self.http.post(f"{API}/enrol", json={"code": code, "device_name": name})
        if response.status_code != 200:
            raise AssertionError(f"enrol answered {response.status_code}: {response.text}")
        return Device(server=self, enrolment=EnrolResponse.model_validate_json(response.content))

    def table_counts(self) -> dict[str, int]:
        """Rows per table: compared before and after a refused request (nothing written)."""
        with self.ctx.db.read() as conn:
            return {
                name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                for name, table in ServerBase.metadata.tables.items()
            }

    def events_table(self) -> list[Any]:
        from sync.server.models import Event

        with self.ctx.db.read() as conn:
            return list(conn.execute(select(Event.__table__).order_by(Event.position)).all())
