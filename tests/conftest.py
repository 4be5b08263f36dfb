from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Qt's offscreen screens: the default 800×800 one first (every window opens there), then the
# two till screens stores have, 1024×768 and 1366×768, which tests/ui/test_screen_fit.py
# opens each window and dialog on.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen:configfile="
                      + str(Path(__file__).with_name("offscreen_screens.json")))
# HQ's key-encryption key (sync/server/keys.py) for every server a test starts, in process or
# not; the tests of the KEK itself set or remove it.
os.environ.setdefault("POS_MEMBER_SERVER_KEK", "dGVzdHMnIGtleS1lbmNyeXB0aW9uIGtleSwgMzIgYnk=")
# Every event a till writes in a test is checked against its declaration as HQ's push checks
# it (pos_member.events.check.STRICT): a writer and its declaration disagreeing fails the test
# that writes it, not a till's sync in a store.
os.environ.setdefault("POS_MEMBER_STRICT_EVENTS", "1")

from tests.factories import Till, make_till


@pytest.fixture
def till(tmp_path: Path) -> Iterator[Till]:
    till = make_till(tmp_path)
    yield till
    till.app.close()  # its WAL checkpoint thread would wake every second for the whole run


@pytest.fixture(scope="session", autouse=True)
def log_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The programs' log files (pos_member_app.logs) go to a folder of the test run, for the
    processes tests start too; a test that reads its log sets its own."""
    folder = tmp_path_factory.mktemp("logs")
    os.environ["POS_MEMBER_LOG_DIR"] = str(folder)
    return folder


@pytest.fixture(autouse=True)
def no_log_file_left_open() -> Iterator[None]:
    """A test that ran ``main()`` in process started a log file: closed after it."""
    yield
    from pos_member_app.logs import stop_logging

    stop_logging()


@pytest.fixture(scope="session", autouse=True)
def cheap_hash() -> Iterator[None]:
    """argon2id with test-sized costs for staff and member PINs, in every test: the same code
    and the same kind of hash, without the deliberate ~30 ms (staff) and ~120 ms (member) per
    hash; setting up a till hashes four staff PINs. The production costs are the benchmarks'
    (bench/stored_value.py's pin_hash_ms). Tests that run the till in another process (the
    CLI's, the fault children) keep them."""
    from argon2 import PasswordHasher

    from pos_member.services import member_auth, staff

    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(member_auth, "HASHER", cheap)
        mp.setattr(staff, "_hasher", cheap)
        yield
