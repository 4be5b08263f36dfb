"""One sync round and closing time (日结), headless: no Qt, so the CLI, a background worker and
the tests all run the same code.

Push: unsent events go in batches of at most ``MAX_BATCH``; an event counts as sent only when
the server's ``acked_through`` covers it (never on a bare 200, never from a lost answer — the
retry is answered as duplicates). Pull: pages from the stored cursor until ``more`` is false;
each page is applied in one local transaction together with its cursor.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol, TypeVar

from pos_member.bootstrap import App
from pos_member.changes import NOTHING, Changes
from pos_member.crypto import KeyStore
from pos_member.errors import DomainError, StoreNotSetUp
from pos_member.services.chain_places import unknown_stores
from pos_member.services.day_report import DaySummary, closing_day, day_summary
from pos_member.services.enrolment import (
    Enrolment,
    FirstAdmin,
    check_fresh,
    enrolment_request_id,
)
from pos_member.services.member_directory import (
    SNAPSHOT_POSITION,
    holds_members,
    load_snapshot,
)
from pos_member.services.outbox import (
    get_sync_setting,
    mark_acked,
    pending_count,
    pending_events,
    set_last_sync_at,
    sync_cursor,
)
from pos_member.services.pulled_events import apply_page, name_stores, unnamed_stores
from pos_member.services.quarantine import held_count
from pos_member.services.reidentity import Reidentity
from pos_member.services.setup import TillIdentity
from pos_member.services.staff import StaffInfo
from sync.errors import ProtocolMismatch, ServerRefused, ServerUnavailable, SyncError
from sync.protocol import (
    MAX_BATCH,
    MAX_PAGE,
    AdoptRequest,
    AdoptResponse,
    EnrolRequest,
    EnrolResponse,
    OutboxBatch,
    PullResponse,
    PushRequest,
    PushResponse,
    ReidentifyRequest,
    SnapshotResponse,
    StoresResponse,
)


class Client(Protocol):
    """What the engine needs of a client: :class:`sync.client.SyncClient`, or a fake."""

    def enrol(self, request: EnrolRequest) -> EnrolResponse: ...

    def push(self, request: PushRequest | OutboxBatch) -> PushResponse: ...

    def pull(self, cursor: int, limit: int = MAX_PAGE, *, snapshot: int = 0
             ) -> PullResponse: ...

    def snapshot(self) -> SnapshotResponse: ...

    def stores(self) -> StoresResponse: ...

    def reidentify(self, request: ReidentifyRequest) -> EnrolResponse: ...

    def adopt(self, request: AdoptRequest) -> AdoptResponse: ...

    def use_token(self, token: str) -> None: ...


log = logging.getLogger(__name__)
T = TypeVar("T")
Progress = Callable[[str, int], None]  # ("push" | "pull", how many so far)
# Closing time waits out HQ's "busy, come back in N s" (server_busy) up to this long in all:
# when the whole chain closes at once, HQ takes the tills in turns (docs/scale.md).
CLOSE_PATIENCE_S = 120.0


@dataclass(frozen=True, slots=True)
class SyncReport:
    pushed: int  # events the server newly stored in this round
    duplicates: int  # events it already had (a retried batch)
    held: int  # events it holds waiting for an earlier one (a gap): pushed again next round
    pending: int  # events still unacknowledged after the round
    pulled: int  # changes received
    applied: int  # of which applied here (the rest: own events, repeats, unknown types)
    cursor: int
    at: datetime
    changes: Changes = NOTHING  # the members and areas the pulled events touched here
    quarantined: int = 0  # pulled events held here, not applied (services/quarantine.py)
    reidentity: Reidentity | None = None  # this round took a new identity (a fork)


def _identity(app: App) -> TillIdentity:
    if app.identity is None:
        raise StoreNotSetUp()
    return app.identity


def push_all(app: App, client: Client, *, batch: int = MAX_BATCH,
             progress: Progress | None = None) -> tuple[int, int, int]:
    """Pushes every unsent event; returns (stored, duplicates, held). Stops early when a batch
    moves the acknowledgement mark no further (the server is holding a gap)."""
    device_id = _identity(app).device_id
    uow = app.uow
    stored = duplicates = held = 0
    while True:
        events = pending_events(uow, device_id=device_id, limit=min(batch, MAX_BATCH))
        if not events:
            return stored, duplicates, held
        answer = client.push(OutboxBatch(device_id=device_id, events=events))
        before = events[0]["seq"] - 1
        mark = mark_acked(uow, device_id=device_id, acked_through=answer.acked_through)
        stored += len(answer.stored)
        duplicates += len(answer.duplicates)
        held = len(answer.held)
        if progress:
            progress("push", stored + duplicates)
        if mark <= before:
            return stored, duplicates, held


def pull_all(app: App, client: Client, *, page: int = MAX_PAGE,
             progress: Progress | None = None, stores: set[str] | None = None
             ) -> tuple[int, int, int, Changes]:
    """Pulls and applies pages until the server says there is no more; returns (pulled,
    applied, cursor, what the applied events changed). ``stores``: filled with the stores
    whose events were pulled."""
    device_id = _identity(app).device_id
    uow = app.uow
    start_from_snapshot(app, client)  # a fresh till: the directory from HQ's snapshot
    cursor = sync_cursor(uow)
    pulled = applied = 0
    changes = NOTHING
    snapshot = int(get_sync_setting(uow, SNAPSHOT_POSITION) or 0)
    while True:
        answer = client.pull(cursor, min(page, MAX_PAGE), snapshot=snapshot) \
            if snapshot > cursor else client.pull(cursor, min(page, MAX_PAGE))
        result = apply_page(
            uow, device_id=device_id, cursor=answer.cursor,
            changes=[{"position": c.position, "event": c.event.model_dump(mode="json")}
                     for c in answer.changes],
        )
        pulled += len(answer.changes)
        applied += result.applied
        if stores is not None:
            stores.update(c.event.store_id for c in answer.changes)
        changes |= result.changes
        if progress:
            progress("pull", pulled)
        if not answer.more:
            return pulled, applied, result.cursor, changes
        if answer.cursor <= cursor:
            raise ProtocolMismatch(detail="the pull cursor did not advance")
        cursor = answer.cursor


def sync_once(app: App, client: Client, *, batch: int = MAX_BATCH, page: int = MAX_PAGE,
              progress: Progress | None = None, keystore: KeyStore | None = None
              ) -> SyncReport:
    """Push everything, then pull everything. Raises :class:`sync.errors.SyncError` when the
    server cannot be reached or refuses; what was acknowledged or applied before stays so.

    With ``keystore`` (where the new token goes), a till HQ answers with a fork (its data
    restored from an older copy, or copied) takes a new identity on its own, once per round
    (``sync.recovery``), and pushes again: ``reidentity`` in the report says so."""
    from sync.recovery import needs_new_identity, reidentify

    notice: Reidentity | None = None

    def recovering(step: Callable[[], T]) -> T:
        nonlocal notice
        try:
            return step()
        except ServerRefused as e:
            if keystore is None or notice is not None or not needs_new_identity(e):
                raise
            notice = reidentify(app, client, keystore)
            return step()

    refused: ServerRefused | None = None
    try:
        stored, duplicates, held = recovering(
            lambda: push_all(app, client, batch=batch, progress=progress))
    except ServerRefused as e:
        if e.status != 422:
            raise
        # HQ will never take these unsent events as they are (docs/sync.md, "Pushed payloads
        # are checked against their declarations"): they wait in the outbox, and the till
        # still pulls what the chain did before the round fails saying so.
        refused, stored, duplicates, held = e, 0, 0, 0
    seen: set[str] = set()
    pulled, applied, cursor, changes = recovering(
        lambda: pull_all(app, client, page=page, progress=progress, stores=seen))
    # A pull brought another store's events: ask HQ its name.
    if unnamed_stores(app.uow) or unknown_stores(app.uow, seen):
        name_stores(app.uow, [(s.id, s.number, s.name) for s in client.stores().stores])
    if refused is not None:
        log.warning("sync round: HQ refused the push (%s); pulled %d (%d applied)",
                    refused.code, pulled, applied)
        raise refused
    at = app.uow.clock.now()
    set_last_sync_at(app.uow, at=at)
    report = SyncReport(stored, duplicates, held,
                        pending_count(app.uow, device_id=_identity(app).device_id),
                        pulled, applied, cursor, at, changes, held_count(app.uow), notice)
    log.info("sync round: pushed %d new (%d already stored, %d held by HQ), %d unacknowledged;"
             " pulled %d (%d applied, %d quarantined)%s", stored, duplicates, held,
             report.pending, pulled, applied, report.quarantined,
             "; took a new identity" if notice is not None else "")
    return report


@dataclass(frozen=True, slots=True)
class DayReport:
    """Closing time: the sync's outcome and the day's figures from the local database."""

    store_name: str
    summary: DaySummary
    pending: int  # events the server has not acknowledged
    sync: SyncReport | None  # None when the sync failed
    error: str | None = None  # why, in English (the server unreachable, a refusal)
    quarantined: int = 0  # pulled events this till holds, not applied: the day is not clean
    revoked: bool = False  # the server refused this till's token (401/403)

    @property
    def day(self) -> date:
        return self.summary.day

    @property
    def ok(self) -> bool:
        """Everything this till wrote is stored on the server, the pull finished and every
        pulled event is applied (none held in quarantine)."""
        return self.error is None and self.pending == 0 and self.quarantined == 0

    def lines(self) -> list[str]:
        """The report as text (the CLI prints it; the UI shows its own view of the fields)."""
        s = self.summary
        out = [f"Day report {s.day.isoformat()} — {self.store_name}",
               f"Registrations: {s.total_registrations}"]
        for g in s.registrations:
            who = g.guide_name or (f"guide {g.guide_id[:8]}" if g.guide_id else "no guide")
            out.append(f"  {who}: {g.registrations}")
        out.append(f"Events written today: {s.events_written}")
        if self.sync is not None:
            out.append(f"Pushed: {self.sync.pushed} new, {self.sync.duplicates} already stored; "
                       f"pulled {self.sync.pulled} changes ({self.sync.applied} applied)")
        if self.sync is not None and self.sync.reidentity is not None:
            out.append(self.sync.reidentity.line())
        out.append(f"Unacknowledged events: {self.pending}")
        if self.quarantined:
            out.append(f"Pulled events held, not applied: {self.quarantined}")
        if self.error:
            out.append(f"Sync failed: {self.error}")
        out.append(self.verdict())
        return out

    def verdict(self) -> str:
        """One line that agrees with the figures above it."""
        if self.ok:
            return "Closed: all events stored on the server."
        waiting = (f"{self.pending} event(s) wait on this till, nothing is lost"
                   if self.pending else "nothing waits to be sent")
        if self.revoked:
            return (f"NOT closed: this till's access was revoked ({waiting}): ask head office "
                    "to reinstate it, or enrol it again in place with a fresh code "
                    "(pos-member enrol --code ...).")
        if self.error:
            return f"NOT closed: the sync did not finish ({waiting}); run close-day again."
        if self.pending:
            return f"NOT closed: {waiting}; run close-day again."
        return ("NOT closed: pulled events this till cannot apply are held; update the till "
                "(they are tried again after every update) or call head office.")


def close_day(app: App, client: Client, *, day: date | None = None,
              progress: Progress | None = None, keystore: KeyStore | None = None,
              sleep: Callable[[float], None] = time.sleep) -> DayReport:
    """Pushes everything, pulls everything, and reports the day (``day``; default the store
    day being closed: yesterday's after midnight before the store opens, ``closing_day``).
    Never raises for
    the server being down or refusing: the report says so (``ok`` is false) and still holds
    the local figures, so a store without network can close and sync later. ``keystore``: as for
    :func:`sync_once` (a forked till takes a new identity). HQ busy (a 503 with
    ``Retry-After``: the whole chain closing at once) is waited out, as HQ asks, up to
    ``CLOSE_PATIENCE_S`` in all (``sleep``: the wait)."""
    report: SyncReport | None = None
    error: str | None = None
    revoked = False
    try:
        report = _sync_patiently(app, client, progress=progress, keystore=keystore,
                                 sleep=sleep)
    except DomainError as e:
        log.info("closing sync failed: %s", type(e).__name__)
        error = e.text()
        revoked = isinstance(e, ServerRefused) and e.token_refused
    ident = _identity(app)  # after the sync: it may have taken a new identity
    summary = day_summary(app.uow, store_id=ident.store_id, device_id=ident.device_id,
                          day=day or closing_day(app.uow, store_id=ident.store_id,
                                                 hours=app.opening_hours))
    pending = pending_count(app.uow, device_id=ident.device_id)
    day_report = DayReport(ident.store_name, summary, pending, report, error,
                           held_count(app.uow), revoked)
    log.info("day %s closed: %s (%d unacknowledged)", summary.day.isoformat(),
             "ok" if day_report.ok else "NOT ok", pending)
    return day_report


def _sync_patiently(app: App, client: Client, *, progress: Progress | None,
                    keystore: KeyStore | None, sleep: Callable[[float], None]) -> SyncReport:
    """``sync_once``, again after each "busy, come back in N s" from HQ while the waits add
    up to at most ``CLOSE_PATIENCE_S``; what each try stored stays stored (the next one
    pushes only what is still unacknowledged)."""
    waited = 0.0
    while True:
        try:
            return sync_once(app, client, progress=progress, keystore=keystore)
        except ServerUnavailable as e:
            if e.retry_after is None or waited + e.retry_after > CLOSE_PATIENCE_S:
                raise
            log.info("HQ is busy: closing again in %.0f s", e.retry_after)
            sleep(e.retry_after)
            waited += e.retry_after


def enrol(app: App, client: Client, keystore: KeyStore, *, code: str, device_name: str,
          server_url: str, admin: FirstAdmin | None = None) -> TillIdentity:
    """Enrols this fresh till with the one-time ``code``. Refuses a till that already has an
    identity or members, and a bad ``admin``, *before* spending the code
    (:class:`pos_member.errors.TillNotFresh`, ``InvalidInput``, ``WeakSecret``); the data key
    and device token go to ``keystore``. ``admin`` is the till's first administrator, created
    right after, unless the store has one already (:func:`first_admin`)."""
    if admin is not None:
        admin.check()
    with app.uow.read() as s:
        check_fresh(s)
    answer = client.enrol(EnrolRequest(code=code, device_name=device_name,
                                       request_id=enrolment_request_id(app.uow)))
    ident = app.enrol(keystore, Enrolment(
        store_id=answer.store_id, store_number=answer.store_number,
        store_name=answer.store_name, device_id=answer.device_id,
        device_number=answer.device_number, device_name=device_name, token=answer.token,
        data_key=answer.data_key, server_url=server_url))
    client.use_token(answer.token)  # the same client pulls the store's staff next
    if admin is not None:
        first_admin(app, client, ident, admin)
    return ident


def start_from_snapshot(app: App, client: Client) -> int | None:
    """A fresh till (nothing pulled yet, no member registered) takes the chain's member
    directory from HQ's snapshot (``GET /v2/snapshot``) instead of pulling every other
    store's registration; the pulls after it leave those out. Returns the members loaded, or
    None when the till is not fresh or HQ could not answer (the pull then brings everything,
    as before)."""
    if sync_cursor(app.uow) != 0 or get_sync_setting(app.uow, SNAPSHOT_POSITION) \
            or holds_members(app.uow):
        return None  # not fresh: a member here may share a phone with one in the snapshot
    try:
        answer = client.snapshot()
    except SyncError as e:
        log.warning("no snapshot (%s): the first pull brings the directory", type(e).__name__)
        return None
    return load_snapshot(app.uow, position=answer.position, stores=list(answer.stores),
                         members=list(answer.members))


def first_admin(app: App, client: Client, ident: TillIdentity,
                admin: FirstAdmin) -> StaffInfo | None:
    """Right after enrolment: pulls the store's staff first, then creates ``admin`` only if
    the store has no active administrator yet (``None``: it has one; they log in here), with
    the next free number if the one asked for is taken (docs/rules.md, "Staff numbers"), and
    pushes it at once so the store's next till finds it. HQ out of reach: the administrator is
    created all the same (a clash is resolved at the next sync, the earlier number holding)."""
    try:
        pull_all(app, client)
    except SyncError as e:
        log.warning("enrolment: the store's staff could not be pulled first (%s)",
                    type(e).__name__)
    created = admin.create(app.uow, ident)
    if created is not None:
        try:
            push_all(app, client)
        except SyncError as e:
            log.warning("enrolment: the administrator is not sent yet (%s); the next sync "
                        "sends it", type(e).__name__)
    return created
