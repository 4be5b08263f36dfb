"""Random interleavings of two stores and one real server (uvicorn on loopback, SQLite).

Each example starts a server and enrols till A (store 1) and till B (store 2). Hypothesis then
interleaves: registrations at either till, with phones drawn from a small pool so that the same
phone is often registered at both stores while they are "offline" (not synced); profile edits;
a sync of either till at any point; a server restart. Time passes for both tills alike, each
clock off by up to ±2 minutes (tills keep NTP time; a clock more than 5 minutes off is not
folded into the others' hybrid clocks, see ``apply.MAX_DRIFT_MS``, and is flagged by the
server). At the end both tills sync fully, and:

- both tills and the server agree on the members: the same rows (id, number, status, profile);
- one active member per phone, and it is the earliest registration (hybrid timestamp, then
  event id); every number registered for that phone, and the phone itself, scan to it at both
  tills; the server's phone index names it too;
- every event of either till is stored exactly once on the server, positions are gapless, and
  both outboxes are empty.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from sqlalchemy import func, select

from pos_member.db.models import Event as TillEvent
from pos_member.db.models import Member
from pos_member.errors import DuplicatePhone
from pos_member.services.member_cards import Gender, find_member
from pos_member.services.members import register_member, update_profile
from sync.server.models import MemberIndex
from tests.sync.harness import Central, Till, enrolled_till

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

    @initialize(skew_a=st.integers(min_value=-120, max_value=120),
                skew_b=st.integers(min_value=-120, max_value=120))
    def clocks(self, skew_a: int, skew_b: int) -> None:
        """Each till's clock is off the true time by up to two minutes, in either direction."""
        self.now = self.tills[0].clock.now()
        self.skews = [timedelta(seconds=skew_a), timedelta(seconds=skew_b)]
        self._tick(0)

    def _tick(self, seconds: int) -> None:
        """Time passes for everybody; each till's clock keeps its own error."""
        self.now += timedelta(seconds=seconds)
        for t, skew in zip(self.tills, self.skews, strict=True):
            t.clock.set(self.now + skew)

    @rule(till=st.sampled_from([0, 1]), phone=st.sampled_from(PHONES),
          minutes=st.integers(min_value=0, max_value=30))
    def register(self, till: int, phone: str, minutes: int) -> None:
        t = self.tills[till]
        self._tick(21 + 60 * minutes)  # under the 30-per-10-minutes limit
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

    @rule()
    def restart_server(self) -> None:
        self.central.restart()

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
        for t in (a, b):
            self.central.assert_exactly_once(t)
        rows = [self._members(t) for t in (a, b)]
        assert rows[0] == rows[1]
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
    def _members(t: Till) -> list[tuple[str, str, str, str | None]]:
        with t.app.uow.read() as s:
            return [tuple(r) for r in s.execute(  # type: ignore[misc]
                select(Member.id, Member.member_no, Member.status, Member.gender)
                .order_by(Member.id))]


TwoStores.TestCase.settings = settings(
    max_examples=8, stateful_step_count=25, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_two_stores = TwoStores.TestCase
