"""The sync wire protocol, shared by the till's client and the central server.

Bodies are JSON, validated by these pydantic models on both sides. Version 1, under ``/v1``:

    POST /v1/enrol    EnrolRequest  -> EnrolResponse        one-time code, no token yet
    POST /v1/push     PushRequest   -> PushResponse         Authorization: Bearer <device token>
    GET  /v1/pull?cursor=N&limit=M  -> PullResponse         Authorization: Bearer <device token>
    GET  /v1/stores                 -> StoresResponse       Authorization: Bearer <device token>
    POST /v1/reidentify ReidentifyRequest -> EnrolResponse  Bearer <the forked device's token>
    POST /v1/adopt    AdoptRequest  -> AdoptResponse        Bearer <the new device's token>

Version 2 adds one call, the till's pull since then; version 1 stays whole for older tills:

    GET  /v2/pull?cursor=N&limit=M[&snapshot=P] -> PullResponse   the store's filtered log
    GET  /v2/snapshot               -> SnapshotResponse     a new till's member directory

Every error is a 4xx/5xx with an ``ErrorBody``. A till marks an event sent only when a
``PushResponse`` lists its sequence number as stored or duplicate, never on a bare 200.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import msgspec
from pydantic import BaseModel, ConfigDict, Field

from pos_member.events.check import MAX_BIGINT  # seqs, positions, cursors: the databases' BIGINT

API = "/v1"
API_V2 = "/v2"  # filtered pulls: what a till's store holds (issue 14); the rest stays /v1
MAX_BATCH = 1000  # events per push
MAX_PAGE = 1000  # changes per pull page
MAX_BODY_BYTES = 8 * 1024 * 1024
MAX_ADOPT = 10_000  # event ids, and members, per adopt request
MAX_INT = 2**31 - 1  # payload versions: INTEGER
# Text a till sends in a named field: no control character (U+0000-U+001F, U+007F). PostgreSQL
# cannot store U+0000 and SQLite can, so both refuse it here alike. (Lone surrogates are not
# JSON text: the parsers refuse them.) ``$`` is the end of the text for pydantic's regex engine;
# ``wire`` declares the same class with ``\Z`` for Python's.
TEXT = r"^[^\x00-\x1f\x7f]*$"
Text = Annotated[str, Field(pattern=TEXT)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ErrorBody(_Strict):
    code: str  # machine-readable: "bad_request", "unauthorized", "forbidden", ...
    message: str  # English, for logs and the till's error text


class WireEvent(_Strict):
    """One event exactly as the till's ``events`` table holds it."""

    id: Text = Field(min_length=36, max_length=36)
    store_id: Text = Field(min_length=1, max_length=36)
    device_id: Text = Field(min_length=1, max_length=36)
    seq: int = Field(ge=1, le=MAX_BIGINT)
    clerk_id: Text | None = Field(default=None, max_length=36)
    # ASCII digits only (``\d`` takes any script's): tills write nothing else (docs/sync.md)
    hlc: str = Field(pattern=r"^[0-9]{15}-[0-9]{6}$")
    type: Text = Field(min_length=1, max_length=48)
    entity_id: Text | None = Field(default=None, max_length=36)
    payload_version: int = Field(ge=1, le=MAX_INT)
    payload: dict[str, Any] = Field(description=(
        "a JSON object; no string in it may hold U+0000"))
    rules_version: Text = Field(min_length=1, max_length=32)
    created_at: datetime = Field(description=(
        "with its UTC offset; between 1970 and 9998 in UTC"))


class EnrolRequest(_Strict):
    # what HQ printed (letters and digits; case, spaces and dashes do not matter)
    code: str = Field(min_length=6, max_length=64, pattern=r"^[A-Za-z0-9 -]+$")
    # shown to HQ; kept without leading or trailing spaces, which cannot be all of it
    device_name: str = Field(min_length=1, max_length=100, pattern=(
        r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"))
    # the till's own idempotency key, kept until it is enrolled: the same code asked again
    # with it (the answer was lost) is answered with the same device and a fresh token.
    # Optional: a till from before it sends none (docs/sync.md, "Enrolment and tokens")
    request_id: Text | None = Field(default=None, min_length=36, max_length=36)


class EnrolResponse(_Strict):
    store_id: str
    store_number: int
    store_name: str
    device_id: str
    device_number: int
    token: str  # shown once; the till keeps it in the OS keyring
    data_key: str  # base64, the chain's personal-data key; kept in the OS keyring


class ReidentifyRequest(_Strict):
    """A till whose log forked (a restored backup, a copied disk) asks for a new identity in
    its store, authenticated by its old token. ``request_id`` is the till's own idempotency
    key: asked again with it (the answer was lost), the same new device is answered, with a
    fresh token."""

    device_id: Text = Field(min_length=1, max_length=36)
    request_id: Text = Field(min_length=36, max_length=36)


class AdoptMember(_Strict):
    member_id: Text = Field(min_length=1, max_length=36)
    member_no: Text = Field(min_length=1, max_length=32)


class AdoptRequest(_Strict):
    """The new device takes over the unsent events of ``device_id`` (its predecessor: the
    forked device, or a revoked one re-enrolled in place): which of ``event_ids`` HQ stores
    already, and which of the members' numbers are taken by another member."""

    device_id: Text = Field(min_length=1, max_length=36)
    event_ids: list[Annotated[Text, Field(min_length=1, max_length=36)]] = Field(
        max_length=MAX_ADOPT)
    members: list[AdoptMember] = Field(max_length=MAX_ADOPT)


class AdoptResponse(_Strict):
    stored: list[str]  # of event_ids: stored already (under whichever device); not sent again
    taken: list[str]  # of the member numbers: registered or claimed by another member


class PushRequest(_Strict):
    device_id: Text = Field(min_length=1, max_length=36)
    events: list[WireEvent] = Field(max_length=MAX_BATCH)


@dataclass(frozen=True, slots=True)
class OutboxBatch:
    """A push of the till's own outbox rows, sent as they are: what ``sync.engine`` pushes.

    ``events`` are ``pos_member.services.outbox.pending_events`` rows, already in the wire
    shape and JSON-ready. Building a ``PushRequest`` would validate every row on the till
    (~6 µs each, about a tenth of a closing sync) only for the server to validate the body
    as a ``PushRequest`` again; a malformed row is refused there, the whole batch with nothing
    stored (422), which the till reports as ``ServerRefused``. ``request()`` is the validated
    model, for fakes and tests.
    """

    device_id: str
    events: list[dict[str, Any]]

    def request(self) -> PushRequest:
        return PushRequest.model_validate({"device_id": self.device_id, "events": self.events})

    def to_json(self) -> bytes:
        """The body, as ``request().model_dump_json()`` would send it (same fields, values
        as the rows hold them), ~10x faster."""
        return msgspec.json.encode({"device_id": self.device_id, "events": self.events})


class Ack(_Strict):
    seq: int
    position: int  # the event's place in the chain's global order


class PushResponse(_Strict):
    stored: list[Ack]  # newly stored by this request
    duplicates: list[Ack]  # stored before (a retry): also safe to mark sent
    held: list[int]  # sequence numbers waiting for an earlier one (a gap); push again
    acked_through: int  # every seq ≤ this is stored on the server, with no gap


class StoreInfo(_Strict):
    id: str
    number: int
    name: str


class HealthResponse(_Strict):
    """``GET /v1/health``: this server can query its database, at the schema it expects."""

    status: str  # "ok"
    schema_version: str


class StoresResponse(_Strict):
    """The chain's stores: a till names other stores by them (a member's ledgers say where
    each line happened)."""

    stores: list[StoreInfo]


class Change(_Strict):
    position: int
    event: WireEvent


class PullResponse(_Strict):
    changes: list[Change]
    cursor: int  # pass back as ?cursor= for the next page
    more: bool


class SnapshotResponse(_Strict):
    """``GET /v2/snapshot``: the chain's member directory as of ``position`` (other stores'
    registrations: ``[member_no, member_id, phone_index, store_no]``), and those stores' ids
    (``[store_id, number]``). The till then pulls ``/v2/pull?snapshot=<position>`` from 0."""

    position: int
    stores: list[tuple[str, int]]
    members: list[tuple[str, str, str | None, int]]
