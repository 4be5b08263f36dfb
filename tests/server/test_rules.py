"""Publishing rules: validated, versioned, announced in the global log."""

from __future__ import annotations

from pathlib import Path

import pytest

from pos_member.errors import RulesInvalid
from pos_member.rules_config import default_rules_path
from sync.server import services
from sync.server.errors import Conflict
from tests.server.factories import LiveServer


def test_a_version_is_published_once(server: LiveServer) -> None:
    services.publish_rules(server.ctx, path=default_rules_path())
    before = server.table_counts()
    with pytest.raises(Conflict):
        services.publish_rules(server.ctx, path=default_rules_path())
    assert server.table_counts() == before


def test_an_invalid_rules_file_is_refused_and_nothing_is_written(
    server: LiveServer, tmp_path: Path
) -> None:
    bad = tmp_path / "rules.toml"
    bad.write_text(default_rules_path().read_text(encoding="utf-8").replace(
        "\npoints_per_yuan = 1\n", "\npoints_per_yuan = -5\n"), encoding="utf-8")
    before = server.table_counts()
    with pytest.raises(RulesInvalid):
        services.publish_rules(server.ctx, path=bad)
    assert server.table_counts() == before


def test_server_events_carry_the_latest_published_rules_version(server: LiveServer) -> None:
    services.publish_rules(server.ctx, path=default_rules_path())
    till = server.enrol()
    [published] = till.pull().changes
    assert published.event.rules_version == "2026.1"
    assert published.event.seq == 1
