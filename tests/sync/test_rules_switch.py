"""Rules versions switch at their start time in a running till: HQ publishes a version with a
start time, the till pulls it, and the unit of work puts it in force when the till's clock
reaches that time (no restart); every event records the version it was computed under."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from pos_member.db.models import Event
from pos_member.rules_config import default_rules_path
from pos_member.services.members import register_member
from sync.server import services
from sync.server.cli import main
from tests.factories import new_phone
from tests.sync.harness import Central, Till, enrolled_till

SHIPPED = default_rules_path().read_text(encoding="utf-8")


def rules_file(tmp_path: Path, version: str, welcome_points: int) -> Path:
    text = SHIPPED.replace('version = "2026.1"', f'version = "{version}"', 1)
    text = text.replace("welcome_points = 100", f"welcome_points = {welcome_points}", 1)
    assert text != SHIPPED
    path = tmp_path / f"rules-{version}.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def central(tmp_path: Path) -> Iterator[Central]:
    central = Central(f"sqlite:///{tmp_path / 'server.sqlite'}")
    yield central
    central.stop()


@pytest.fixture
def till(tmp_path: Path, central: Central) -> Iterator[Till]:
    till = enrolled_till(central, tmp_path / "till.sqlite", 1)
    yield till
    till.close()


def register_and_version(till: Till) -> str:
    till.clock.advance(seconds=21)
    card = register_member(till.app.uow, clerk=till.clerk, phone=new_phone(),
                           privacy_consent=True)
    with till.app.uow.read() as s:
        return str(s.scalar(select(Event.rules_version).where(
            Event.type == "member.registered", Event.entity_id == card.id)))


def test_a_published_version_takes_force_at_its_start_time_without_a_restart(
    till: Till, central: Central, tmp_path: Path,
) -> None:
    start = till.clock.now() + timedelta(hours=2)
    services.publish_rules(central.ctx, path=rules_file(tmp_path, "2026.2", 200),
                           starts_at=start)
    till.sync()
    assert till.app.uow.rules.version == "2026.1"  # pulled, not started
    assert register_and_version(till) == "2026.1"
    till.clock.set(start - timedelta(seconds=22))  # the registration moves it 21 s
    assert register_and_version(till) == "2026.1"
    till.clock.set(start)
    assert till.app.uow.rules.version == "2026.2"
    assert till.app.uow.rules.registration.welcome_points == 200
    assert register_and_version(till) == "2026.2"
    # A restart keeps it (and a restart before the start would not have).
    till.reopen()
    assert till.app.uow.rules.version == "2026.2"


def test_a_restart_before_the_start_runs_the_old_version_then_switches(
    till: Till, central: Central, tmp_path: Path,
) -> None:
    start = till.clock.now() + timedelta(minutes=30)
    services.publish_rules(central.ctx, path=rules_file(tmp_path, "2026.2", 200),
                           starts_at=start)
    till.sync()
    till.reopen()
    assert till.app.uow.rules.version == "2026.1"
    till.clock.advance(minutes=31)
    assert register_and_version(till) == "2026.2"


def test_versions_follow_their_start_times_not_their_publication_order(
    till: Till, central: Central, tmp_path: Path,
) -> None:
    now = till.clock.now()
    services.publish_rules(central.ctx, path=rules_file(tmp_path, "2026.3", 300),
                           starts_at=now + timedelta(days=2))
    services.publish_rules(central.ctx, path=rules_file(tmp_path, "2026.2", 200),
                           starts_at=now + timedelta(days=1))
    till.sync()
    till.sync()  # applying again changes nothing
    seen = []
    for days in (0, 1, 2, 3):
        till.clock.set(now + timedelta(days=days))  # plus the registration's 21 s
        seen.append(register_and_version(till))
    assert seen == ["2026.1", "2026.2", "2026.3", "2026.3"]


def test_a_version_without_a_start_time_is_in_force_from_its_publication(
    till: Till, central: Central, tmp_path: Path,
) -> None:
    central.clock.set(till.clock.now())
    assert main(["--database", central.url, "publish-rules",
                 str(rules_file(tmp_path, "2026.2", 200))]) == 0
    till.sync()
    # The CLI runs on the real clock (now); the till's fake clock is in early 2026.
    till.clock.set(till.clock.now() + timedelta(days=3650))
    assert till.app.uow.rules.version == "2026.2"


def test_the_command_line_refuses_a_bad_start_time(tmp_path: Path, central: Central) -> None:
    with pytest.raises(SystemExit) as e:
        main(["--database", central.url, "publish-rules",
              str(rules_file(tmp_path, "2026.2", 200)), "--starts-at", "next monday"])
    assert e.value.code == 2
