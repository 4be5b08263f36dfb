"""Random interleavings of two stores and one real server (uvicorn on loopback, SQLite).

Each example starts a server and enrols till A (store 1) and till B (store 2). Hypothesis then
interleaves: registrations at either till (each member gets welcome points and a TOTP secret
for its authenticator app), with phones drawn from a small pool so that the same phone is
often registered at both stores while they are "offline" (not synced); profile edits; sales
for members at either store, some redeeming points, and partial refunds of them; stored-value
top-ups, and payments with the member's TOTP code (offline or online; two stores may overdraw
one balance); a sync of either till at any point; a server restart. Time passes for both
tills alike, each clock off by up to ±2 minutes (tills keep NTP time; a clock more than 5
minutes off is not folded into the others' hybrid clocks, see ``pulled_events.MAX_DRIFT_MS``, and is
flagged by the server). At the end both tills sync fully, and:

- both tills and the server agree on the members: the same chain-wide member directory (id,
  number, status); each till holds its store's members in full, listed alike;
- one active member per phone, and it is the earliest registration (hybrid timestamp, then
  event id); every number registered for that phone, and the phone itself, scan to it at both
  tills; the server's phone index names it too;
- every event of either till is stored exactly once on the server, positions are gapless (the
  server is on SQLite here), and
  both outboxes are empty;
- at both tills every member's points balance equals its points ledger (its open lots the
  balance) and its stored-value principal and bonus equal their ledger (also checked after
  every step); on the server every member's chain-wide balance equals the sum of its ``sv.*``
  events in the log, merged losers counted for their winners (``harness.assert_ledgers``,
  ``Central.assert_balances``);
- each till shows, for every member of its store (their home, HQ says), the points and stored
  value HQ holds chain-wide (a member of the other store is held there: here only the
  directory row and what this store recorded of them).

A refused operation (too few points, too little balance, the TOTP not yet pulled, a member
merged away or blocked) changes no table at that till.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)
from sqlalchemy import func, select

from pos_member.db.models import Event as TillEvent
from pos_member.db.models import Member
from pos_member.errors import DomainError, DuplicatePhone
from pos_member.services.member_auth import provision_totp
from pos_member.services.member_cards import Gender, find_member
from pos_member.services.members import register_member, update_profile
from sync.server.models import Event, MemberIndex
from tests.factories import table_counts
from tests.sync import harness
from tests.sync.harness import Central, Customer, Till, assert_ledgers, enrolled_till

PHONES = ("13900000001", "13900000002", "13900000003")


@dataclass(frozen=True)
class Registration:
    till: int
    phone: str
    member_id: str
    member_no: str
    hlc: str
    event_id: str


class TwoStores(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="two-stores-"))
        self.central = Central(f"sqlite:///{self.dir / 'server.sqlite'}")
        self.tills = [enrolled_till(self.central, self.dir / "a.sqlite", 1),
                      enrolled_till(self.central, self.dir / "b.sqlite", 2)]
        self.registrations: list[Registration] = []
        self.customers: dict[str, Customer] = {}  # member id → its TOTP secret
        self.bills: list[tuple[int, str]] = []  # (till, bill number) of member sales
        self.served_since_restart = True  # the enrolments: the server has state to reread

    @initialize(skew_a=st.integers(min_value=-120, max_value=120),
                skew_b=st.integers(min_value=-120, max_value=120))
    def clocks(self, skew_a: int, skew_b: int) -> None:
        """Each till's clock is off the true time by up to two minutes, in either direction."""
        self.now = self.tills[0].clock.now()
        self.skews = [timedelta(seconds=skew_a), timedelta(seconds=skew_b)]
        self._tick(0)
        # A regular customer at each store, with money on the card: every example moves the
        # ledgers, however short (their phones are not in the pool).
        for till, phone in ((0, "13900000010"), (1, "13900000020")):
            self._tick(21)
            self._register(till, phone, 30_000)

    def _tick(self, seconds: int) -> None:
        """Time passes for everybody; each till's clock keeps its own error."""
        self.now += timedelta(seconds=seconds)
        for t, skew in zip(self.tills, self.skews, strict=True):
            t.clock.set(self.now + skew)

    @rule(till=st.sampled_from([0, 1]), phone=st.sampled_from(PHONES),
          minutes=st.integers(min_value=0, max_value=30),
          top_up=st.sampled_from([0, 10_000, 30_000]))
    def register(self, till: int, phone: str, minutes: int, top_up: int) -> None:
        """A registration, the member's TOTP provisioned, and often a first top-up."""
        self._tick(21 + 60 * minutes)  # under the 30-per-10-minutes limit
        self._register(till, phone, top_up)

    def _register(self, till: int, phone: str, top_up: int) -> None:
        t = self.tills[till]
        before = t.events()
        try:
            card = register_member(t.app.uow, clerk=t.clerk, phone=phone, privacy_consent=True)
        except DuplicatePhone:
            assert t.events() == before  # refused, nothing written
            return
        with t.app.uow.read() as s:
            event = s.execute(select(TillEvent.hlc, TillEvent.id).where(
                TillEvent.type == "member.registered", TillEvent.entity_id == card.id)).one()
        self.registrations.append(
            Registration(till, phone, card.id, card.member_no, event.hlc, event.id))
        secret = provision_totp(t.app.uow, clerk=t.clerk, approver=t.clerk,
                                member_id=card.id).secret
        self.customers[card.id] = Customer(card.id, secret)
        if top_up:
            harness.top_up(t.app, t.clerk, self.customers[card.id], top_up)

    def _member(self, till: int, pick: int) -> Customer | None:
        """Mostly a member active at that till; one pick in four any member registered so far
        (the till may not know it yet, or may have merged it away: then it is refused)."""
        if not self.customers:
            return None
        ids = sorted(self.customers)
        if pick % 4:
            with self.tills[till].app.uow.read() as s:
                active = set(s.scalars(select(Member.id).where(Member.status == "active")))
            ids = [m for m in ids if m in active] or ids
        return self.customers[ids[pick // 4 % len(ids)]]

    def _refused_cleanly(self, till: int, name: str, op: Callable[[], object]) -> None:
        """Runs ``op``; a refusal must leave every table at that till as it was. What happened
        is counted (``--hypothesis-show-statistics``)."""
        t = self.tills[till]
        before = table_counts(t.path)
        try:
            op()
        except DomainError as e:
            event(f"{name} refused: {type(e).__name__}")
            assert table_counts(t.path) == before
        else:
            event(f"{name} done")

    @precondition(lambda self: bool(self.customers))
    @rule(till=st.sampled_from([0, 1]), pick=st.integers(min_value=0, max_value=20),
          fen=st.sampled_from([500, 12_000, 150_000]), redeem=st.sampled_from([0, 0, 100, 200]))
    def sale(self, till: int, pick: int, fen: int, redeem: int) -> None:
        c = self._member(till, pick)
        if c is None:
            return
        t = self.tills[till]
        self._tick(60)

        def ring_up() -> None:
            self.bills.append((till, harness.sale(t.app, t.clerk, c, fen, redeem=redeem)))
        self._refused_cleanly(till, "sale", ring_up)

    @precondition(lambda self: bool(self.bills))
    @rule(pick=st.integers(min_value=0, max_value=20), part=st.sampled_from([None, 250]))
    def refund(self, pick: int, part: int | None) -> None:
        """A refund at the till that rang the sale up (all that is left, or ¥2.50)."""
        if not self.bills:
            return
        till, bill_no = self.bills[pick % len(self.bills)]
        t = self.tills[till]
        self._tick(60)
        self._refused_cleanly(till, "refund", lambda: harness.refund(t.app, t.clerk, bill_no, part))

    @precondition(lambda self: bool(self.customers))
    @rule(till=st.sampled_from([0, 1]), pick=st.integers(min_value=0, max_value=20),
          fen=st.sampled_from([5_000, 10_000, 30_000]))
    def top_up(self, till: int, pick: int, fen: int) -> None:
        c = self._member(till, pick)
        if c is None:
            return
        t = self.tills[till]
        self._tick(60)
        self._refused_cleanly(till, "top-up", lambda: harness.top_up(t.app, t.clerk, c, fen))

    @precondition(lambda self: bool(self.customers))
    @rule(till=st.sampled_from([0, 1]), pick=st.integers(min_value=0, max_value=20),
          fen=st.sampled_from([1_000, 8_000, 20_000]), online=st.booleans())
    def pay(self, till: int, pick: int, fen: int, online: bool) -> None:
        """A payment with the member's TOTP code, a TOTP step after anything before."""
        c = self._member(till, pick)
        if c is None:
            return
        t = self.tills[till]
        self._tick(30)
        self._refused_cleanly(till, "payment", lambda: harness.pay(
            t.app, t.clerk, t.clock, c, fen, online=online, step=False))

    @rule(till=st.sampled_from([0, 1]), pick=st.integers(min_value=0, max_value=20),
          gender=st.sampled_from([Gender.FEMALE, Gender.MALE, None]))
    def edit_profile(self, till: int, pick: int, gender: Gender | None) -> None:
        t = self.tills[till]
        with t.app.uow.read() as s:
            ids = list(s.scalars(select(Member.id).where(Member.status == "active")
                                 .order_by(Member.id)))
        if not ids:
            return
        self._tick(5)
        update_profile(t.app.uow, clerk=t.clerk, member_id=ids[pick % len(ids)], gender=gender)

    @rule(till=st.sampled_from([0, 1]))
    def sync(self, till: int) -> None:
        report = self.tills[till].sync()  # raises if the server refused or was unreachable
        assert report.pending == 0
        self.served_since_restart = True

    @precondition(lambda self: self.served_since_restart)
    @rule()
    def restart_server(self) -> None:
        """A new server process on the same database. Only after it has served a sync: a
        restart of a server that has done nothing since its last start meets the same database
        and the same empty process, so it would test nothing more (and, the simplest rule,
        Hypothesis drew it for about a third of all steps, half of the test's time)."""
        self.central.restart()
        self.served_since_restart = False

    @invariant()
    def balances_and_points_equal_their_ledgers(self) -> None:
        for t in self.tills:
            assert_ledgers(t.app)

    @invariant()
    def a_till_never_holds_two_active_members_with_one_phone(self) -> None:
        for t in self.tills:
            with t.app.uow.read() as s:
                doubled = s.execute(
                    select(Member.phone_index).where(Member.status == "active")
                    .group_by(Member.phone_index).having(func.count() > 1)).all()
            assert doubled == []

    def teardown(self) -> None:
        try:
            self._converge_and_check()
        finally:
            for t in self.tills:
                t.close()
            self.central.stop()
            shutil.rmtree(self.dir, ignore_errors=True)

    def _converge_and_check(self) -> None:
        a, b = self.tills
        for t in (a, b, a, b):  # b's push may merge a's members: a pulls the merge after
            assert t.sync().pending == 0
        self.central.assert_consistent(a, b)
        moved = self.central.query(lambda c: c.scalar(
            select(func.count()).select_from(Event).where(Event.type.in_(
                ("sv.topped_up", "sv.paid", "sale.recorded", "sale.refunded")))))
        event(f"money and points events: {'0' if not moved else '1-9' if moved < 10 else '10+'}")
        for t in (a, b):  # each store's members: complete at home, as HQ has them
            self.central.assert_home_agrees(t)
            self.central.assert_till_agrees(t)
        listed = [harness.members_held(t.app) for t in (a, b)]
        assert listed[0][1] == listed[1][1]  # one chain-wide directory
        for held, directory in listed:
            assert set(held) <= set(directory)
        rows = [[(m, n, st, None) for m, n, st in listed[0][1]]]
        winners: dict[str, Registration] = {}
        for r in self.registrations:
            w = winners.get(r.phone)
            if w is None or (r.hlc, r.event_id) < (w.hlc, w.event_id):
                winners[r.phone] = r
        active = {m[0] for m in rows[0] if m[2] == "active"}
        assert active == {w.member_id for w in winners.values()}
        owners = self.central.query(lambda c: {
            r.member_id for r in c.execute(select(MemberIndex.member_id))})
        assert owners == active
        for t in (a, b):
            clerk = t.clerk
            for r in self.registrations:
                winner = winners[r.phone].member_id
                assert find_member(t.app.uow, clerk=clerk, code=r.member_no).id == winner
                assert find_member(t.app.uow, clerk=clerk, code=r.phone).id == winner

    @staticmethod
    def _members(t: Till) -> list[tuple[str, str, str, bytes | None]]:
        with t.app.uow.read() as s:
            return [tuple(r) for r in s.execute(  # type: ignore[misc]
                select(Member.id, Member.member_no, Member.status, Member.gender_enc)
                .order_by(Member.id))]


TwoStores.TestCase.settings = settings(
    max_examples=10, stateful_step_count=30, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_two_stores = TwoStores.TestCase
