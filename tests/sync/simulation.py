"""A deterministic simulation of a chain (in the spirit of TigerBeetle's VOPR): one central
server and two or three tills, driven from one seed through the real services (registrations,
sales, refunds, top-ups, payments with a TOTP code) and the real sync protocol (the server
under uvicorn on loopback over SQLite or PostgreSQL, ``tests/sync/harness.Central``), with
faults drawn from the same seed:

- ``kill``: the till process dies after committing, before pushing (its in-memory state is
  dropped and its data folder opened again);
- ``kill_before_ack``: it dies after the server stored a push, before the acknowledgement is
  written; ``kill_mid_pull``: after a page was answered, before it was applied;
- ``lost_push_answer`` / ``lost_pull_answer``: the server answered, the till never got it;
- ``lost_reidentify_answer`` / ``lost_adopt_answer``: a forked till's ``/v1/reidentify`` or
  ``/v1/adopt`` answer is lost (HQ made the new device, or claimed its member numbers); asked
  again, HQ names the same new device and nothing is lost or doubled;
- ``backup`` / ``restore``: the till's data folder is copied, later put back (HQ answers 409
  ``fork`` and the till takes a new identity on its own — ``docs/sync.md`` "Forks");
- ``revoke`` / ``reinstate``: HQ revokes the till (it keeps recording), later lifts it;
- ``clock_jump``: a till's clock jumps (up to four minutes either way) or the whole chain's
  time moves on by hours;
- ``unknown_event``: a newer till pushes an event type these tills do not know (they hold it
  in quarantine);
- ``server_restart``: a new app over the same database (a sync attempted while it is down).

The choice of every step depends only on the seed (ids the services draw are not used to
choose), so ``SIM_SEED=n`` replays a failing run's steps. :meth:`Simulation.check` is the end
of every run: see its docstring.
"""

from __future__ import annotations

import importlib.util
import inspect
import random
import shutil
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from pos_member.db.models import Event as TillEvent
from pos_member.errors import DomainError
from pos_member.services.outbox import pending_count
from sync.client import SyncClient
from sync.engine import sync_once
from sync.errors import ServerRefused, ServerUnavailable
from sync.protocol import EnrolRequest, PushRequest, WireEvent
from sync.server import identities, services
from sync.server.errors import Conflict
from sync.server.models import Device as ServerDevice
from sync.server.models import Event
from tests.sync import harness
from tests.sync.harness import Central, Customer, Till, assert_ledgers, enrolled_till

# Mechanisms other changes bring; a fault whose mechanism is not there yet is not drawn.
# TODO(issue 13): both land with the till's fork recovery and the quarantine of pulled events.
FORK_RECOVERY = "keystore" in inspect.signature(sync_once).parameters
QUARANTINE = importlib.util.find_spec("pos_member.services.quarantine") is not None
REENROL = FORK_RECOVERY and importlib.util.find_spec("sync.recovery") is not None

UNKNOWN_TYPE = "future.gift_wrapped"  # a type a newer till writes and these do not know
POOL = tuple(f"1390000{n:04d}" for n in range(6))  # phones registered at several stores


class Crash(Exception):  # not an error: the till process died here
    """The till process dies at this point of a sync round."""


class FaultyClient:
    """The real client; ``fault`` happens once, around the real call it names."""

    def __init__(self, inner: SyncClient, fault: str | None) -> None:
        self._inner = inner
        self.fault = fault
        self.fired: str | None = None
        self.lost_device: str | None = None  # the new device a lost reidentify answer named

    def _take(self, *names: str) -> str | None:
        fault, hit = self.fault, self.fault in names
        if hit:
            self.fault, self.fired = None, fault
        return fault if hit else None

    def push(self, request: Any) -> Any:
        answer = self._inner.push(request)  # the server stored and answered
        fault = self._take("kill_before_ack", "lost_push_answer")
        if fault == "kill_before_ack":
            raise Crash(fault)
        if fault == "lost_push_answer":
            raise ServerUnavailable(detail="the answer was lost")
        return answer

    def snapshot(self) -> Any:
        return self._inner.snapshot()

    def pull(self, cursor: int, limit: int = 500, **kw: Any) -> Any:
        answer = self._inner.pull(cursor, limit, **kw)
        fault = self._take("kill_mid_pull", "lost_pull_answer")
        if fault == "kill_mid_pull":
            raise Crash(fault)
        if fault == "lost_pull_answer":
            raise ServerUnavailable(detail="the answer was lost")
        return answer

    def reidentify(self, request: Any) -> Any:
        answer = self._inner.reidentify(request)  # HQ made (or named again) the new device
        if self._take("lost_reidentify_answer"):
            self.lost_device = answer.device_id
            raise ServerUnavailable(detail="the answer was lost")
        return answer

    def adopt(self, request: Any) -> Any:
        answer = self._inner.adopt(request)  # HQ retired the old device, claimed the numbers
        if self._take("lost_adopt_answer"):
            raise ServerUnavailable(detail="the answer was lost")
        return answer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@dataclass
class SimTill:
    name: str
    till: Till
    skew: timedelta = timedelta(0)
    device_ids: set[str] = field(default_factory=set)
    revoked: bool = False
    backup: Path | None = None
    recorded: set[str] = field(default_factory=set)  # ids of the events it wrote
    forked: bool = False  # restored from a copy, not synced since: its next sync forks
    lost: str | None = None  # a lost reidentify answer named this device: the retry must too


class Simulation:
    def __init__(self, seed: int, steps: int, workdir: Path,
                 database_url: str | None = None) -> None:
        """``database_url``: the server's database, fresh (default: a SQLite file)."""
        self.seed, self.steps, self.dir = seed, steps, workdir
        self.rng = random.Random(seed)
        self.log: list[str] = []
        self.faults: Counter[str] = Counter()
        self.central = Central(database_url or f"sqlite:///{workdir / 'server.sqlite'}")
        self.backend = self.central.url.split(":", 1)[0].split("+", 1)[0]
        self.now = self.central.clock.now()
        stores = [1, 2, self.rng.choice([1, 2])][: self.rng.choice([2, 3])]
        self.tills: list[SimTill] = []
        for n, store in enumerate(stores):
            name = f"till{n}-store{store}"
            t = SimTill(name, enrolled_till(self.central, workdir / f"{name}.sqlite", store,
                                            start=self.now))
            t.device_ids.add(t.till.device_id)
            self.tills.append(t)
        self.customers: list[Customer] = []  # in registration order (the seed picks by index)
        self.bills: list[tuple[int, str]] = []
        self.rolled_back: set[str] = set()  # unsent events a restore took away with it
        self.unknown = 0  # events of an unknown type on the server
        self._newer: tuple[str, str, str] | None = None  # a newer till: device, token, store
        self._newer_seq = 0

    # -- the run ------------------------------------------------------------------------------

    def run(self) -> None:
        step = -1
        try:
            for step in range(self.steps):
                self.step(step)
            self.log.append("end: every till synced until nothing moves")
            self.converge()
            self.check()
        except Exception as e:
            raise AssertionError(self.replay(step, e)) from e
        finally:
            self.close()

    def replay(self, step: int, e: BaseException) -> str:
        return (f"simulation seed {self.seed} ({self.backend}) failed at step {step} "
                f"({type(e).__name__}: {e})\nreplay: SIM_SEED={self.seed} SIM_STEPS={self.steps} "
                f"SIM_BACKEND={self.backend} scripts/with-keyring.sh "
                f".venv/bin/python -m pytest tests/sync/test_simulation.py -x\nsteps:\n  "
                + "\n  ".join(self.log))

    def close(self) -> None:
        for t in self.tills:
            t.till.close()
        self.central.stop()

    def step(self, i: int) -> None:
        actions: dict[str, tuple[int, Callable[[SimTill], str]]] = {
            "register": (6, self.register), "sale": (6, self.sale), "refund": (2, self.refund),
            "top_up": (4, self.top_up), "pay": (4, self.pay), "sync": (8, self.sync),
            "kill": (2, self.kill), "clock_jump": (2, self.clock_jump),
            "revoke": (1, self.revoke), "reinstate": (2, self.reinstate),
            "server_restart": (1, self.server_restart),
        }
        if FORK_RECOVERY:
            actions |= {"backup": (2, self.backup), "restore": (2, self.restore),
                        "fork": (2, self.fork)}
        if REENROL:
            actions["reenrol"] = (1, self.reenrol)
        if QUARANTINE:
            actions["unknown_event"] = (1, self.unknown_event)
        names = list(actions)
        name = self.rng.choices(names, weights=[actions[n][0] for n in names])[0]
        t = self.rng.choice(self.tills)
        wanted = {"restore": lambda u: u.backup is not None, "reinstate": lambda u: u.revoked,
                  "reenrol": lambda u: u.revoked}.get(name)
        if wanted is not None:  # the fault befalls a till it can befall, if there is one
            t = next((u for u in self.tills[self.tills.index(t):] + self.tills if wanted(u)), t)
        self.tick(self.rng.choice([21, 30, 60, 300]))
        self.log.append(f"{i:3d} {name} @{t.name}")
        outcome = actions[name][1](t)
        self.log[-1] += f": {outcome}"
        self.note(t)
        assert_ledgers(t.till.app)

    def tick(self, seconds: int) -> None:
        """Time passes for everybody; each till's clock keeps its own error."""
        self.now += timedelta(seconds=seconds)
        self.central.clock.set(self.now)
        for t in self.tills:
            t.till.clock.set(self.now + t.skew)

    def note(self, t: SimTill) -> None:
        """Records the ids of the events the till wrote (under any of its identities)."""
        if t.till.app.identity is not None:
            t.device_ids.add(t.till.device_id)
        with t.till.app.uow.read() as s:
            t.recorded |= set(s.scalars(select(TillEvent.id).where(
                TillEvent.device_id.in_(t.device_ids))))

    # -- the workload ---------------------------------------------------------------------------

    def _service(self, what: str, op: Callable[[], object]) -> str:
        try:
            op()
        except DomainError as e:
            return f"{what} refused ({type(e).__name__})"
        return what

    def _customer(self) -> tuple[int, Customer] | None:
        if not self.customers:
            return None
        n = self.rng.randrange(len(self.customers))
        return n, self.customers[n]

    def register(self, t: SimTill) -> str:
        phone = (self.rng.choice(POOL) if self.rng.random() < 0.3
                 else f"138{self.rng.randrange(10**8):08d}")
        app, clerk = t.till.app, t.till.clerk
        try:
            c = harness.new_customer(app, clerk, t.till.clock, phone)
        except DomainError as e:
            return f"phone {phone} refused ({type(e).__name__})"
        self.customers.append(c)
        return f"member #{len(self.customers) - 1} (phone {phone})"

    def sale(self, t: SimTill) -> str:
        picked = self._customer()
        if picked is None:
            return "no member yet"
        n, c = picked
        fen, redeem = self.rng.choice([500, 12_000, 150_000]), self.rng.choice([0, 0, 100])
        till_n = self.tills.index(t)

        def ring_up() -> None:
            self.bills.append((till_n, harness.sale(t.till.app, t.till.clerk, c, fen,
                                                    redeem=redeem)))
        return self._service(f"sale {fen} fen redeeming {redeem} for #{n}", ring_up)

    def refund(self, t: SimTill) -> str:
        if not self.bills:
            return "no bill yet"
        till_n, bill_no = self.bills[self.rng.randrange(len(self.bills))]
        owner = self.tills[till_n]
        part = self.rng.choice([None, 250])
        return self._service(f"refund ({part or 'all'}) of a bill at {owner.name}", lambda:
                             harness.refund(owner.till.app, owner.till.clerk, bill_no, part))

    def top_up(self, t: SimTill) -> str:
        picked = self._customer()
        if picked is None:
            return "no member yet"
        n, c = picked
        fen = self.rng.choice([5_000, 10_000, 30_000])
        return self._service(f"top-up {fen} fen for #{n}", lambda: harness.top_up(
            t.till.app, t.till.clerk, c, fen))

    def pay(self, t: SimTill) -> str:
        picked = self._customer()
        if picked is None:
            return "no member yet"
        n, c = picked
        fen, online = self.rng.choice([1_000, 8_000, 20_000]), self.rng.random() < 0.3
        self.tick(30)  # each TOTP code is taken once
        return self._service(f"pay {fen} fen for #{n} online={online}", lambda: harness.pay(
            t.till.app, t.till.clerk, t.till.clock, c, fen, online=online, step=False))

    # -- syncs and faults ------------------------------------------------------------------------

    def sync(self, t: SimTill, fault: str | None = None) -> str:
        if fault is None and t.forked and self.rng.random() < 0.6:
            fault = self.rng.choice(["lost_reidentify_answer", "lost_adopt_answer"])
        elif fault is None and self.rng.random() < 0.5:
            fault = self.rng.choice(["kill_before_ack", "lost_push_answer", "kill_mid_pull",
                                     "lost_pull_answer"])
        outcome, fired = self._sync(t, fault)
        if fired:
            self.faults[fired] += 1
        return outcome

    def _sync(self, t: SimTill, fault: str | None) -> tuple[str, str | None]:
        """One sync round of the till with ``fault``: what happened, and the fault if it hit
        (a push fault needs something to push)."""
        kw: dict[str, Any] = {"keystore": t.till.keystore} if FORK_RECOVERY else {}
        client: FaultyClient | None = None
        try:
            with t.till.client() as inner:
                client = FaultyClient(inner, fault)
                report = sync_once(t.till.app, client, **kw)  # type: ignore[arg-type]
        except Crash as e:
            t.till.reopen()
            return f"sync: {e} (the till restarted)", str(e)
        except ServerUnavailable as e:
            fired = client.fired if client else None
            if client is not None and client.lost_device:
                t.lost = client.lost_device
            return f"sync: unavailable ({fired or e})", fired
        except ServerRefused as e:
            if t.revoked and e.status in (401, 403):
                return f"sync: refused {e.status} {e.code} (revoked)", None
            raise
        self.note(t)
        t.forked = False
        if getattr(report, "reidentity", None) is not None and t.lost is not None:
            # asked again after a lost answer, HQ named the device it had made
            assert t.till.device_id == t.lost, ("a second new device", t.lost, t.till.device_id)
            t.lost = None
        again = " (new identity)" if getattr(report, "reidentity", None) is not None else ""
        extra = f" [{fault} did not fire]" if client.fault else ""
        return (f"sync: pushed {report.pushed}, duplicates {report.duplicates}, held "
                f"{report.held}, pending {report.pending}, pulled {report.pulled}{again}{extra}",
                None)

    def kill(self, t: SimTill) -> str:
        """The process dies after its last commit, before any push: reopened from its folder."""
        pending = pending_count(t.till.app.uow, device_id=t.till.device_id)
        t.till.reopen()
        assert pending_count(t.till.app.uow, device_id=t.till.device_id) == pending
        self.faults["kill"] += 1
        return f"killed with {pending} unsent, reopened"

    def clock_jump(self, t: SimTill) -> str:
        self.faults["clock_jump"] += 1
        if self.rng.random() < 0.3:
            hours = self.rng.choice([1, 5, 13, 30])
            self.tick(hours * 3600)
            return f"the chain's time moves on {hours} h"
        t.skew = timedelta(seconds=self.rng.randrange(-240, 241))
        self.tick(0)
        return f"clock now off by {t.skew.total_seconds():+.0f} s"

    def revoke(self, t: SimTill) -> str:
        if t.revoked:
            return "already revoked"
        services.revoke_device(self.central.ctx, device_id=t.till.device_id)
        t.revoked = True
        self.faults["revoke"] += 1
        return f"HQ revoked {t.till.device_id[:8]}"

    def reinstate(self, t: SimTill) -> str:
        if not t.revoked:
            return "not revoked"
        try:
            identities.reinstate_device(self.central.ctx, device_id=t.till.device_id)
        except Conflict:  # a copy of a device whose identity went on: only re-enrolling helps
            return "not reinstated: its identity went to a new device"
        t.revoked = False
        self.faults["reinstate"] += 1
        return f"HQ reinstated {t.till.device_id[:8]}"

    def reenrol(self, t: SimTill) -> str:
        """A revoked till enrolled again in place with a fresh code: its data stay, what waits
        moves to the new device."""
        if not t.revoked:
            return "not revoked"
        from sync.recovery import reenrol
        old = t.till.device_id
        with SyncClient(self.central.base_url) as client:
            reenrol(t.till.app, client, t.till.keystore, code=self.central.code(
                t.till.app.identity.store_number), device_name=t.name)  # type: ignore[union-attr]
        t.revoked, t.lost = False, None
        self.note(t)
        self.faults["reenrol"] += 1
        return f"enrolled again in place: {old[:8]} -> {t.till.device_id[:8]}"

    def server_restart(self, t: SimTill) -> str:
        self.central.stop()
        try:
            with t.till.client() as client:
                sync_once(t.till.app, client)
        except ServerUnavailable:
            pass
        else:
            raise AssertionError("a sync reached a stopped server")
        self.central.start()
        self.faults["server_restart"] += 1
        return "server stopped (a sync failed), started again over the same database"

    def _files(self, t: SimTill) -> list[Path]:
        p = t.till.path
        return [p, *(p.with_name(p.name + s) for s in ("-wal", "-shm", "-journal"))]

    def backup(self, t: SimTill) -> str:
        t.till.app.close()
        folder = self.dir / f"{t.name}.backup"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        for f in self._files(t):
            if f.exists():
                shutil.copy2(f, folder / f.name)
        t.till.reopen()
        t.backup = folder
        return "data folder copied"

    def restore(self, t: SimTill) -> str:
        if t.backup is None:
            return "no copy to restore"
        t.till.app.close()
        for f in self._files(t):
            f.unlink(missing_ok=True)
            if (t.backup / f.name).exists():
                shutil.copy2(t.backup / f.name, f)
        t.till.reopen()
        # a copy from before a re-enrolment is the revoked device again (HQ's revocation
        # stands for it: enrolling it again in place, or reinstating, is the way back)
        device = t.till.device_id
        t.revoked = self.central.query(lambda c: c.scalar(
            select(ServerDevice.revoked_at).where(ServerDevice.id == device))) is not None
        with t.till.app.uow.read() as s:
            kept = set(s.scalars(select(TillEvent.id)))
        # what was neither sent nor in the copy went with the restore (the operator's doing)
        self.rolled_back |= t.recorded - self.stored_ids() - kept
        t.forked, t.lost = True, None  # the copy holds its own request id (or none)
        self.faults["restore"] += 1
        return "the older copy put back"

    def fork(self, t: SimTill) -> str:
        """A till put back to a copy older than what it sent, recording again: its next sync
        forks (409 ``fork``) and it takes a new identity, maybe losing HQ's answer to
        ``/v1/reidentify`` or ``/v1/adopt`` on the way (a later sync recovers)."""
        steps = [self.backup(t), self.register(t)]
        self.note(t)
        steps += [self._sync(t, None)[0], self.restore(t), self.register(t)]
        self.note(t)
        fault = self.rng.choice(["lost_reidentify_answer", "lost_adopt_answer", None])
        outcome, fired = self._sync(t, fault)
        if fired:
            self.faults[fired] += 1
        return "; ".join([*steps, outcome])

    def unknown_event(self, t: SimTill) -> str:
        """A newer till of store 1 pushes an event of a type these tills do not know."""
        if self._newer is None:
            with SyncClient(self.central.base_url) as c:
                e = c.enrol(EnrolRequest(code=self.central.code(1), device_name="newer"))
            self._newer = (e.device_id, e.token, e.store_id)
        device, token, store = self._newer
        self._newer_seq += 1
        ms = int(self.now.timestamp() * 1000)
        event = WireEvent(id=str(uuid.uuid4()), store_id=store, device_id=device,
                          seq=self._newer_seq, hlc=f"{ms:015d}-000000", type=UNKNOWN_TYPE,
                          entity_id=str(uuid.uuid4()), payload_version=1,
                          payload={"wrap": "gold"}, rules_version="1", created_at=self.now)
        with SyncClient(self.central.base_url, token) as c:
            c.push(PushRequest(device_id=device, events=[event]))
        self.unknown += 1
        self.faults["unknown_event"] += 1
        return f"a newer till stored a {UNKNOWN_TYPE}"

    # -- the end of every run --------------------------------------------------------------------

    def converge(self) -> None:
        if not self.central.running:
            self.central.start()
        for t in self.tills:
            if t.revoked:
                self.reinstate(t)
            if t.revoked and REENROL:  # a copy of a device whose identity went on
                self.reenrol(t)
        for _ in range(2):  # a push may merge another till's member: it pulls the merge after
            for t in self.tills:
                outcome, _ = self._sync(t, None)
                assert "pending 0" in outcome, (t.name, outcome)

    def stored_ids(self) -> set[str]:
        return set(self.central.query(lambda c: list(c.scalars(select(Event.id)))))

    def check(self) -> None:
        """Every event a till wrote is stored once at HQ (or went with a restored copy before
        it was sent); no till holds anything unsent; every till's balances equal its ledgers;
        HQ's balances equal its log; every member number names one member chain-wide; all
        tills hold the same member directory (number, status) and each its store's members
        with HQ's chain-wide points and stored value; an event of an unknown type is held in
        the quarantine of each till of the store it came from."""
        rows = self.central.query(lambda c: list(c.execute(select(Event.id, Event.position))))
        assert len({r.id for r in rows}) == len(rows)
        assert len({r.position for r in rows}) == len(rows)
        if self.backend == "sqlite":  # from the writing transaction on PostgreSQL: not gapless
            assert sorted(r.position for r in rows) == list(range(1, len(rows) + 1))
        stored = {r.id for r in rows}
        for t in self.tills:
            self.note(t)
            lost = t.recorded - self.rolled_back - stored
            assert not lost, (t.name, "events never stored", sorted(lost))
            assert pending_count(t.till.app.uow, device_id=t.till.device_id) == 0, t.name
            assert_ledgers(t.till.app)
        self.central.assert_balances()
        numbers: dict[str, set[str]] = defaultdict(set)
        directories = []
        for t in self.tills:
            held, directory = harness.members_held(t.till.app)
            for member_id, number, _ in held + directory:
                numbers[number].add(member_id)
            assert set(held) <= set(directory), (t.name, "a member held but not listed")
            directories.append(directory)
        doubled = {n: ids for n, ids in numbers.items() if len(ids) > 1}
        assert not doubled, ("member numbers held by two members", doubled)
        assert all(d == directories[0] for d in directories), \
            "the tills disagree on the chain's member directory"
        for t in self.tills:  # each store's members: complete at its tills, as HQ has them
            self.central.assert_home_agrees(t.till)
            self.central.assert_till_agrees(t.till)
        if QUARANTINE and self.unknown:
            from pos_member.services.quarantine import held_count
            for t in self.tills:  # the newer till's store's events: its store's tills
                assert self._newer is not None and t.till.app.identity is not None
                mine = t.till.app.identity.store_id == self._newer[2]
                assert held_count(t.till.app.uow) == (self.unknown if mine else 0), t.name

    def summary(self) -> dict[str, Any]:
        return {"seed": self.seed, "steps": self.steps, "tills": len(self.tills),
                "faults": dict(self.faults), "events": len(self.stored_ids()),
                "at": datetime.now(UTC).isoformat(timespec="seconds")}
