"""config.toml's integration keys: the API's port (default 8765, 0 off) and the folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from pos_member.config import INTEGRATION_PORT, load_config
from pos_member.errors import ConfigInvalid


def test_the_api_is_on_at_8765_and_no_folder_is_watched_by_default(tmp_path: Path) -> None:
    cfg = load_config(tmp_path / "none.toml")
    assert cfg.integration.port == INTEGRATION_PORT == 8765
    assert cfg.integration.folder is None


def test_port_0_turns_the_api_off_and_a_folder_is_watched_when_named(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f'integration_port = 0\nintegration_folder = "{tmp_path.as_posix()}/in"\n')
    cfg = load_config(path)
    assert cfg.integration.port == 0 and cfg.integration.folder == tmp_path / "in"


@pytest.mark.parametrize("value", ["80", "65536", '"8765"', "true", "-1"])
def test_a_port_that_is_no_port_is_refused(tmp_path: Path, value: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f"integration_port = {value}\n")
    with pytest.raises(ConfigInvalid, match="integration_port"):
        load_config(path)
