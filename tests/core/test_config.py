from __future__ import annotations

from pathlib import Path

import pytest

from pos_member.config import default_data_dir, load_config
from pos_member.errors import ConfigInvalid
from pos_member.rules_config import default_rules_path


def config_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_missing_config_file_means_the_defaults(tmp_path: Path) -> None:
    config = load_config(tmp_path / "absent.toml")
    assert config.data_dir == default_data_dir()
    assert config.rules_file == default_rules_path()
    assert config.language is None


def test_every_key_is_read(tmp_path: Path) -> None:
    config = load_config(config_file(tmp_path, f'''
data_dir = '{tmp_path / "data"}'
rules_file = '{tmp_path / "rules.toml"}'
language = "en"
'''))
    assert config.data_dir == tmp_path / "data"
    assert config.rules_file == tmp_path / "rules.toml"
    assert config.language == "en"


def test_the_database_lives_in_the_data_dir(tmp_path: Path) -> None:
    config = load_config(config_file(tmp_path, f"data_dir = '{tmp_path}'"))
    assert config.db_path == tmp_path / "till.sqlite"


def test_a_home_relative_path_is_expanded(tmp_path: Path) -> None:
    config = load_config(config_file(tmp_path, 'data_dir = "~/pos"'))
    assert config.data_dir == Path.home() / "pos"


def test_a_relative_path_is_the_config_files_folders_not_the_working_folders(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``data_dir = "data"``: a till started from a shortcut, a scheduled close-day (Windows
    starts it in System32) or another shell must all find the same database, the one beside
    the config file — not a new empty till wherever the program was started."""
    cfg = tmp_path / "conf" / "config.toml"
    cfg.parent.mkdir()
    cfg.write_text('data_dir = "data"\nbackup_dir = "../copies"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    loaded = load_config(cfg)
    assert loaded.data_dir == tmp_path / "conf" / "data"
    assert loaded.backup_dir == tmp_path / "conf" / ".." / "copies"



@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_the_supported_languages_are_accepted(tmp_path: Path, language: str) -> None:
    assert load_config(config_file(tmp_path, f'language = "{language}"')).language == language


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('language = "fr"', "language"),
        ("data_dir = 5", "data_dir"),
        ('data_dir = "  "', "data_dir"),
        ("rules_file = true", "rules_file"),
        ('colour = "red"', "colour"),
        ("hq_ca = 1", "hq_ca"),
        ("backup_keep_days = 0", "backup_keep_days"),
        ('backup_keep_days = "14"', "backup_keep_days"),
        ("backup_keep_days = true", "backup_keep_days"),
        ("backup_dir = 5", "backup_dir"),
        ('hq_ca = ""', "hq_ca"),
        ('hq_ca = "/nonexistent/chain-ca.pem"', "hq_ca"),
        ('data_dir = "D:/pos\\u0000member"', "data_dir"),  # a NUL reached os.mkdir
        ('integration_folder = "D:/drop\\n"', "integration_folder"),
    ],
)
def test_a_bad_key_is_refused_by_name(tmp_path: Path, text: str, field: str) -> None:
    with pytest.raises(ConfigInvalid) as refused:
        load_config(config_file(tmp_path, text))
    assert refused.value.params["field"] == field
    assert field in refused.value.text()


def test_a_folder_in_place_of_the_file_is_refused_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigInvalid) as refused:
        load_config(tmp_path)  # was IsADirectoryError
    assert str(tmp_path) in refused.value.text()


def test_a_file_that_is_not_toml_is_refused(tmp_path: Path) -> None:
    path = config_file(tmp_path, "language = = en")
    with pytest.raises(ConfigInvalid) as refused:
        load_config(path)
    assert refused.value.params["field"] == str(path)
    assert "TOML" in refused.value.text()


def test_a_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes('language = "中文"'.encode("gbk"))
    with pytest.raises(ConfigInvalid):
        load_config(path)


def test_a_file_saved_as_utf8_with_bom_is_read(tmp_path: Path) -> None:
    """Windows Notepad saves "UTF-8 with BOM"; the BOM is not part of the first key."""
    path = tmp_path / "config.toml"
    path.write_text(f"data_dir = '{tmp_path / '门店数据'}'\nlanguage = \"zh_CN\"\n",
                    encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    config = load_config(path)
    assert config.data_dir == tmp_path / "门店数据"
    assert config.language == "zh_CN"


def test_an_hq_ca_that_is_not_a_certificate_is_refused_at_start(tmp_path: Path) -> None:
    not_pem = tmp_path / "ca.pem"
    not_pem.write_text("not a certificate", encoding="utf-8")
    with pytest.raises(ConfigInvalid) as refused:
        load_config(config_file(tmp_path, f"hq_ca = '{not_pem}'"))
    assert refused.value.params["field"] == "hq_ca"


def test_hq_ca_system_is_taken(tmp_path: Path) -> None:
    assert load_config(config_file(tmp_path, 'hq_ca = "system"')).hq_ca == "system"
