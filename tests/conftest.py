from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# HQ's key-encryption key (sync/server/keys.py) for every server a test starts, in process or
# not; the tests of the KEK itself set or remove it.
os.environ.setdefault("POS_MEMBER_SERVER_KEK", "dGVzdHMnIGtleS1lbmNyeXB0aW9uIGtleSwgMzIgYnk=")

from tests.factories import Till, make_till


@pytest.fixture
def till(tmp_path: Path) -> Till:
    return make_till(tmp_path)


@pytest.fixture
def cheap_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id with test-sized costs for member PINs: the behaviour is the same, without the
    deliberate ~120 ms per hash. A module takes it with
    ``pytestmark = pytest.mark.usefixtures("cheap_hash")``."""
    from argon2 import PasswordHasher

    from pos_member.services import member_auth

    monkeypatch.setattr(member_auth, "HASHER", PasswordHasher(time_cost=1, memory_cost=1024,
                                                              parallelism=1))
