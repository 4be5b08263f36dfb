"""Two tills of one chain (stores 1 and 2, one data key), for the tests of pulled events."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pos_member.clock import FakeClock
from tests.factories import Till, make_till, new_data_key


@pytest.fixture
def key() -> str:
    return new_data_key()


@pytest.fixture
def a(tmp_path: Path, key: str) -> Iterator[Till]:
    till = make_till(tmp_path, store_number=1, data_key=key)
    yield till
    till.app.close()


@pytest.fixture
def b(tmp_path: Path, key: str, a: Till) -> Iterator[Till]:
    """Store 1's second till, its clock a minute ahead of the first's: it holds the store's
    members and ledgers in full, as ``a`` does (another store's till holds only the chain's
    member directory of them: ``other``)."""
    clock = FakeClock()
    clock.advance(minutes=1)
    assert a.app.identity is not None
    till = make_till(tmp_path, clock=clock, store_number=1, device_number=2, data_key=key,
                     store_id=a.app.identity.store_id)
    yield till
    till.app.close()


@pytest.fixture
def other(tmp_path: Path, key: str) -> Iterator[Till]:
    """Store 2's till, its clock a minute ahead of store 1's."""
    clock = FakeClock()
    clock.advance(minutes=1)
    till = make_till(tmp_path, clock=clock, store_number=2, data_key=key)
    yield till
    till.app.close()
