"""Found by tests/sync/test_two_stores_stateful.py with independent till clocks: a profile edit
made at a till *after* it pulled an edit from a till whose clock is more than 5 minutes ahead
gets an older hybrid timestamp (the far-ahead one is not folded in: ``apply.MAX_DRIFT_MS``),
so the local edit shows here but loses everywhere else: the tills disagree for good.

Kept as a strict xfail until the members code makes a local edit win only through the same
last-writer-wins check (or stamps it after the field's current version)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from pos_member.db.models import Member
from pos_member.services.member_cards import Gender
from pos_member.services.members import register_member, update_profile
from tests.factories import new_phone
from tests.sync.harness import Central, Till, enrolled_till


@pytest.fixture
def tills(tmp_path: Path) -> Iterator[tuple[Till, Till]]:
    central = Central(f"sqlite:///{tmp_path / 'server.sqlite'}")
    a = enrolled_till(central, tmp_path / "a.sqlite", 1)
    b = enrolled_till(central, tmp_path / "b.sqlite", 2)
    yield a, b
    a.close()
    b.close()
    central.stop()


def gender(till: Till, member_id: str) -> str | None:
    with till.app.uow.read() as s:
        return s.scalar(select(Member.gender).where(Member.id == member_id))


@pytest.mark.xfail(strict=True, reason="profile LWW: a local edit after a far-ahead remote "
                                       "edit is stamped earlier and diverges (members code)")
def test_an_edit_after_pulling_a_far_ahead_edit_converges(tills: tuple[Till, Till]) -> None:
    a, b = tills
    a.clock.advance(minutes=6)  # A's clock runs 6 minutes ahead of B's
    card = register_member(a.app.uow, clerk=a.clerk, phone=new_phone(), privacy_consent=True)
    update_profile(a.app.uow, clerk=a.clerk, member_id=card.id, gender=Gender.FEMALE)
    a.sync()
    b.sync()
    b.clock.advance(seconds=30)
    update_profile(b.app.uow, clerk=b.clerk, member_id=card.id, gender=Gender.MALE)
    b.sync()
    a.sync()
    assert gender(a, card.id) == gender(b, card.id)
